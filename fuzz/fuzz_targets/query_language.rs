//! Fuzzes the cluster query language: `memberOf` expressions and ListContainerInstances'
//! `filter` reach `Expression::parse` as free text from any API caller, so no input may panic
//! the parser or make evaluation of a parsed expression panic.
//!
//! Beyond "no panic", it checks two properties a parser bug would break silently:
//! - the text an expression renders (`Display`) parses again to an equal expression that
//!   answers the same on every instance, since stored constraints are re-parsed from it;
//! - `not (E)` parses whenever `E` does and answers the opposite on every instance, so
//!   grouping, precedence and negation agree with evaluation.
//!
//! The instances are fixed and small: one with attributes, groups and an agent version, one
//! with nothing, and one with unusual values (negative registration time, a value-less
//! attribute, a non-numeric agent version).

#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use berth_scheduler::{Expression, InstanceView, MAX_EXPRESSION_CHARACTERS};
use berth_types::{ContainerInstanceStatus, Resources};
use libfuzzer_sys::fuzz_target;

fn instance(
    id: &str,
    attributes: &[(&str, Option<&str>)],
    agent_version: Option<&str>,
    registered_at_epoch_ms: i64,
    task_groups: &[(&str, u32)],
) -> InstanceView {
    InstanceView {
        id: id.to_string(),
        status: ContainerInstanceStatus::Active,
        agent_connected: !task_groups.is_empty(),
        remaining: Resources::default(),
        attributes: attributes
            .iter()
            .map(|(name, value)| (name.to_string(), value.map(str::to_string)))
            .collect::<BTreeMap<_, _>>(),
        ec2_instance_id: format!("i-{id}"),
        agent_version: agent_version.map(str::to_string),
        registered_at_epoch_ms,
        running_tasks_count: task_groups.iter().map(|(_, count)| count).sum(),
        task_groups: task_groups.iter().map(|(group, count)| (group.to_string(), *count)).collect(),
        capacity_provider: None,
    }
}

fn instances() -> &'static [InstanceView] {
    static INSTANCES: OnceLock<Vec<InstanceView>> = OnceLock::new();
    INSTANCES.get_or_init(|| {
        vec![
            instance(
                "0123456789abcdef",
                &[
                    ("ecs.instance-type", Some("t2.micro")),
                    ("ecs.availability-zone", Some("us-east-1a")),
                    ("stack", Some("prod")),
                    ("rank", Some("10")),
                ],
                Some("1.80.0"),
                1_529_360_908_000,
                &[("service:web", 2), ("family:batch", 1)],
            ),
            instance("empty", &[], None, 0, &[]),
            instance(
                "odd",
                &[("flag", None), ("rank", Some("-2.5")), ("name", Some("ünïcode value"))],
                Some("v1.x"),
                -86_400_001,
                &[("service:web", 0), ("", 1)],
            ),
        ]
    })
}

fuzz_target!(|text: &str| {
    let Ok(expression) = Expression::parse(text) else {
        return;
    };
    let answers: Vec<bool> = instances().iter().map(|instance| expression.matches(instance)).collect();

    let rendered = expression.to_string();
    let reparsed = Expression::parse(&rendered)
        .unwrap_or_else(|error| panic!("{rendered:?} was accepted but its rendering is refused: {error}"));
    assert_eq!(reparsed, expression);
    assert_eq!(reparsed.depends_on_placed_tasks(), expression.depends_on_placed_tasks());
    for (instance, answer) in instances().iter().zip(&answers) {
        assert_eq!(reparsed.matches(instance), *answer, "re-parsed {rendered:?} on {}", instance.id);
    }

    let negated_text = format!("not ({text})");
    if negated_text.chars().count() <= MAX_EXPRESSION_CHARACTERS {
        let negated = Expression::parse(&negated_text)
            .unwrap_or_else(|error| panic!("{text:?} parses but {negated_text:?} does not: {error}"));
        for (instance, answer) in instances().iter().zip(&answers) {
            assert_eq!(negated.matches(instance), !answer, "{negated_text:?} on {}", instance.id);
        }
    }
});
