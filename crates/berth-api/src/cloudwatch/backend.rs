//! CloudWatch's operations as Berth's server answers them: metric data through the control
//! plane's metric store (`metrics`), alarms and their tags through its alarm records
//! (`alarms`).

use super::alarms;
use super::error::CloudWatchResult;
use super::metrics;
use super::operations::CloudWatchOperations;
use crate::Api;
use berth_cloudwatch_wire::*;

impl CloudWatchOperations for Api {
    async fn put_metric_data(&self, input: PutMetricDataInput) -> CloudWatchResult<()> {
        metrics::put_metric_data(self, input).await
    }

    async fn get_metric_data(&self, input: GetMetricDataInput) -> CloudWatchResult<GetMetricDataOutput> {
        metrics::get_metric_data(self, input).await
    }

    async fn get_metric_statistics(
        &self,
        input: GetMetricStatisticsInput,
    ) -> CloudWatchResult<GetMetricStatisticsOutput> {
        metrics::get_metric_statistics(self, input).await
    }

    async fn list_metrics(&self, input: ListMetricsInput) -> CloudWatchResult<ListMetricsOutput> {
        metrics::list_metrics(self, input).await
    }

    async fn put_metric_alarm(&self, input: PutMetricAlarmInput) -> CloudWatchResult<()> {
        alarms::put_metric_alarm(self, input).await
    }

    async fn describe_alarms(&self, input: DescribeAlarmsInput) -> CloudWatchResult<DescribeAlarmsOutput> {
        alarms::describe_alarms(self, input)
    }

    async fn describe_alarms_for_metric(
        &self,
        input: DescribeAlarmsForMetricInput,
    ) -> CloudWatchResult<DescribeAlarmsForMetricOutput> {
        alarms::describe_alarms_for_metric(self, input)
    }

    async fn describe_alarm_history(
        &self,
        input: DescribeAlarmHistoryInput,
    ) -> CloudWatchResult<DescribeAlarmHistoryOutput> {
        alarms::describe_alarm_history(self, input)
    }

    async fn set_alarm_state(&self, input: SetAlarmStateInput) -> CloudWatchResult<()> {
        alarms::set_alarm_state(self, input).await
    }

    async fn delete_alarms(&self, input: DeleteAlarmsInput) -> CloudWatchResult<()> {
        alarms::delete_alarms(self, input).await
    }

    async fn enable_alarm_actions(&self, input: EnableAlarmActionsInput) -> CloudWatchResult<()> {
        alarms::set_actions_enabled(self, input.alarm_names, true).await
    }

    async fn disable_alarm_actions(&self, input: DisableAlarmActionsInput) -> CloudWatchResult<()> {
        alarms::set_actions_enabled(self, input.alarm_names, false).await
    }

    async fn tag_resource(&self, input: TagResourceInput) -> CloudWatchResult<TagResourceOutput> {
        alarms::tag_resource(self, input).await
    }

    async fn untag_resource(&self, input: UntagResourceInput) -> CloudWatchResult<UntagResourceOutput> {
        alarms::untag_resource(self, input).await
    }

    async fn list_tags_for_resource(
        &self,
        input: ListTagsForResourceInput,
    ) -> CloudWatchResult<ListTagsForResourceOutput> {
        alarms::list_tags_for_resource(self, input)
    }
}
