//! `awslogs-datetime-format`: the strftime specifiers Docker's awslogs driver documents, turned
//! into a regular expression that matches a timestamp of that format. As in Docker, the text
//! between specifiers is itself regular-expression syntax (Docker's own example escapes its
//! brackets: `\[%b %d, %Y %H:%M:%S\]`).

/// The expression for one specifier's character (after the `%`).
fn specifier(character: char) -> Option<&'static str> {
    Some(match character {
        'a' => "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)",
        'A' => "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)",
        'w' => "[0-6]",
        'd' => "(?:0[1-9]|[12][0-9]|3[01])",
        'e' => "(?: [1-9]|[12][0-9]|3[01])",
        'b' => "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)",
        'B' => "(?:January|February|March|April|May|June|July|August|September|October|November|December)",
        'm' => "(?:0[1-9]|1[0-2])",
        'Y' => r"\d{4}",
        'y' => r"\d{2}",
        'H' => "(?:[01][0-9]|2[0-3])",
        'I' => "(?:0[0-9]|1[0-2])",
        'p' => "[AP]M",
        'M' => "[0-5][0-9]",
        'S' => "[0-5][0-9]",
        'f' => r"\d{6}",
        'L' => r"\.\d{3}",
        'z' => r"[+-]\d{4}",
        'Z' => "[A-Z]{1,4}T",
        'j' => "(?:00[1-9]|0[1-9][0-9]|[12][0-9][0-9]|3[0-5][0-9]|36[0-6])",
        '%' => "%",
        _ => return None,
    })
}

/// The regular expression (not anchored) for `format`, or why it cannot be one.
pub fn to_regex(format: &str) -> Result<String, String> {
    let mut pattern = String::with_capacity(format.len() * 4);
    let mut characters = format.chars();
    while let Some(character) = characters.next() {
        if character != '%' {
            pattern.push(character);
            continue;
        }
        match characters.next() {
            Some(next) => match specifier(next) {
                Some(expression) => pattern.push_str(expression),
                None => return Err(format!("unsupported strftime specifier %{next}")),
            },
            None => return Err("the format ends in a lone %".to_string()),
        }
    }
    Ok(pattern)
}

#[cfg(test)]
mod tests {
    use super::to_regex;
    use regex::Regex;

    fn matches(format: &str, line: &str) -> bool {
        Regex::new(&format!("^(?:{})", to_regex(format).unwrap())).unwrap().is_match(line)
    }

    #[test]
    fn documented_formats_match_their_timestamps() {
        assert!(matches(r"\[%b %d, %Y %H:%M:%S\]", "[May 01, 2017 19:00:01] A message"));
        assert!(!matches(r"\[%b %d, %Y %H:%M:%S\]", "[May 41, 2017 19:00:01] A message"));
        assert!(matches("%Y-%m-%dT%H:%M:%S%z", "2024-02-29T23:59:59+0100 boot"));
        assert!(matches("%y/%m/%d %I:%M:%S %p", "24/02/29 11:59:59 PM x"));
        assert!(matches("%a %A %B %e %j", "Thu Thursday February  9 060"));
        assert!(matches("%H:%M:%S%L %Z", "10:00:00.123 UTC"));
        assert!(matches("%H:%M:%S.%f 100%%", "10:00:00.123456 100%"));
        assert!(!matches("%Y-%m-%d", "    at java.lang.Thread.run"));
    }

    #[test]
    fn unknown_specifiers_are_refused() {
        assert!(to_regex("%Q").unwrap_err().contains("%Q"));
        assert!(to_regex("100%").is_err());
    }
}
