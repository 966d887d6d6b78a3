//! Decoders for the encodings PowerShell's `Out-File` and `Export-Csv` can write besides UTF-8:
//! UTF-16 LE and BE (`-Encoding Unicode`, `BigEndianUnicode`), UTF-32 LE and BE (`-Encoding
//! UTF32`, `BigEndianUTF32`), all with a byte order mark, and UTF-7 (`-Encoding UTF7`, no byte
//! order mark), which encoding_rs does not know. Pure functions on bytes, and a reader that
//! streams them as UTF-8. A damaged file (a code that is no character, bytes missing at the
//! end, an unpaired surrogate) is an error that names the line, never a U+FFFD mailed in
//! someone's name (a replacing decoder would do that; found by `fuzz_targets/directory.rs`).

use std::io::{self, BufRead, BufReader, Read};

use super::{count_breaks, Encoding};

/// A code that is no character, after `text` (what decoded before it).
#[derive(Debug, PartialEq, Eq)]
pub struct Damaged {
    pub text: String,
}

/// Decodes the complete 4-byte units at the front of `bytes`; returns the text and how many
/// bytes it used (the rest is an incomplete unit to carry over).
pub fn decode_utf32(bytes: &[u8], big_endian: bool) -> Result<(String, usize), Damaged> {
    let mut out = String::with_capacity(bytes.len() / 4);
    let whole = bytes.len() / 4 * 4;
    for unit in bytes[..whole].chunks_exact(4) {
        let unit: [u8; 4] = [unit[0], unit[1], unit[2], unit[3]];
        let code = if big_endian {
            u32::from_be_bytes(unit)
        } else {
            u32::from_le_bytes(unit)
        };
        match char::from_u32(code) {
            Some(c) => out.push(c),
            None => return Err(Damaged { text: out }),
        }
    }
    Ok((out, whole))
}

/// Decodes the complete UTF-16 code units at the front of `bytes`, leaving an odd byte or a
/// high surrogate whose partner is still to come; returns the text and how many bytes it used.
pub fn decode_utf16(bytes: &[u8], big_endian: bool) -> Result<(String, usize), Damaged> {
    let mut units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|u| {
            let unit = [u[0], u[1]];
            if big_endian {
                u16::from_be_bytes(unit)
            } else {
                u16::from_le_bytes(unit)
            }
        })
        .collect();
    if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
        units.pop();
    }
    let mut out = String::with_capacity(units.len());
    push_utf16(&mut out, &units)?;
    Ok((out, units.len() * 2))
}

/// What the start of a file decodes to, up to any damage: enough to guess the separator (the
/// reader reports the damage, with its line).
pub fn decode_head(bytes: &[u8], kind: Encoding) -> String {
    decode_units(bytes, kind).map_or_else(|damaged| damaged.text, |(text, _)| text)
}

/// Decodes the complete units at the front of `bytes` (UTF-7: all of it); returns the text
/// and how many bytes it used.
fn decode_units(bytes: &[u8], kind: Encoding) -> Result<(String, usize), Damaged> {
    match kind {
        Encoding::Utf16Le | Encoding::Utf16Be => decode_utf16(bytes, kind == Encoding::Utf16Be),
        Encoding::Utf7 => decode_utf7(bytes).map(|text| (text, bytes.len())),
        // UTF-32 (UTF-8, plain or with a BOM, is never transcoded).
        _ => decode_utf32(bytes, kind == Encoding::Utf32Be),
    }
}

/// Decodes UTF-7 (RFC 2152): ASCII as itself, `+-` as `+`, and `+<modified base64>[-]` as
/// UTF-16 code units. A base64 run never spans a line end, so lines can be decoded one by one.
pub fn decode_utf7(bytes: &[u8]) -> Result<String, Damaged> {
    let mut out = String::with_capacity(bytes.len());
    let mut units: Vec<u16> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'+' {
            if !b.is_ascii() {
                return Err(Damaged { text: out });
            }
            out.push(char::from(b));
            continue;
        }
        if bytes.get(i) == Some(&b'-') {
            out.push('+');
            i += 1;
            continue;
        }
        units.clear();
        let (mut bits, mut nbits) = (0u32, 0u32);
        while let Some(v) = bytes.get(i).and_then(|c| base64_value(*c)) {
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push((bits >> nbits) as u16);
                bits &= (1 << nbits) - 1;
            }
            i += 1;
        }
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        push_utf16(&mut out, &units)?;
    }
    Ok(out)
}

