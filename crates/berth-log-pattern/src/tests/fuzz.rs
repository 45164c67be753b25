//! Odd input never panics: a seeded generator feeds parse and matches a few thousand strings
//! built from pattern syntax, random bytes and valid-looking fragments.

use crate::FilterPattern;

/// xorshift64*: deterministic, so a failure reproduces from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "{", "}", "[", "]", "(", ")", "$", ".", "$.a", "$.b[0]", "[*]", ".*", "=", "!=", "<", ">", "<=", ">=", "==", "&&",
    "||", "&", "|", "\"", "\\", "%", "*", "?", "-", "...", ",", " ", "  ", "\t", "\n", "IS", "NULL", "TRUE", "FALSE",
    "NOT", "EXISTS", "1", "-2.5e3", "1e", "ERROR", "日本", "é", "\u{0}", "%a|b%", "\"x y\"", "[0]",
];

fn random_string(rng: &mut Rng) -> String {
    let mut s = String::new();
    let len = rng.below(24);
    for _ in 0..len {
        match rng.below(4) {
            0 => {
                // Raw bytes, made valid UTF-8 the lossy way so odd code points appear too.
                let bytes: Vec<u8> = (0..rng.below(6)).map(|_| rng.next() as u8).collect();
                s.push_str(&String::from_utf8_lossy(&bytes));
            }
            _ => s.push_str(PIECES[rng.below(PIECES.len())]),
        }
    }
    s
}

#[test]
fn random_patterns_and_events_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let events = [
        "",
        "ERROR a b c",
        r#"{"a": 1, "b": [1, {"c": null}], "d": "x y"}"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET / HTTP/1.0" 200 1534"#,
        "[unclosed \"quote",
        "日本 é \u{0}",
    ];
    let mut parsed = 0;
    for round in 0..3000 {
        let text = random_string(&mut rng);
        // Patterns that start like each kind, so every parser sees the noise.
        let text = match round % 4 {
            0 => format!("{{{text}"),
            1 => format!("[{text}"),
            2 => format!("%{text}"),
            _ => text,
        };
        let Ok(p) = FilterPattern::parse(&text) else { continue };
        parsed += 1;
        for event in events {
            let _ = p.matches(event);
        }
        let _ = p.matches(&random_string(&mut rng));
    }
    // The generator must reach the matchers, not only the error paths.
    assert!(parsed > 300, "only {parsed} random patterns parsed");
}

#[test]
fn random_events_against_fixed_patterns_never_panic() {
    let patterns =
        ["ERROR ?WARN -x", "%a|b%", "{ $.a = 1 || $.b[*].c IS NULL }", "[a, ..., b = 1* || b > 3, ...]", "[a, b, c]"];
    let patterns: Vec<FilterPattern> = patterns.iter().filter_map(|p| FilterPattern::parse(p).ok()).collect();
    assert_eq!(patterns.len(), 5);
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let event = random_string(&mut rng);
        for p in &patterns {
            let _ = p.matches(&event);
        }
    }
}
