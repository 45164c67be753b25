//! ECS takes an exec's `command` as one string; Docker runs an argv. [`split`] turns the string
//! into words the way a POSIX shell would quote them (whitespace separates, `'…'` is literal,
//! `"…"` and a bare backslash escape), without running a shell — as ECS Exec does, pipes and
//! redirections need an explicit `sh -c`. [`join`] quotes an argv so that `split` returns it.
//!
//! Invariant: `split(&join(words)) == words` for every argv of non-empty words.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("the command is empty")]
    Empty,
    #[error("the command has an unterminated {0} quote")]
    Unterminated(&'static str),
}

pub fn split(command: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut characters = command.chars();
    while let Some(character) = characters.next() {
        match character {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match characters.next() {
                        Some('\'') => break,
                        Some(other) => current.push(other),
                        None => return Err(SplitError::Unterminated("single")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match characters.next() {
                        Some('"') => break,
                        Some('\\') => match characters.next() {
                            Some(escaped @ ('"' | '\\' | '$' | '`')) => current.push(escaped),
                            Some(other) => {
                                current.push('\\');
                                current.push(other);
                            }
                            None => return Err(SplitError::Unterminated("double")),
                        },
                        Some(other) => current.push(other),
                        None => return Err(SplitError::Unterminated("double")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(escaped) = characters.next() {
                    current.push(escaped);
                }
            }
            other => {
                in_word = true;
                current.push(other);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words.iter().map(|word| quote(word.as_ref())).collect::<Vec<_>>().join(" ")
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|character| character.is_ascii_alphanumeric() || "_./=:,@%+-".contains(character));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_rules() {
        assert_eq!(split("ls -l /tmp").unwrap(), ["ls", "-l", "/tmp"]);
        assert_eq!(split("  sh -c 'echo hi; exit 3' ").unwrap(), ["sh", "-c", "echo hi; exit 3"]);
        assert_eq!(split(r#"echo "a \"b\" $x" c\ d"#).unwrap(), ["echo", "a \"b\" $x", "c d"]);
        assert_eq!(split("echo ''").unwrap(), ["echo", ""]);
        assert_eq!(split("   "), Err(SplitError::Empty));
        assert_eq!(split("echo 'oops"), Err(SplitError::Unterminated("single")));
        assert_eq!(split("echo \"oops"), Err(SplitError::Unterminated("double")));
    }

    #[test]
    fn join_then_split_gives_the_words_back() {
        let argv = ["sh", "-c", "echo it's $HOME; exit 3", "a b", "\"q\"", "tab\there", "plain-word_1.txt"];
        assert_eq!(split(&join(&argv)).unwrap(), argv);
    }
}
