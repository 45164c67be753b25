//! CloudWatch's operations as Berth's server answers them. No metric store exists yet, so each
//! operation — whose input the dispatcher has already decoded and checked — says plainly that
//! it is not served yet. When the store lands (a CloudWatch state in `berth-control`), each
//! method here parses its input into domain values and calls it, as `logs/` does for
//! CloudWatch Logs.

use super::error::{CloudWatchError, CloudWatchResult};
use super::operations::CloudWatchOperations;
use crate::Api;
use berth_cloudwatch_wire::*;

fn not_served_yet<T>(operation: &str) -> CloudWatchResult<T> {
    Err(CloudWatchError::not_served_yet(operation))
}

impl CloudWatchOperations for Api {
    async fn put_metric_data(&self, _input: PutMetricDataInput) -> CloudWatchResult<()> {
        not_served_yet("PutMetricData")
    }

    async fn get_metric_data(&self, _input: GetMetricDataInput) -> CloudWatchResult<GetMetricDataOutput> {
        not_served_yet("GetMetricData")
    }

    async fn get_metric_statistics(
        &self,
        _input: GetMetricStatisticsInput,
    ) -> CloudWatchResult<GetMetricStatisticsOutput> {
        not_served_yet("GetMetricStatistics")
    }

    async fn list_metrics(&self, _input: ListMetricsInput) -> CloudWatchResult<ListMetricsOutput> {
        not_served_yet("ListMetrics")
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
