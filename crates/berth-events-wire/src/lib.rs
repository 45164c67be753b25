//! The EventBridge wire format (AWS JSON 1.1, `X-Amz-Target: AWSEvents.<Op>`): the request and
//! response shapes of the rule, target and event operations Berth serves, their error codes and
//! target prefix, generated from botocore's model (`tools/gen_wire.py events`).
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
        let error = decode_request::<PutTargetsRequest>(br#"{"Rule":"r"}"#).unwrap_err();
        assert_eq!(error.message, "Missing required parameter: Targets");
    }

    #[test]
    fn target_prefix_and_error_codes_come_from_the_model() {
        assert_eq!(TARGET_PREFIX, "AWSEvents.");
        assert_eq!(ErrorCode::InvalidEventPatternException.code(), "InvalidEventPatternException");
        assert!(ALL_OPERATIONS.contains(&"PutEvents"));
    }
}
