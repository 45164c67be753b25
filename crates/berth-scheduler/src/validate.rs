//! Turning the wire's `{type, field}` strategies and `{type, expression}` constraints into
//! model values, and the per-request limits, with messages the edge returns as
//! `InvalidParameterException`.
//!
//! Invariant: every [`PlacementRequest`] that passes [`PlacementRequest::validate`] can be
//! placed without further checks. Wording follows ECS's style; the exact AWS sentences are not
//! published, so these are Berth's.

use crate::model::{BinpackField, PlacementConstraint, PlacementRequest, PlacementStrategy, SpreadField};
use crate::query::{Expression, QueryError};

/// ECS's limits per task or service.
pub const MAX_PLACEMENT_STRATEGIES: usize = 5;
pub const MAX_PLACEMENT_CONSTRAINTS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementRequestError {
    #[error("Invalid placement strategy type: {kind}. Valid types are binpack, random and spread.")]
    UnknownStrategyType { kind: String },
    #[error("A field is required for the {kind} placement strategy.")]
    StrategyFieldMissing { kind: String },
    #[error("Invalid field for the binpack placement strategy: {field}. Valid fields are cpu and memory.")]
    InvalidBinpackField { field: String },
    #[error("Invalid field for the spread placement strategy: {field}. Valid fields are instanceId, host and attribute:<name>.")]
    InvalidSpreadField { field: String },
    #[error("The random placement strategy does not take a field.")]
    RandomWithField,
    #[error("Invalid placement constraint type: {kind}. Valid types are distinctInstance and memberOf.")]
    UnknownConstraintType { kind: String },
    #[error("The distinctInstance placement constraint does not take an expression.")]
    DistinctInstanceWithExpression,
    #[error("An expression is required for the memberOf placement constraint.")]
    MemberOfWithoutExpression,
    #[error("Invalid memberOf placement constraint expression: {source}")]
    InvalidExpression {
        #[source]
        source: QueryError,
    },
    #[error("Too many placement strategies: {count}. The limit is {MAX_PLACEMENT_STRATEGIES}.")]
    TooManyStrategies { count: usize },
    #[error("Too many placement constraints: {count}, counting the task definition's. The limit is {MAX_PLACEMENT_CONSTRAINTS}.")]
    TooManyConstraints { count: usize },
}

impl PlacementStrategy {
    /// Reads a wire strategy: `type` is `binpack|spread|random`; `field` as ECS documents.
    pub fn from_wire(kind: &str, field: Option<&str>) -> Result<Self, PlacementRequestError> {
        let field = field.filter(|field| !field.is_empty());
        match kind {
            "random" => match field {
                None => Ok(PlacementStrategy::Random),
                Some(_) => Err(PlacementRequestError::RandomWithField),
            },
            "binpack" => {
                let field =
                    field.ok_or_else(|| PlacementRequestError::StrategyFieldMissing { kind: kind.to_string() })?;
                if field.eq_ignore_ascii_case("cpu") {
                    Ok(PlacementStrategy::Binpack(BinpackField::Cpu))
                } else if field.eq_ignore_ascii_case("memory") {
                    Ok(PlacementStrategy::Binpack(BinpackField::Memory))
                } else {
                    Err(PlacementRequestError::InvalidBinpackField { field: field.to_string() })
                }
            }
            "spread" => {
                let field =
                    field.ok_or_else(|| PlacementRequestError::StrategyFieldMissing { kind: kind.to_string() })?;
                if field.eq_ignore_ascii_case("instanceId") {
                    return Ok(PlacementStrategy::Spread(SpreadField::InstanceId));
                }
                if field.eq_ignore_ascii_case("host") {
                    return Ok(PlacementStrategy::Spread(SpreadField::Host));
                }
                match field.strip_prefix("attribute:") {
                    Some(name) if !name.is_empty() && !name.contains(char::is_whitespace) => {
                        Ok(PlacementStrategy::Spread(SpreadField::Attribute(name.to_string())))
                    }
                    _ => Err(PlacementRequestError::InvalidSpreadField { field: field.to_string() }),
                }
            }
            other => Err(PlacementRequestError::UnknownStrategyType { kind: other.to_string() }),
        }
    }
}

