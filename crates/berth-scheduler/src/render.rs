//! Placements as plain text, one line per copy, for snapshot tests and debugging:
//!
//! ```text
//! copy 1: i-2
//! copy 2: unplaceable (i-1 RESOURCE:MEMORY, i-2 AGENT)
//! ```
//!
//! Invariant: the text depends only on the instances' ids and the placements.

use std::fmt::Write;

use crate::engine::Placement;
use crate::model::InstanceView;

pub fn render_placements(instances: &[InstanceView], placements: &[Placement]) -> String {
    let mut text = String::new();
    for (copy, placement) in placements.iter().enumerate() {
        let number = copy + 1;
        match placement {
            Placement::Placed(index) => {
                let _ = writeln!(text, "copy {number}: {}", instances[*index].id);
            }
            Placement::Unplaceable(rejections) => {
                let reasons: Vec<String> = rejections
                    .iter()
                    .map(|(index, rejection)| format!("{} {}", instances[*index].id, rejection.reason()))
                    .collect();
                let _ = writeln!(text, "copy {number}: unplaceable ({})", reasons.join(", "));
            }
        }
    }
    text
}