/// Appends UTF-16 `units` to `out`; an unpaired surrogate is damage after what `out` holds.
fn push_utf16(out: &mut String, units: &[u16]) -> Result<(), Damaged> {
    for c in char::decode_utf16(units.iter().copied()) {
        let Ok(c) = c else {
            return Err(Damaged {
                text: std::mem::take(out),
            });
        };
        out.push(c);
    }
    Ok(())
}

fn base64_value(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// True when ASCII-only bytes carry UTF-7 runs for `@` (`+AEA`) or `"` (`+ACI`), which .NET's
/// UTF-7 encoder writes for every address and every quoted CSV field.
pub fn looks_like_utf7(head: &[u8]) -> bool {
    head.is_ascii()
        && memchr::memmem::find(head, b"+AEA")
            .or_else(|| memchr::memmem::find(head, b"+ACI"))
            .is_some()
}

/// Streams a UTF-16, UTF-32 or UTF-7 file as UTF-8, without the byte order mark.
pub struct Transcoder<R> {
    inner: BufReader<R>,
    kind: Encoding,
    /// The decoded piece being handed out.
    out: io::Cursor<Vec<u8>>,
    carry: Vec<u8>,
    started: bool,
    /// Line breaks decoded so far, for the error message.
    lines: u64,
    /// The text decoded so far ends in CR (a CRLF may be split between two pieces).
    last_cr: bool,
}

impl<R: Read> Transcoder<R> {
    pub fn new(inner: R, kind: Encoding) -> Self {
        Transcoder {
            inner: BufReader::with_capacity(64 * 1024, inner),
            kind,
            out: io::Cursor::default(),
            carry: Vec::new(),
            started: false,
            lines: 0,
            last_cr: false,
        }
    }

    /// Decodes the next piece into `out`; false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.get_mut().clear();
        self.out.set_position(0);
        let decoded = match self.kind {
            Encoding::Utf7 => {
                let mut line = Vec::new();
                if self.inner.read_until(b'\n', &mut line)? == 0 {
                    return Ok(false);
                }
                decode_utf7(&line)
            }
            kind => {
                let chunk = self.inner.fill_buf()?;
                if chunk.is_empty() {
                    if self.carry.is_empty() {
                        return Ok(false);
                    }
                    Err(Damaged {
                        text: String::new(),
                    })
                } else {
                    let n = chunk.len();
                    self.carry.extend_from_slice(chunk);
                    self.inner.consume(n);
                    decode_units(&self.carry, kind).map(|(text, used)| {
                        self.carry.drain(..used);
                        text
                    })
                }
            }
        };
        let text = decoded.map_err(|damaged| self.damaged(&damaged.text))?;
        self.lines += count_breaks(&text, self.last_cr);
        if let Some(&last) = text.as_bytes().last() {
            self.last_cr = last == b'\r';
        }
        // The first piece may be empty (a unit not complete yet): the mark is in a later one.
        let text = if self.started || text.is_empty() {
            text.as_str()
        } else {
            self.started = true;
            text.strip_prefix('\u{FEFF}').unwrap_or(&text)
        };
        self.out.get_mut().extend_from_slice(text.as_bytes());
        Ok(true)
    }

    /// The error for damage after `before` in the current piece.
    fn damaged(&self, before: &str) -> io::Error {
        let powershell = "export it again with -Encoding utf8";
        let (name, how, fix) = match self.kind {
            Encoding::Utf16Le | Encoding::Utf16Be => (
                "UTF-16",
                "an unpaired surrogate, or a byte missing at the end",
                "export it again, or save it from Excel as \"CSV UTF-8 (Comma delimited)\"",
            ),
            Encoding::Utf7 => (
                "UTF-7",
                "a byte that is not ASCII, or an unpaired surrogate",
                powershell,
            ),
            _ => (
                "UTF-32",
                "a code that is no character, or bytes missing at the end",
                powershell,
            ),
        };
        let line = self.lines + count_breaks(before, self.last_cr) + 1;
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("line {line}: the file is {name} but damaged there ({how}); {fix}"),
        )
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out.position() >= self.out.get_ref().len() as u64 {
            if !self.refill()? {
                return Ok(0);
            }
        }
        self.out.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out one byte per read, to cross every chunk boundary.
    struct Trickle(io::Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }

    fn decode(bytes: &[u8], kind: Encoding) -> io::Result<String> {
        let mut out = String::new();
        let trickle = Trickle(io::Cursor::new(bytes.to_vec()));
        Transcoder::new(trickle, kind).read_to_string(&mut out)?;
        Ok(out)
    }

    /// Asserts that `bytes` are refused as damaged with a message that starts with `start`.
    fn damaged(bytes: &[u8], kind: Encoding, start: &str) -> String {
        let err = decode(bytes, kind).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let message = err.to_string();
        assert!(message.starts_with(start), "{message}");
        message
    }

    fn utf32(text: &str, big_endian: bool) -> Vec<u8> {
        let unit = |c: char| match big_endian {
            true => (c as u32).to_be_bytes(),
            false => (c as u32).to_le_bytes(),
        };
        text.chars().flat_map(unit).collect()
    }

    fn le(units: &[u16]) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        bytes
    }

    #[test]
    fn utf7_follows_rfc_2152() {
        let utf7 = |b: &[u8]| decode_utf7(b).unwrap();
        assert_eq!(utf7(b"Hi Mom -+Jjo--!"), "Hi Mom -\u{263A}-!");
        assert_eq!(utf7(b"A+ImIDkQ."), "A\u{2262}\u{0391}.");
        assert_eq!(utf7(b"1 +- 1"), "1 + 1");
        assert_eq!(
            utf7(b"+ACI-ana+AEA-contoso.com+ACI-"),
            "\"ana@contoso.com\""
        );
        assert_eq!(utf7(b"+2D3eAA-"), "\u{1F600}");
    }

    #[test]
    fn damaged_utf7_is_an_error_naming_the_line() {
        assert!(decode_utf7(b"a\xe9").is_err());
        assert!(decode_utf7(b"+2D0-").is_err(), "a lone high surrogate");
        let bytes = b"+ACI-a+ACI-\r\n+ACI-b\xff+ACI-\r\n";
        damaged(
            bytes,
            Encoding::Utf7,
            "line 2: the file is UTF-7 but damaged",
        );
    }

    #[test]
    fn utf7_is_spotted_by_its_at_and_quote_runs() {
        assert!(looks_like_utf7(
            b"+ACI-SourceUserPrincipalName+ACI-,+ACI-MoveState+ACI-\r\n"
        ));
        assert!(looks_like_utf7(b"a+AEA-b.com"));
        assert!(!looks_like_utf7(b"\"a@b.com\",\"Success\""));
        assert!(!looks_like_utf7("+AEA é".as_bytes()));
    }

    #[test]
    fn utf32_streams_in_both_byte_orders_without_bom() {
        let text = "\u{FEFF}a,é\r\n😀\n";
        for (kind, big_endian) in [(Encoding::Utf32Le, false), (Encoding::Utf32Be, true)] {
            let decoded = decode(&utf32(text, big_endian), kind).unwrap();
            assert_eq!(decoded, "a,é\r\n😀\n", "{kind:?}");
        }
    }

    #[test]
    fn damaged_utf32_is_an_error_naming_the_line() {
        let cut = utf32("\u{FEFF}a\nb", false);
        let start = "line 2: the file is UTF-32 but damaged";
        damaged(&cut[..cut.len() - 2], Encoding::Utf32Le, start);
        let mut surrogate = utf32("a\r\nb\n", false);
        surrogate.extend(0xD800u32.to_le_bytes());
        let message = damaged(&surrogate, Encoding::Utf32Le, "line 3: ");
        assert!(
            message.contains("export it again with -Encoding utf8"),
            "{message}"
        );
    }

    #[test]
    fn utf7_streams_line_by_line() {
        let text = b"+/v8-+ACI-a+AEA-b.com+ACI-\r\n+ACI-c+AEA-d.com+ACI-";
        assert_eq!(
            decode(text, Encoding::Utf7).unwrap(),
            "\"a@b.com\"\r\n\"c@d.com\""
        );
    }

    #[test]
    fn valid_text_decodes_across_reads() {
        let text = "User\tZoë 😀\r\nnext";
        let units: Vec<u16> = text.encode_utf16().collect();
        assert_eq!(decode(&le(&units), Encoding::Utf16Le).unwrap(), text);
        let mut be = vec![0xFE, 0xFF];
        be.extend(units.iter().flat_map(|u| u.to_be_bytes()));
        assert_eq!(decode(&be, Encoding::Utf16Be).unwrap(), text);
    }

    #[test]
    fn unpaired_surrogate_is_an_error_with_its_line() {
        // fuzz/regressions/directory/utf16-unpaired-surrogate.csv
        let mut units: Vec<u16> = "a\r\nb\rc\n".encode_utf16().collect();
        units.push(0xD83D);
        units.extend("x".encode_utf16());
        damaged(&le(&units), Encoding::Utf16Le, "line 4: the file is UTF-16");
    }

    #[test]
    fn odd_byte_at_the_end_is_an_error() {
        let mut bytes = le(&"a\nb".encode_utf16().collect::<Vec<_>>());
        bytes.push(b'c');
        damaged(&bytes, Encoding::Utf16Le, "line 2:");
    }
}
