//! The placement members RunTask and CreateService/UpdateService share: `placementStrategy`
//! (at most 5) and `placementConstraints` (at most 10), checked once and returned both as the
//! user gave them (for echoing) and parsed (for placing).

use crate::error::{ApiError, ApiResult};
use crate::parse;
use berth_control::services::PlacementRule;
use berth_ecs_wire as wire;
use berth_scheduler::{PlacementConstraint, PlacementStrategy, MAX_PLACEMENT_CONSTRAINTS, MAX_PLACEMENT_STRATEGIES};

pub fn strategies(items: Option<&Vec<wire::PlacementStrategy>>) -> ApiResult<Vec<(PlacementRule, PlacementStrategy)>> {
    let items = parse::bounded(items, MAX_PLACEMENT_STRATEGIES, "placementStrategy", false)?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let kind = item.r#type.map(|kind| kind.as_str()).unwrap_or_default();
            let parsed = PlacementStrategy::from_wire(kind, item.field.as_deref())
                .map_err(|error| ApiError::invalid_parameter(format!("placementStrategy[{index}]: {error}")))?;
            Ok(((kind.to_string(), item.field.clone()), parsed))
        })
        .collect()
}

pub fn constraints(
    items: Option<&Vec<wire::PlacementConstraint>>,
) -> ApiResult<Vec<(PlacementRule, PlacementConstraint)>> {
    let items = parse::bounded(items, MAX_PLACEMENT_CONSTRAINTS, "placementConstraints", false)?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let kind = item.r#type.map(|kind| kind.as_str()).unwrap_or_default();
            let parsed = PlacementConstraint::from_wire(kind, item.expression.as_deref())
                .map_err(|error| ApiError::invalid_parameter(format!("placementConstraints[{index}]: {error}")))?;
            Ok(((kind.to_string(), item.expression.clone()), parsed))
        })
        .collect()
}
