//! Checking the model's `required` members, which serde alone cannot do because every generated
//! member is an `Option` (the same shape serves requests and responses).

use std::collections::BTreeMap;

/// Implemented by every generated structure; lists and maps recurse into their elements.
pub trait CheckRequired {
    /// Returns the dotted path of the first missing required member, if any.
    fn check_required(&self, path: &str) -> Result<(), String>;
}

impl<T: CheckRequired> CheckRequired for Vec<T> {
    fn check_required(&self, path: &str) -> Result<(), String> {
        for (index, item) in self.iter().enumerate() {
            item.check_required(&format!("{path}[{index}]"))?;
        }
        Ok(())
    }
}

impl<T: CheckRequired> CheckRequired for BTreeMap<String, T> {
    fn check_required(&self, path: &str) -> Result<(), String> {
        for (key, item) in self {
            item.check_required(&format!("{path}.{key}"))?;
        }
        Ok(())
    }
}

/// `parent.member`, or just `member` at the top level.
pub fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}
