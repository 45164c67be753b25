//! ECS's naming rule, shared by families, container names and volume names: 1 to 255 ASCII
//! letters, digits, hyphens and underscores.

pub(crate) const MAX_NAME_LENGTH: usize = 255;

pub(crate) fn is_ecs_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_NAME_LENGTH
        && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ecs_names_only() {
        assert!(is_ecs_name("web_1-a"));
        assert!(is_ecs_name(&"a".repeat(255)));
        assert!(!is_ecs_name(&"a".repeat(256)));
        assert!(!is_ecs_name(""));
        assert!(!is_ecs_name("web.1"));
        assert!(!is_ecs_name("wéb"));
    }
}
