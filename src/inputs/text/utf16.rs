//! UTF-16 to UTF-8 transcoding that refuses a damaged file (an unpaired surrogate, an odd byte
//! at the end) with the line the damage is on. A replacing decoder would put U+FFFD into a
//! display name and mail it without a word (found by `fuzz/fuzz_targets/directory.rs`).

use std::io::{self, Read};

use encoding_rs::{Decoder, DecoderResult};

/// Bytes of UTF-16 read from the file at a time.
const CHUNK: usize = 64 * 1024;

/// Reads UTF-16 (LE or BE, byte order mark removed) from `inner` and yields UTF-8.
pub(super) struct Utf16Reader<R> {
    inner: R,
    decoder: Decoder,
    input: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    output: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    finished: bool,
    /// Line breaks (LF, CRLF, CR alone) decoded so far, for the error message.
    breaks: u64,
    last_cr: bool,
}

impl<R: Read> Utf16Reader<R> {
    pub(super) fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        Utf16Reader {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; CHUNK].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            // Two bytes of UTF-16 never make more than three of UTF-8.
            output: vec![0; CHUNK / 2 * 3 + 16].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            eof: false,
            finished: false,
            breaks: 0,
            last_cr: false,
        }
    }

    /// Decodes the next piece of input into `output`.
    fn fill(&mut self) -> io::Result<()> {
        if self.in_start == self.in_end && !self.eof {
            self.in_end = self.inner.read(&mut self.input)?;
            self.in_start = 0;
            self.eof = self.in_end == 0;
        }
        let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
            &self.input[self.in_start..self.in_end],
            &mut self.output,
            self.eof,
        );
        self.in_start += read;
        self.out_start = 0;
        self.out_end = written;
        self.count_breaks(written);
        match result {
            DecoderResult::Malformed(..) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "line {}: the file is UTF-16 but damaged there (an unpaired surrogate, or a byte missing at the end); export it again, or save it from Excel as \"CSV UTF-8 (Comma delimited)\"",
                    self.breaks + 1
                ),
            )),
            DecoderResult::InputEmpty => {
                self.finished = self.eof;
                Ok(())
            }
            DecoderResult::OutputFull => Ok(()),
        }
    }

    fn count_breaks(&mut self, written: usize) {
        let text = &self.output[..written];
        for i in memchr::memchr2_iter(b'\n', b'\r', text) {
            let after_cr = if i == 0 {
                self.last_cr
            } else {
                text[i - 1] == b'\r'
            };
            if text[i] == b'\r' || !after_cr {
                self.breaks += 1;
            }
        }
        if let Some(&last) = text.last() {
            self.last_cr = last == b'\r';
        }
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_start == self.out_end {
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            self.fill()?;
        }
        let n = (self.out_end - self.out_start).min(buf.len());
        buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
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

    fn le(units: &[u16]) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        bytes
    }

    fn decode(bytes: Vec<u8>, encoding: &'static encoding_rs::Encoding) -> io::Result<String> {
        let mut out = String::new();
        Utf16Reader::new(Trickle(io::Cursor::new(bytes)), encoding).read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn valid_text_decodes_across_reads() {
        let text = "User\tZoë 😀\r\nnext";
        let units: Vec<u16> = text.encode_utf16().collect();
        assert_eq!(decode(le(&units), encoding_rs::UTF_16LE).unwrap(), text);
        let mut be = vec![0xFE, 0xFF];
        be.extend(units.iter().flat_map(|u| u.to_be_bytes()));
        assert_eq!(decode(be, encoding_rs::UTF_16BE).unwrap(), text);
    }

    #[test]
    fn unpaired_surrogate_is_an_error_with_its_line() {
        // fuzz/regressions/directory/utf16-unpaired-surrogate.csv
        let mut units: Vec<u16> = "a\r\nb\rc\n".encode_utf16().collect();
        units.push(0xD83D);
        units.extend("x".encode_utf16());
        let err = decode(le(&units), encoding_rs::UTF_16LE).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string().starts_with("line 4: the file is UTF-16"),
            "{err}"
        );
    }

    #[test]
    fn odd_byte_at_the_end_is_an_error() {
        let mut bytes = le(&"a\nb".encode_utf16().collect::<Vec<_>>());
        bytes.push(b'c');
        let err = decode(bytes, encoding_rs::UTF_16LE).unwrap_err();
        assert!(err.to_string().starts_with("line 2:"), "{err}");
    }
}
