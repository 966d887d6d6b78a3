//! Reading the text files admins make in Excel and PowerShell: byte order marks, UTF-16,
//! Windows-1252, and which separator the file uses. Detection lives here, once, for every
//! CSV input.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

mod utf16;

/// The encoding a file announced with its byte order mark (or its absence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No byte order mark: UTF-8, or Windows-1252 field by field where the bytes are not UTF-8.
    Plain,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    pub fn describe(self) -> &'static str {
        match self {
            Encoding::Plain => "UTF-8 without BOM",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16Le => "UTF-16 LE",
            Encoding::Utf16Be => "UTF-16 BE",
        }
    }
}

/// A text file opened for CSV reading: UTF-8 bytes (UTF-16 transcoded, BOM removed), with the
/// separator guessed from the first non-blank line.
pub struct TextFile {
    pub reader: BufReader<Box<dyn Read + Send>>,
    /// Line numbers of byte offsets in `reader` (the csv crate miscounts lines after CRLF).
    pub lines: LineIndex,
    pub encoding: Encoding,
    pub delimiter: u8,
    /// True when the first bytes look like UTF-16 without a BOM (every other byte NUL).
    pub looks_utf16_without_bom: bool,
}

const BUF: usize = 256 * 1024;

/// Opens `path`, detects its encoding from the BOM and guesses the separator.
pub fn open(path: &Path) -> io::Result<TextFile> {
    from_reader(File::open(path)?)
}

/// Like [`open`], for bytes that come from elsewhere than a file (fuzzing, tests, stdin).
pub fn from_reader(mut file: impl Read + Send + 'static) -> io::Result<TextFile> {
    let mut head = vec![0u8; HEAD];
    let n = read_up_to(&mut file, &mut head)?;
    head.truncate(n);
    let encoding = match head.as_slice() {
        [0xEF, 0xBB, 0xBF, ..] => Encoding::Utf8Bom,
        [0xFF, 0xFE, ..] => Encoding::Utf16Le,
        [0xFE, 0xFF, ..] => Encoding::Utf16Be,
        _ => Encoding::Plain,
    };
    let sniff: Cow<'_, [u8]> = match encoding {
        Encoding::Plain => Cow::Borrowed(&head),
        Encoding::Utf8Bom => Cow::Borrowed(&head[3..]),
        Encoding::Utf16Le => Cow::Owned(
            encoding_rs::UTF_16LE
                .decode(&head)
                .0
                .into_owned()
                .into_bytes(),
        ),
        Encoding::Utf16Be => Cow::Owned(
            encoding_rs::UTF_16BE
                .decode(&head)
                .0
                .into_owned()
                .into_bytes(),
        ),
    };
    let looks_utf16_without_bom = encoding == Encoding::Plain && looks_like_bomless_utf16(&sniff);
    let delimiter = guess_delimiter(&sniff);
    let skip = if encoding == Encoding::Utf8Bom { 3 } else { 0 };
    let rest = io::Cursor::new(head).chain(file);
    let inner: Box<dyn Read + Send> = match encoding {
        Encoding::Plain | Encoding::Utf8Bom => Box::new(Skip { inner: rest, skip }),
        Encoding::Utf16Le => Box::new(utf16::Utf16Reader::new(rest, encoding_rs::UTF_16LE)),
        Encoding::Utf16Be => Box::new(utf16::Utf16Reader::new(rest, encoding_rs::UTF_16BE)),
    };
    let lines = LineIndex::default();
    let counted: Box<dyn Read + Send> = Box::new(Counting {
        inner,
        offset: 0,
        state: lines.state.clone(),
        cr_pending: false,
    });
    Ok(TextFile {
        reader: BufReader::with_capacity(BUF, counted),
        lines,
        encoding,
        delimiter,
        looks_utf16_without_bom,
    })
}

/// Answers "which line is byte N on" for a stream read once, front to back, keeping only the
/// newline offsets between the last question and what has been read ahead.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    state: Arc<Mutex<LineState>>,
}

#[derive(Debug, Default)]
struct LineState {
    pending: VecDeque<u64>,
    counted: u64,
    eof: bool,
}

