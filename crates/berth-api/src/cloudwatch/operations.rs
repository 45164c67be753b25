//! CloudWatch's operations as the edge hands them on: one method per operation Berth decodes,
//! taking the decoded input shape and returning its output shape (`()` where the model has no
//! output) or a [`CloudWatchError`]. The dispatcher (`dispatch`) decodes and encodes; an
//! implementation only answers, so real behaviour — a metric store behind `Api` — is filled in
//! method by method (`backend`), with no change to decoding, routing or errors.

use super::error::CloudWatchResult;
use berth_cloudwatch_wire::*;
use std::future::Future;

pub trait CloudWatchOperations: Sync {
    fn put_metric_data(&self, input: PutMetricDataInput) -> impl Future<Output = CloudWatchResult<()>> + Send;
    fn get_metric_data(
        &self,
        input: GetMetricDataInput,
    ) -> impl Future<Output = CloudWatchResult<GetMetricDataOutput>> + Send;
    fn get_metric_statistics(
        &self,
        input: GetMetricStatisticsInput,
    ) -> impl Future<Output = CloudWatchResult<GetMetricStatisticsOutput>> + Send;
    fn list_metrics(&self, input: ListMetricsInput)
        -> impl Future<Output = CloudWatchResult<ListMetricsOutput>> + Send;
    fn put_metric_alarm(&self, input: PutMetricAlarmInput) -> impl Future<Output = CloudWatchResult<()>> + Send;
    fn describe_alarms(
        &self,
        input: DescribeAlarmsInput,
    ) -> impl Future<Output = CloudWatchResult<DescribeAlarmsOutput>> + Send;
    fn describe_alarms_for_metric(
        &self,
        input: DescribeAlarmsForMetricInput,
    ) -> impl Future<Output = CloudWatchResult<DescribeAlarmsForMetricOutput>> + Send;
    fn describe_alarm_history(
        &self,
        input: DescribeAlarmHistoryInput,
    ) -> impl Future<Output = CloudWatchResult<DescribeAlarmHistoryOutput>> + Send;
    fn set_alarm_state(&self, input: SetAlarmStateInput) -> impl Future<Output = CloudWatchResult<()>> + Send;
    fn delete_alarms(&self, input: DeleteAlarmsInput) -> impl Future<Output = CloudWatchResult<()>> + Send;
    fn enable_alarm_actions(&self, input: EnableAlarmActionsInput)
        -> impl Future<Output = CloudWatchResult<()>> + Send;
    fn disable_alarm_actions(
        &self,
        input: DisableAlarmActionsInput,
    ) -> impl Future<Output = CloudWatchResult<()>> + Send;
    fn tag_resource(&self, input: TagResourceInput)
        -> impl Future<Output = CloudWatchResult<TagResourceOutput>> + Send;
    fn untag_resource(
        &self,
        input: UntagResourceInput,
    ) -> impl Future<Output = CloudWatchResult<UntagResourceOutput>> + Send;
    fn list_tags_for_resource(
        &self,
        input: ListTagsForResourceInput,
    ) -> impl Future<Output = CloudWatchResult<ListTagsForResourceOutput>> + Send;
}
