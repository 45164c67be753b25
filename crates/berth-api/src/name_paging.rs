//! Paging by name, as CloudWatch Logs and EventBridge list: the token is the name (or id) of
//! the last item of the previous page, so a page stays right when items come and go between
//! calls. Each service words its own refusals.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    /// The limit given is outside 1..=max.
    Limit(i32),
    /// The token names no item.
    Token,
}

/// The page of `items` (in their order) after the item whose `key` is `token`, of at most
/// `limit` items (`max` when not given), and the token of the next page when there is more.
pub fn by_name<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &str,
    token: Option<String>,
    limit: Option<i32>,
    max: usize,
) -> Result<(Vec<T>, Option<String>), PageError> {
    let limit = match limit {
        None => max,
        Some(limit) if limit >= 1 && limit as usize <= max => limit as usize,
        Some(limit) => return Err(PageError::Limit(limit)),
    };
    let start = match &token {
        Some(token) => {
            items.iter().position(|item| key(item) == token).map(|index| index + 1).ok_or(PageError::Token)?
        }
        None => 0,
    };
    let more = items.len() > start + limit;
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = if more { page.last().map(|item| key(item).to_string()) } else { None };
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_last_name() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let (first, next) = by_name(names.clone(), String::as_str, None, Some(2), 50).unwrap();
        assert_eq!((first.len(), next.as_deref()), (2, Some("b")));
        let (rest, next) = by_name(names.clone(), String::as_str, next, Some(2), 50).unwrap();
        assert_eq!((rest, next), (vec!["c".to_string()], None));
        assert_eq!(by_name(names.clone(), String::as_str, None, Some(51), 50).unwrap_err(), PageError::Limit(51));
        assert_eq!(by_name(names, String::as_str, Some("z".into()), None, 50).unwrap_err(), PageError::Token);
    }
}
