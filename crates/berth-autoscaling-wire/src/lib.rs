//! The Application Auto Scaling wire format (AWS JSON 1.1,
//! `X-Amz-Target: AnyScaleFrontendService.<Op>`): every request and response shape of the
//! model, its error codes and target prefix, generated from botocore's model
//! (`tools/gen_wire.py application-autoscaling`).
//!
//! Decoding (required members, the path of a bad field) and the `{"__type","message"}` error
//! body are JSON 1.1's own and shared with ECS: they are re-exported from `berth-ecs-wire`.
//!
//! Invariant: no logic beyond encoding.

mod shapes;

/// The shared JSON 1.1 `CheckRequired` machinery, under the name the generated code uses.
mod required {
    pub use berth_ecs_wire::required::*;
}

pub use berth_ecs_wire::{decode_request, CheckRequired, DecodeError, ErrorBody};
pub use shapes::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_members_name_the_field() {
        let error = decode_request::<RegisterScalableTargetRequest>(
            br#"{"ServiceNamespace":"ecs","ResourceId":"service/a/b"}"#,
        )
        .unwrap_err();
        assert_eq!(error.message, "Missing required parameter: ScalableDimension");
        let error = decode_request::<PutScalingPolicyRequest>(
            br#"{"PolicyName":"p","ServiceNamespace":"ecs","ResourceId":"r","ScalableDimension":"ecs:service:DesiredCount",
                "StepScalingPolicyConfiguration":{"StepAdjustments":[{"MetricIntervalLowerBound":0}]}}"#,
        )
        .unwrap_err();
        assert!(error.message.contains("ScalingAdjustment"), "{}", error.message);
    }

    #[test]
    fn target_prefix_enums_and_error_codes_come_from_the_model() {
        assert_eq!(TARGET_PREFIX, "AnyScaleFrontendService.");
        assert_eq!(ErrorCode::ObjectNotFoundException.code(), "ObjectNotFoundException");
        assert_eq!(ScalableDimension::EcsServiceDesiredCount.as_str(), "ecs:service:DesiredCount");
        assert!(ALL_OPERATIONS.contains(&"RegisterScalableTarget"));
    }
}