impl LineIndex {
    /// The 1-based line a record just read by `reader` started on. (The csv crate's own
    /// record positions point before the previous terminator and miscount CRLF files.)
    pub fn record_line<R: Read>(&self, reader: &csv::Reader<R>, record: &csv::ByteRecord) -> u64 {
        let position = reader.position().byte();
        // The byte before the position is the record's terminator, except for a record that
        // the end of the file closed (an unclosed quote): then it is the record's own content.
        let end = if self.at_eof() {
            position
        } else {
            position.saturating_sub(1)
        };
        let inside: u64 = record.iter().map(line_breaks).sum();
        self.line_of(end).saturating_sub(inside).max(1)
    }

    /// True once the stream has been read to its end.
    fn at_eof(&self) -> bool {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).eof
    }

    /// The 1-based line of byte `offset`. Offsets must be asked in increasing order.
    pub fn line_of(&self, offset: u64) -> u64 {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while st.pending.front().is_some_and(|&nl| nl < offset) {
            st.pending.pop_front();
            st.counted += 1;
        }
        st.counted + 1
    }
}

/// Line breaks in a field: LF, CRLF, and CR alone (old Mac files), as the csv crate splits.
fn line_breaks(field: &[u8]) -> u64 {
    memchr::memchr2_iter(b'\n', b'\r', field)
        .filter(|&i| field[i] == b'\n' || field.get(i + 1) != Some(&b'\n'))
        .count() as u64
}

/// Records the offset of every line break that passes through: the LF of LF and CRLF, and a
/// CR alone (which the csv crate also ends a record at).
struct Counting<R> {
    inner: R,
    offset: u64,
    state: Arc<Mutex<LineState>>,
    /// The previous read ended with a CR: a line break unless the next byte is LF.
    cr_pending: bool,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        let chunk = &buf[..n];
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.eof |= n == 0;
        if std::mem::take(&mut self.cr_pending) && chunk.first() != Some(&b'\n') {
            st.pending.push_back(self.offset - 1);
        }
        for i in memchr::memchr2_iter(b'\n', b'\r', chunk) {
            match chunk.get(i + 1) {
                _ if chunk[i] == b'\n' => st.pending.push_back(self.offset + i as u64),
                None => self.cr_pending = true,
                Some(b'\n') => {}
                Some(_) => st.pending.push_back(self.offset + i as u64),
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// How much of the file is read up front to detect the encoding and separator.
const HEAD: usize = 64 * 1024;

fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Drops the first `skip` bytes (the UTF-8 BOM) of a reader.
struct Skip<R> {
    inner: R,
    skip: usize,
}

impl<R: Read> Read for Skip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.skip > 0 {
            let mut tmp = [0u8; 4];
            let want = self.skip.min(tmp.len());
            let got = self.inner.read(&mut tmp[..want])?;
            if got == 0 {
                return Ok(0);
            }
            self.skip -= got;
        }
        self.inner.read(buf)
    }
}

fn looks_like_bomless_utf16(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(512)];
    sample.len() >= 8 && sample.iter().filter(|b| **b == 0).count() * 3 >= sample.len()
}

/// Guesses the separator from the first non-blank line: the most frequent of `,` `;` and tab
/// outside quotes, preferring the comma on a tie.
pub fn guess_delimiter(head: &[u8]) -> u8 {
    let line = first_non_blank_line(head);
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

fn first_non_blank_line(head: &[u8]) -> &[u8] {
    head.split(|b| *b == b'\n')
        .find(|l| l.iter().any(|b| !b" \t\r,;".contains(b)))
        .unwrap_or(&[])
}

/// Human name of a separator byte.
pub fn delimiter_name(d: u8) -> &'static str {
    match d {
        b',' => "commas",
        b';' => "semicolons",
        b'\t' => "tabs",
        _ => "an unknown separator",
    }
}

/// A field as text: UTF-8 when it is, Windows-1252 otherwise (second value `true`).
pub fn decode_field(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text, true)
        }
    }
}

