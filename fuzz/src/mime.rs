//! Checks of a complete RFC 5322 message as bytes, for the `render` target: the header block is
//! made of well-formed lines, every line fits SMTP's limit, and the header names are exactly
//! the expected ones.

/// The headers every notice has, each exactly once, in any order.
pub const NOTICE_HEADERS: [&str; 11] = [
    "from",
    "reply-to",
    "to",
    "subject",
    "message-id",
    "date",
    "auto-submitted",
    "x-auto-response-suppress",
    "content-language",
    "mime-version",
    "content-type",
];

/// The headers of each body part.
pub const PART_HEADERS: [&str; 2] = ["content-type", "content-transfer-encoding"];

/// RFC 5322 2.1.1: no line longer than 998 characters (without its CRLF).
pub const MAX_LINE: usize = 998;

/// The header block (without the blank line) and the body of a message.
pub fn split(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&bytes[..i], &bytes[i + 4..]),
        None => panic!("no blank line after the headers"),
    }
}

/// Every CR is followed by LF and every LF follows a CR, and no line is too long.
pub fn check_line_ends(bytes: &[u8], what: &str) {
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(
                bytes.get(i + 1),
                Some(&b'\n'),
                "bare CR in the {what} at {i}"
            ),
            b'\n' => assert!(
                i > 0 && bytes[i - 1] == b'\r',
                "bare LF in the {what} at {i}"
            ),
            _ => {}
        }
    }
    for line in bytes.split(|b| *b == b'\n') {
        assert!(
            line.len() <= MAX_LINE + 1,
            "a line of {} bytes in the {what}",
            line.len()
        );
    }
}

/// The names of the header fields of a header block (lower case), in order: every line that is
/// not a continuation (starting with a space or tab) is `name: value` with a printable ASCII
/// name.
pub fn header_names(block: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(block).expect("headers are UTF-8");
    let mut names = Vec::new();
    for line in text.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            assert!(!names.is_empty(), "a continuation line first: {line:?}");
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            panic!("a header line without a colon: {line:?}");
        };
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()),
            "header name {name:?}"
        );
        names.push(name.to_ascii_lowercase());
    }
    names
}

/// The names, sorted, must be exactly `expected`, each once.
pub fn check_header_set(names: &[String], expected: &[&str], what: &str) {
    let mut got: Vec<&str> = names.iter().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = expected.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "the {what} headers");
}

/// Every header field but `except` (its name in lower case) is ASCII.
pub fn check_ascii_but(block: &[u8], except: &str) {
    let text = std::str::from_utf8(block).expect("headers are UTF-8");
    let mut name = String::new();
    for line in text.split("\r\n") {
        if !line.starts_with([' ', '\t']) {
            name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        }
        assert!(
            name == except || line.is_ascii(),
            "8-bit header line {line:?}"
        );
    }
}