impl PlacementConstraint {
    /// Reads a wire constraint: `type` is `distinctInstance|memberOf`.
    pub fn from_wire(kind: &str, expression: Option<&str>) -> Result<Self, PlacementRequestError> {
        let expression = expression.filter(|expression| !expression.trim().is_empty());
        match kind {
            "distinctInstance" => match expression {
                None => Ok(PlacementConstraint::DistinctInstance),
                Some(_) => Err(PlacementRequestError::DistinctInstanceWithExpression),
            },
            "memberOf" => {
                let text = expression.ok_or(PlacementRequestError::MemberOfWithoutExpression)?;
                Expression::parse(text)
                    .map(PlacementConstraint::MemberOf)
                    .map_err(|source| PlacementRequestError::InvalidExpression { source })
            }
            other => Err(PlacementRequestError::UnknownConstraintType { kind: other.to_string() }),
        }
    }
}

impl PlacementRequest {
    /// Checks the limits ECS applies to one request.
    pub fn validate(&self) -> Result<(), PlacementRequestError> {
        if self.strategy.len() > MAX_PLACEMENT_STRATEGIES {
            return Err(PlacementRequestError::TooManyStrategies { count: self.strategy.len() });
        }
        if self.constraints.len() > MAX_PLACEMENT_CONSTRAINTS {
            return Err(PlacementRequestError::TooManyConstraints { count: self.constraints.len() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_from_wire() {
        use PlacementStrategy as S;
        assert_eq!(S::from_wire("random", None), Ok(S::Random));
        assert_eq!(S::from_wire("binpack", Some("MEMORY")), Ok(S::Binpack(BinpackField::Memory)));
        assert_eq!(S::from_wire("binpack", Some("cpu")), Ok(S::Binpack(BinpackField::Cpu)));
        assert_eq!(S::from_wire("spread", Some("host")), Ok(S::Spread(SpreadField::Host)));
        assert_eq!(
            S::from_wire("spread", Some("attribute:ecs.availability-zone")),
            Ok(S::Spread(SpreadField::Attribute("ecs.availability-zone".into())))
        );
        assert_eq!(S::from_wire("random", Some("cpu")), Err(PlacementRequestError::RandomWithField));
        assert_eq!(
            S::from_wire("binpack", Some("disk")).unwrap_err().to_string(),
            "Invalid field for the binpack placement strategy: disk. Valid fields are cpu and memory."
        );
        assert!(matches!(
            S::from_wire("spread", Some("attribute:")),
            Err(PlacementRequestError::InvalidSpreadField { .. })
        ));
        assert!(matches!(S::from_wire("spread", None), Err(PlacementRequestError::StrategyFieldMissing { .. })));
        assert!(matches!(S::from_wire("pack", None), Err(PlacementRequestError::UnknownStrategyType { .. })));
    }

    #[test]
    fn constraints_from_wire() {
        use PlacementConstraint as C;
        assert_eq!(C::from_wire("distinctInstance", None), Ok(C::DistinctInstance));
        assert_eq!(
            C::from_wire("distinctInstance", Some("runningTasksCount == 0")),
            Err(PlacementRequestError::DistinctInstanceWithExpression)
        );
        assert_eq!(C::from_wire("memberOf", None), Err(PlacementRequestError::MemberOfWithoutExpression));
        let error = C::from_wire("memberOf", Some("attribute:ecs.instance-type t2.micro")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Invalid memberOf placement constraint expression: position 28: expected an operator after attribute:ecs.instance-type"
        );
        assert!(matches!(C::from_wire("memberOf", Some("task:group == web")), Ok(C::MemberOf(_))));
    }

    #[test]
    fn limits() {
        let mut request = PlacementRequest {
            demand: Default::default(),
            count: 1,
            group: "family:web".into(),
            constraints: vec![PlacementConstraint::DistinctInstance; 10],
            strategy: vec![PlacementStrategy::Random; 5],
            required_attributes: vec![],
        };
        assert_eq!(request.validate(), Ok(()));
        request.constraints.push(PlacementConstraint::DistinctInstance);
        assert_eq!(request.validate(), Err(PlacementRequestError::TooManyConstraints { count: 11 }));
        request.constraints.pop();
        request.strategy.push(PlacementStrategy::Random);
        assert_eq!(request.validate(), Err(PlacementRequestError::TooManyStrategies { count: 6 }));
    }
}