/// A CSV reader over an opened file, with the settings every input uses: flexible field count
/// (counted and reported by the caller), no header handling, no trimming (the caller warns).
pub fn csv_reader(
    file: TextFile,
    has_headers: bool,
) -> (csv::Reader<BufReader<Box<dyn Read + Send>>>, LineIndex) {
    let lines = file.lines.clone();
    let reader = csv::ReaderBuilder::new()
        .delimiter(file.delimiter)
        .has_headers(has_headers)
        .flexible(true)
        .buffer_capacity(BUF)
        .from_reader(file.reader);
    (reader, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert_eq!(guess_delimiter(b"User,a,b,c,d,e\n"), b',');
        assert_eq!(guess_delimiter(b"User;a;b;c;d;e\r\n"), b';');
        assert_eq!(guess_delimiter(b"User\ta\tb\tc\td\te\n"), b'\t');
        assert_eq!(guess_delimiter(b"\n\nUser;a;\"b,c,d,e,f,g\";c;d;e\n"), b';');
        assert_eq!(guess_delimiter(b"single"), b',');
    }

    #[test]
    fn fields_fall_back_to_windows_1252() {
        let (s, legacy) = decode_field(b"Jos\xe9");
        assert_eq!(s, "José");
        assert!(legacy);
        let (s, legacy) = decode_field("José".as_bytes());
        assert_eq!(s, "José");
        assert!(!legacy);
    }

    #[test]
    fn line_index_counts_crlf_and_blank_lines() {
        let path = std::env::temp_dir().join(format!("t2t-lines-{}.csv", std::process::id()));
        std::fs::write(
            &path,
            "a,b\r\nc,d\r\n\r\n\r\ne,\"f\r\ng\"\r\nh,i\r\nj,k\n\nl,\"m\n\"\nn,o",
        )
        .unwrap();
        let (mut r, lines) = csv_reader(open(&path).unwrap(), false);
        let mut rec = csv::ByteRecord::new();
        let mut got = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            got.push(lines.record_line(&r, &rec));
        }
        std::fs::remove_file(&path).unwrap();
        assert_eq!(got, vec![1, 2, 5, 7, 8, 10, 12]);
    }

    fn record_lines(content: &[u8]) -> Vec<u64> {
        let opened = from_reader(io::Cursor::new(content.to_vec())).unwrap();
        let (mut r, lines) = csv_reader(opened, false);
        let mut rec = csv::ByteRecord::new();
        let mut got = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            got.push(lines.record_line(&r, &rec));
        }
        got
    }

    #[test]
    fn line_index_counts_lone_carriage_returns() {
        // Excel for Mac's "CSV (Macintosh)" ends lines with CR alone; the csv crate splits
        // records there, so the line numbers must too (fuzz/regressions/mapping/lone-cr.csv).
        assert_eq!(record_lines(b"a,b\rc,d\r\re,f\r"), vec![1, 2, 4]);
        assert_eq!(record_lines(b"a\r\r\nb\r\x0c\nc"), vec![1, 3, 4, 5]);
        assert_eq!(
            record_lines(b"\"x\ry\",z\rw\n\"p\r\nq\"\rr"),
            vec![1, 3, 4, 6]
        );
    }

    #[test]
    fn record_closed_by_end_of_file_keeps_its_first_line() {
        // An unclosed quote runs to the end of the file; a final line break inside it is the
        // record's own, not a terminator (fuzz/regressions/directory/unclosed-quote-at-eof.csv).
        assert_eq!(record_lines(b"a\n\"b\n"), vec![1, 2]);
        assert_eq!(record_lines(b"a\r\nb,\"c\r\nd\r"), vec![1, 2]);
        assert_eq!(record_lines(b"a\nb"), vec![1, 2]);
        assert_eq!(record_lines(b"a\nb\n"), vec![1, 2]);
        assert_eq!(record_lines(b"a\n\"b\n\"\n\n"), vec![1, 2]);
    }

    #[test]
    fn files_longer_than_the_buffers_keep_their_line_numbers() {
        // Past the 64 KB sniffed head, the 256 KB read buffer and the UTF-16 decoder's chunks,
        // with CR-only line ends so that some CR falls at the end of a read.
        let text: String = (0..40_000).map(|i| format!("r{i},x\r")).collect();
        let expected: Vec<u64> = (1..=40_000).collect();
        assert_eq!(record_lines(text.as_bytes()), expected);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(record_lines(&utf16), expected);
    }

    #[test]
    fn utf16_without_bom_is_spotted() {
        let bytes: Vec<u8> = "User,x,y\r\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert!(looks_like_bomless_utf16(&bytes));
        assert!(!looks_like_bomless_utf16(b"User,x,y,z,w\r\n"));
    }
}
