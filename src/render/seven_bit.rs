//! The `7bit` transfer encoding of a message part (RFC 2045, section 2.7): a part that is
//! plain ASCII in lines of at most 998 characters travels as it is, with CRLF line breaks,
//! instead of quoted-printable. That is smaller (no `=3D` for every `=` of the HTML's inline
//! styles, no soft breaks), readable in the raw message, and costs one copy. Non-ASCII text
//! stays quoted-printable rather than becoming HTML character references, which spam filters
//! read as obfuscation. A part that holds the text of the MIME boundary family (`=_t2t_`) is
//! refused, so it goes quoted-printable, where every `=` is encoded and no line can end the
//! part early.

use memchr::memmem;

/// Longest line RFC 5322 allows, without its CRLF.
const MAX_LINE: usize = 998;

/// `body` as a `7bit` part (CRLF line breaks), or `None` when it must be quoted-printable: a
/// byte outside ASCII, a NUL, a CR that does not start a line break, a line longer than 998
/// characters, or the text `=_t2t_`.
pub fn encode(body: &str) -> Option<Vec<u8>> {
    let bytes = body.as_bytes();
    if !bytes.is_ascii() || memchr::memchr(0, bytes).is_some() {
        return None;
    }
    if memmem::find(bytes, b"=_t2t_").is_some() {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32 + 2);
    let mut start = 0;
    loop {
        let end = memchr::memchr(b'\n', &bytes[start..]).map(|i| start + i);
        let line = &bytes[start..end.unwrap_or(bytes.len())];
        let line = match end {
            Some(_) => line.strip_suffix(b"\r").unwrap_or(line),
            None => line,
        };
        if line.len() > MAX_LINE || memchr::memchr(b'\r', line).is_some() {
            return None;
        }
        out.extend_from_slice(line);
        match end {
            Some(end) => {
                out.extend_from_slice(b"\r\n");
                start = end + 1;
            }
            None => return Some(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_lines_are_copied_with_crlf() {
        assert_eq!(encode("a=b\nc\r\nd").unwrap(), b"a=b\r\nc\r\nd");
        assert_eq!(encode("").unwrap(), b"");
        assert_eq!(encode("x\n").unwrap(), b"x\r\n");
    }

    #[test]
    fn what_7bit_cannot_carry_goes_quoted_printable() {
        assert!(encode("Zo\u{eb}").is_none());
        assert!(encode("lone\rcr").is_none());
        assert!(encode("nul\0").is_none());
        assert!(encode(&"x".repeat(999)).is_none());
        assert!(encode(&"x".repeat(998)).is_some());
        assert!(encode("hello\n--=_t2t_0123--\n").is_none());
    }
}
