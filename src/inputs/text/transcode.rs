//! Decoders for the encodings PowerShell's `Out-File` and `Export-Csv` can write that
//! encoding_rs does not know: UTF-32 LE and BE (`-Encoding UTF32`, `BigEndianUTF32`, with a
//! byte order mark) and UTF-7 (`-Encoding UTF7`, no byte order mark). Pure functions on bytes,
//! and a reader that streams them as UTF-8. Like the UTF-16 reader, a damaged file (a code that
//! is no character, bytes missing at the end, an unpaired surrogate in UTF-7) is an error that
//! names the line, never a U+FFFD mailed in someone's name.

use std::io::{self, BufRead, BufReader, Read};

/// Which of the decoders a stream needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Utf32Le,
    Utf32Be,
    Utf7,
}

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
        for c in char::decode_utf16(units.iter().copied()) {
            match c {
                Ok(c) => out.push(c),
                Err(_) => return Err(Damaged { text: out }),
            }
        }
    }
    Ok(out)
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

/// Streams a UTF-32 or UTF-7 file as UTF-8, without the byte order mark.
pub struct Transcoder<R> {
    inner: BufReader<R>,
    kind: Kind,
    out: Vec<u8>,
    pos: usize,
    carry: Vec<u8>,
    started: bool,
    /// Line breaks decoded so far, for the error message.
    lines: u64,
}

impl<R: Read> Transcoder<R> {
    pub fn new(inner: R, kind: Kind) -> Self {
        Transcoder {
            inner: BufReader::with_capacity(64 * 1024, inner),
            kind,
            out: Vec::new(),
            pos: 0,
            carry: Vec::new(),
            started: false,
            lines: 0,
        }
    }

    /// Decodes the next piece into `out`; false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.pos = 0;
        let decoded = match self.kind {
            Kind::Utf7 => {
                let mut line = Vec::new();
                if self.inner.read_until(b'\n', &mut line)? == 0 {
                    return Ok(false);
                }
                decode_utf7(&line)
            }
            Kind::Utf32Le | Kind::Utf32Be => {
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
                    decode_utf32(&self.carry, self.kind == Kind::Utf32Be).map(|(text, used)| {
                        self.carry.drain(..used);
                        text
                    })
                }
            }
        };
        let text = decoded.map_err(|damaged| self.damaged(&damaged.text))?;
        self.lines += count_breaks(&text);
        let text = if self.started {
            text.as_str()
        } else {
            self.started = true;
            text.strip_prefix('\u{FEFF}').unwrap_or(&text)
        };
        self.out.extend_from_slice(text.as_bytes());
        Ok(true)
    }

    /// The error for damage after `before` in the current piece.
    fn damaged(&self, before: &str) -> io::Error {
        let (name, how) = match self.kind {
            Kind::Utf7 => (
                "UTF-7",
                "a byte that is not ASCII, or an unpaired surrogate",
            ),
            Kind::Utf32Le | Kind::Utf32Be => (
                "UTF-32",
                "a code that is no character, or bytes missing at the end",
            ),
        };
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "line {}: the file is {name} but damaged there ({how}); export it again with -Encoding utf8",
                self.lines + count_breaks(before) + 1
            ),
        )
    }
}

/// Line breaks in `text`: LF, and CR not followed by LF.
fn count_breaks(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let crs = memchr::memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1) != Some(&b'\n'))
        .count();
    (memchr::memchr_iter(b'\n', bytes).count() + crs) as u64
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(bytes: &[u8], kind: Kind) -> String {
        let mut s = String::new();
        Transcoder::new(bytes, kind).read_to_string(&mut s).unwrap();
        s
    }

    fn error(bytes: &[u8], kind: Kind) -> String {
        let mut s = String::new();
        let err = Transcoder::new(bytes, kind)
            .read_to_string(&mut s)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        err.to_string()
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
        let message = error(b"+ACI-a+ACI-\r\n+ACI-b\xff+ACI-\r\n", Kind::Utf7);
        assert!(
            message.starts_with("line 2: the file is UTF-7 but damaged"),
            "{message}"
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
        let le: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let be: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        assert_eq!(through(&le, Kind::Utf32Le), "a,é\r\n😀\n");
        assert_eq!(through(&be, Kind::Utf32Be), "a,é\r\n😀\n");
    }

    #[test]
    fn damaged_utf32_is_an_error_naming_the_line() {
        let units =
            |codes: &[u32]| -> Vec<u8> { codes.iter().flat_map(|c| c.to_le_bytes()).collect() };
        let cut = units(&[0xFEFF, 'a' as u32, '\n' as u32, 'b' as u32]);
        let message = error(&cut[..cut.len() - 2], Kind::Utf32Le);
        assert!(
            message.starts_with("line 2: the file is UTF-32 but damaged"),
            "{message}"
        );
        let surrogate = units(&[
            'a' as u32,
            '\r' as u32,
            '\n' as u32,
            'b' as u32,
            '\n' as u32,
            0xD800,
        ]);
        let message = error(&surrogate, Kind::Utf32Le);
        assert!(message.starts_with("line 3: "), "{message}");
        assert!(
            message.contains("export it again with -Encoding utf8"),
            "{message}"
        );
    }

    #[test]
    fn utf7_streams_line_by_line() {
        let text = b"+/v8-+ACI-a+AEA-b.com+ACI-\r\n+ACI-c+AEA-d.com+ACI-";
        assert_eq!(through(text, Kind::Utf7), "\"a@b.com\"\r\n\"c@d.com\"");
    }
}
