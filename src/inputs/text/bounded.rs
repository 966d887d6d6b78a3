//! Keeps one CSV record from filling memory: the csv crate reads a whole record into memory,
//! so a 200 MB field would cost 200 MB (and more as text). [`Bounded`] sits between the
//! decoded bytes and the CSV parser and, once a record passes `limit` bytes, writes
//! [`CUT_MARK`] in place of the rest of that field and passes on only what keeps the file's
//! shape (separators, quotes that open or close a field, line breaks), until the record ends.
//! The reader of the file finds the mark in the field that was too long and reports it with
//! its line and column; line numbers stay right because every line break still passes.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Stands for the cut-off rest of a field (U+FFFF, a noncharacter no real input contains).
pub const CUT_MARK: &[u8] = "\u{FFFF}".as_bytes();

/// Where the parser stands in a record, as the csv crate sees quotes: a quote opens a quoted
/// field only at the start of a field, and `""` inside one is a literal quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: it closes the field unless another quote follows.
    QuoteInQuoted,
}

/// A reader that cuts records longer than `limit` bytes (see the module doc).
pub struct Bounded<R> {
    inner: R,
    limit: usize,
    delimiter: u8,
    at: At,
    record_len: usize,
    cutting: bool,
    cuts: Arc<AtomicU64>,
    chunk: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: Read> Bounded<R> {
    /// Wraps `inner`; `cuts` counts the records cut so far.
    pub fn new(inner: R, limit: usize, delimiter: u8, cuts: Arc<AtomicU64>) -> Self {
        Bounded {
            inner,
            limit,
            delimiter,
            at: At::FieldStart,
            record_len: 0,
            cutting: false,
            cuts,
            chunk: vec![0; 64 * 1024],
            out: Vec::with_capacity(64 * 1024),
            pos: 0,
            done: false,
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        let n = self.inner.read(&mut self.chunk)?;
        if n == 0 {
            self.done = true;
            if self.cutting && self.at == At::QuoteInQuoted {
                self.out.push(b'"');
            }
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.chunk);
        let mut i = 0;
        while i < n {
            let run = self.plain_run(&chunk[i..n]);
            if run == 0 {
                self.step(chunk[i]);
                i += 1;
            } else {
                self.out.extend_from_slice(&chunk[i..i + run]);
                self.record_len += run;
                i += run;
            }
        }
        self.chunk = chunk;
        Ok(())
    }

    /// How many of the first `bytes` leave the state as it is and keep the record within the
    /// limit, so [`Bounded::step`] would copy each of them unchanged: the text of an unquoted
    /// field up to a separator or line break, or of a quoted field up to a quote.
    fn plain_run(&self, bytes: &[u8]) -> usize {
        let room = self.limit.saturating_sub(self.record_len);
        if self.cutting || room == 0 {
            return 0;
        }
        let end = match self.at {
            At::Unquoted => memchr::memchr3(self.delimiter, b'\n', b'\r', bytes),
            At::Quoted => memchr::memchr(b'"', bytes),
            At::FieldStart | At::QuoteInQuoted => return 0,
        };
        end.unwrap_or(bytes.len()).min(room)
    }

    fn step(&mut self, b: u8) {
        if !self.cutting {
            self.record_len += 1;
            if self.record_len > self.limit && self.at != At::QuoteInQuoted {
                self.cutting = true;
                self.cuts.fetch_add(1, Ordering::Relaxed);
                self.out.extend_from_slice(CUT_MARK);
            }
        }
        let before = self.at;
        let ends_record = self.advance(b);
        if !self.cutting {
            self.out.push(b);
        } else {
            self.keep_shape(before, b);
        }
        if ends_record {
            self.record_len = 0;
            self.cutting = false;
        }
    }

    /// Moves the quote state over `b`; true when `b` ends the record.
    fn advance(&mut self, b: u8) -> bool {
        let line_break = b == b'\n' || b == b'\r';
        match self.at {
            At::Quoted if b == b'"' => self.at = At::QuoteInQuoted,
            At::Quoted => {}
            At::QuoteInQuoted if b == b'"' => self.at = At::Quoted,
            At::FieldStart if b == b'"' => self.at = At::Quoted,
            At::FieldStart | At::Unquoted | At::QuoteInQuoted => {
                if b == self.delimiter || line_break {
                    self.at = At::FieldStart;
                    return line_break;
                }
                self.at = At::Unquoted;
            }
        }
        false
    }

    /// While cutting, passes on only the bytes that keep the record's shape.
    fn keep_shape(&mut self, before: At, b: u8) {
        let line_break = b == b'\n' || b == b'\r';
        match (before, self.at) {
            // An opening quote, or a quote that turned out to close the field.
            (At::FieldStart, At::Quoted) => self.out.push(b'"'),
            (At::QuoteInQuoted, At::Quoted) | (At::Quoted, At::QuoteInQuoted) => {}
            (At::QuoteInQuoted, _) => {
                self.out.push(b'"');
                if b == self.delimiter || line_break {
                    self.out.push(b);
                }
            }
            _ if line_break || (self.at == At::FieldStart && b == self.delimiter) => {
                self.out.push(b)
            }
            _ => {}
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.fill()?;
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

    fn cut(input: &[u8], limit: usize) -> (Vec<u8>, u64) {
        let cuts = Arc::new(AtomicU64::new(0));
        let mut out = Vec::new();
        Bounded::new(input, limit, b',', cuts.clone())
            .read_to_end(&mut out)
            .unwrap();
        (out, cuts.load(Ordering::Relaxed))
    }

    /// What [`Bounded`] gives when every byte takes [`Bounded::step`], without the runs of
    /// [`Bounded::plain_run`]: the fast path must not change a byte.
    fn cut_byte_by_byte(input: &[u8], limit: usize) -> Vec<u8> {
        let mut b = Bounded::new(&b""[..], limit, b',', Arc::new(AtomicU64::new(0)));
        let mut out = Vec::new();
        for &byte in input {
            b.step(byte);
            out.append(&mut b.out);
        }
        b.done = true;
        b.fill().unwrap();
        out.append(&mut b.out);
        out
    }

    #[test]
    fn runs_give_the_same_bytes_as_one_byte_at_a_time() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(16);
        let alphabet = b"ab,\"\n\r";
        for _ in 0..2000 {
            let len = rng.random_range(0..80);
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let limit = rng.random_range(1..20);
            assert_eq!(
                cut(&input, limit).0,
                cut_byte_by_byte(&input, limit),
                "{:?} at limit {limit}",
                String::from_utf8_lossy(&input)
            );
        }
    }

    fn mark(s: &str) -> Vec<u8> {
        s.replace('#', "\u{FFFF}").into_bytes()
    }

    #[test]
    fn short_records_pass_unchanged() {
        let text = b"a,\"b,\"\"c\"\"\nd\",e\r\nf,g\rh\n";
        assert_eq!(cut(text, 20), (text.to_vec(), 0));
    }

    #[test]
    fn a_long_field_is_cut_and_the_record_keeps_its_shape() {
        let long = "x".repeat(100);
        let text = format!("a,b{long},c,d\nnext,row\n");
        assert_eq!(
            cut(text.as_bytes(), 10),
            (mark("a,bxxxxxxx#,,\nnext,row\n"), 1)
        );
    }

    #[test]
    fn a_long_quoted_field_keeps_its_quotes_and_line_breaks() {
        let long = "y\"\"\n".repeat(30);
        let text = format!("a,\"{long}\",c\n\"q\",r\n");
        let (out, cuts) = cut(text.as_bytes(), 10);
        assert_eq!(cuts, 1);
        let expected = format!("a,\"y\"\"\ny\"\"#{}\",\n\"q\",r\n", "\n".repeat(29));
        assert_eq!(out, mark(&expected));
    }

    #[test]
    fn a_long_last_quoted_field_is_closed_at_the_end() {
        let text = format!("a,\"{}\"", "z".repeat(50));
        assert_eq!(cut(text.as_bytes(), 5), (mark("a,\"zz#\""), 1));
    }
}
