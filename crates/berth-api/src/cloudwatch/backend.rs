//! CloudWatch's operations as Berth's server answers them: metric data through the control
//! plane's metric store (`metrics`). Alarms and tags are decoded but not served yet: each
//! says so plainly rather than pretending to store them.

use super::error::{CloudWatchError, CloudWatchResult};
use super::metrics;
use super::operations::CloudWatchOperations;
use crate::Api;
use berth_cloudwatch_wire::*;

fn not_served_yet<T>(operation: &str) -> CloudWatchResult<T> {
    Err(CloudWatchError::not_served_yet(operation))
}

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

    async fn put_metric_alarm(&self, _input: PutMetricAlarmInput) -> CloudWatchResult<()> {
        not_served_yet("PutMetricAlarm")
    }

    async fn describe_alarms(&self, _input: DescribeAlarmsInput) -> CloudWatchResult<DescribeAlarmsOutput> {
        not_served_yet("DescribeAlarms")
    }

    async fn describe_alarms_for_metric(
        &self,
        _input: DescribeAlarmsForMetricInput,
    ) -> CloudWatchResult<DescribeAlarmsForMetricOutput> {
        not_served_yet("DescribeAlarmsForMetric")
    }

    async fn describe_alarm_history(
        &self,
        _input: DescribeAlarmHistoryInput,
    ) -> CloudWatchResult<DescribeAlarmHistoryOutput> {
        not_served_yet("DescribeAlarmHistory")
    }

    async fn set_alarm_state(&self, _input: SetAlarmStateInput) -> CloudWatchResult<()> {
        not_served_yet("SetAlarmState")
    }

    async fn delete_alarms(&self, _input: DeleteAlarmsInput) -> CloudWatchResult<()> {
        not_served_yet("DeleteAlarms")
    }

    async fn enable_alarm_actions(&self, _input: EnableAlarmActionsInput) -> CloudWatchResult<()> {
        not_served_yet("EnableAlarmActions")
    }

    async fn disable_alarm_actions(&self, _input: DisableAlarmActionsInput) -> CloudWatchResult<()> {
        not_served_yet("DisableAlarmActions")
    }

    async fn tag_resource(&self, _input: TagResourceInput) -> CloudWatchResult<TagResourceOutput> {
        not_served_yet("TagResource")
    }

    async fn untag_resource(&self, _input: UntagResourceInput) -> CloudWatchResult<UntagResourceOutput> {
        not_served_yet("UntagResource")
    }

    async fn list_tags_for_resource(
        &self,
        _input: ListTagsForResourceInput,
    ) -> CloudWatchResult<ListTagsForResourceOutput> {
        not_served_yet("ListTagsForResource")
    }
}
