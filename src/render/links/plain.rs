//! Finds plain URLs in a text: what the pattern
//! `(?i)(?:[a-z][a-z0-9+.-]*://|(?-u:\b)www\.)[^\s<>"'`]+` finds, leftmost first, without a
//! regex. A scheme needs no word boundary before it: `x_https://evil.example/` in a display
//! name is checked like any other link (a mail reader may well link its `https://` part). That pattern starts with a character class, so a regex engine has no literal to skip
//! ahead with and runs its automaton over every byte of every notice (the link check was a
//! tenth of `send`'s CPU time); here memchr jumps from one `://` or `www.` to the next and the
//! scheme is read backwards from there. The tests compare both on random texts.

use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem;

/// The spans of the URLs in `text`, in order, not overlapping.
pub fn spans(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while from < text.len() {
        let scheme = next_scheme(text, from);
        let www = next_www(text, from);
        let (start, body) = match (scheme, www) {
            (Some(a), Some(b)) => {
                if a.0 <= b.0 {
                    a
                } else {
                    b
                }
            }
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        let end = body_end(text, body);
        out.push(start..end);
        from = end;
    }
    out
}

/// The leftmost `scheme://` URL starting at or after `from`: its start and where its body
/// (after `://`) starts.
fn next_scheme(text: &str, from: usize) -> Option<(usize, usize)> {
    static SCHEME_END: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(b"://"));
    let mut at = from;
    while let Some(i) = SCHEME_END.find(&text.as_bytes()[at..]) {
        let colon = at + i;
        let body = colon + 3;
        if body_end(text, body) > body {
            if let Some(start) = scheme_start(text, colon, from) {
                return Some((start, body));
            }
        }
        at = colon + 1;
    }
    None
}

/// The leftmost start of a scheme that ends at `colon`: within the run of scheme characters
/// before it, the first letter, not before `from`.
fn scheme_start(text: &str, colon: usize, from: usize) -> Option<usize> {
    let run_start = text[..colon]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_scheme_char(c))
        .last()
        .map(|(i, _)| i)?;
    text[run_start..colon]
        .char_indices()
        .map(|(i, c)| (run_start + i, c))
        .find(|&(s, c)| s >= from && is_scheme_letter(c))
        .map(|(s, _)| s)
}

/// The leftmost `www.` (any case) at a word boundary at or after `from` with a body after it.
fn next_www(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut at = from;
    while let Some(i) = memchr::memchr2(b'w', b'W', &bytes[at..]) {
        let w = at + i;
        let body = w + 4;
        let is_www = bytes.len() >= body && bytes[w..body].eq_ignore_ascii_case(b"www.");
        if is_www && word_boundary(bytes, w) && body_end(text, body) > body {
            return Some((w, body));
        }
        at = w + 1;
    }
    None
}

/// Where a URL body starting at `from` ends: at whitespace, `<`, `>`, a quote, a backtick, or
/// the end of the text.
fn body_end(text: &str, from: usize) -> usize {
    text[from..]
        .char_indices()
        .find(|&(_, c)| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
        .map_or(text.len(), |(i, _)| from + i)
}

/// `[a-z0-9+.-]` without regard to case, as Unicode case folding has it (KELVIN SIGN folds to
/// `k`, LATIN SMALL LETTER LONG S to `s`).
fn is_scheme_char(c: char) -> bool {
    is_scheme_letter(c) || c.is_ascii_digit() || matches!(c, '+' | '.' | '-')
}

fn is_scheme_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '\u{212A}' | '\u{17F}')
}

/// An ASCII word boundary at byte `i` (`(?-u:\b)`).
fn word_boundary(bytes: &[u8], i: usize) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let before = i > 0 && word(bytes[i - 1]);
    let after = i < bytes.len() && word(bytes[i]);
    before != after
}

#[cfg(test)]
mod tests {
    use rand::prelude::*;
    use regex::Regex;

    use super::*;

    /// The pattern this module stands in for.
    fn oracle(text: &str) -> Vec<Range<usize>> {
        let re = Regex::new(r#"(?i)(?:[a-z][a-z0-9+.-]*://|(?-u:\b)www\.)[^\s<>"'`]+"#).unwrap();
        re.find_iter(text).map(|m| m.range()).collect()
    }

    #[test]
    fn finds_what_the_pattern_finds_in_notices() {
        let text = "Open https://contoso-my.sharepoint.com/personal/a_b, or www.office.com. \
                    See <a href=\"https://x.example/\">x</a> and HTTPS://Y.example/p?q=1 \
                    (or mailto:a@b) ftp://z.example x_http://no www.\twww.ok.example";
        assert_eq!(spans(text), oracle(text));
        let found: Vec<&str> = spans(text).into_iter().map(|s| &text[s]).collect();
        assert_eq!(
            found,
            [
                "https://contoso-my.sharepoint.com/personal/a_b,",
                "www.office.com.",
                "https://x.example/",
                "HTTPS://Y.example/p?q=1",
                "ftp://z.example",
                "http://no",
                "www.ok.example"
            ]
        );
    }

    #[test]
    fn finds_what_the_pattern_finds_in_random_texts() {
        let pieces = [
            "http",
            "://",
            "www.",
            "WWW.",
            "w",
            "s",
            "a",
            "1",
            "_",
            "-",
            "+",
            ".",
            ":",
            "/",
            " ",
            "\t",
            "\u{a0}",
            "<",
            ">",
            "\"",
            "'",
            "`",
            "\u{212A}",
            "\u{17F}",
            "é",
            "x.example",
            ")",
            ",",
        ];
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..20_000 {
            let n = rng.random_range(0..16);
            let text: String = (0..n)
                .map(|_| pieces[rng.random_range(0..pieces.len())])
                .collect();
            assert_eq!(spans(&text), oracle(&text), "{text:?}");
        }
    }
}
