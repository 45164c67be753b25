//! One CloudWatch request: the operation's input decoded in the request's protocol (so a bad
//! input is refused naming its field before anything runs), handed to [`CloudWatchOperations`],
//! and the output encoded in the same protocol.

use super::error::{CloudWatchError, CloudWatchResult};
use super::operations::CloudWatchOperations;
use super::protocol::Request;
use axum::response::Response;
use berth_cloudwatch_wire::ALL_OPERATIONS;

pub async fn dispatch<S: CloudWatchOperations>(
    service: &S,
    request: &Request<'_>,
    operation: &str,
    request_id: &str,
) -> CloudWatchResult<Response> {
    let protocol = request.protocol();
    macro_rules! serve {
        ($method:ident) => {{
            let output = service.$method(request.decode()?).await?;
            protocol.answer(operation, &output, request_id)
        }};
        ($method:ident, no output) => {{
            service.$method(request.decode()?).await?;
            protocol.empty_answer(operation, request_id)
        }};
    }
    Ok(match operation {
        "PutMetricData" => serve!(put_metric_data, no output),
        "GetMetricData" => serve!(get_metric_data),
        "GetMetricStatistics" => serve!(get_metric_statistics),
        "ListMetrics" => serve!(list_metrics),
        "PutMetricAlarm" => serve!(put_metric_alarm, no output),
        "DescribeAlarms" => serve!(describe_alarms),
        "DescribeAlarmsForMetric" => serve!(describe_alarms_for_metric),
        "DescribeAlarmHistory" => serve!(describe_alarm_history),
        "SetAlarmState" => serve!(set_alarm_state, no output),
        "DeleteAlarms" => serve!(delete_alarms, no output),
        "EnableAlarmActions" => serve!(enable_alarm_actions, no output),
        "DisableAlarmActions" => serve!(disable_alarm_actions, no output),
        "TagResource" => serve!(tag_resource),
        "UntagResource" => serve!(untag_resource),
        "ListTagsForResource" => serve!(list_tags_for_resource),
        known if ALL_OPERATIONS.contains(&known) => return Err(CloudWatchError::unsupported(known)),
        unknown => return Err(CloudWatchError::unknown_operation(unknown)),
    })
}
