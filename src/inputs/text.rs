//! Reading the text files admins make in Excel and PowerShell: byte order marks, UTF-16,
//! UTF-32, UTF-7, Windows-1252, and which separator the file uses. Detection lives here, once,
//! for every CSV (and JSON) input.

pub mod bounded;
mod transcode;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, BufReader, Read};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The encoding a file announced with its byte order mark (or its absence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No byte order mark: UTF-8, or Windows-1252 field by field where the bytes are not UTF-8.
    Plain,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// PowerShell's `-Encoding UTF32`.
    Utf32Le,
    /// PowerShell's `-Encoding BigEndianUTF32`.
    Utf32Be,
    /// PowerShell's `-Encoding UTF7` (no byte order mark; spotted by its `+AEA-` runs).
    Utf7,
}

/// A text file opened for CSV reading: UTF-8 bytes (UTF-16, UTF-32 and UTF-7 transcoded, BOM
/// removed), with the separator guessed from the first non-blank line.
pub struct TextFile {
    pub reader: BufReader<Box<dyn Read + Send>>,
    /// Line numbers of byte offsets in `reader` (the csv crate miscounts lines after CRLF).
    pub lines: LineIndex,
    pub encoding: Encoding,
    pub delimiter: u8,
    /// True when the first bytes look like UTF-16 without a BOM (every other byte NUL).
    pub looks_utf16_without_bom: bool,
    /// How many records were cut at the record limit so far (see [`bounded`]); always 0
    /// without a limit.
    pub cuts: Arc<AtomicU64>,
}

const BUF: usize = 256 * 1024;

/// Reads `file` (a file, or bytes from elsewhere), detecting its encoding from the BOM and
/// guessing the separator.
pub fn from_reader(file: impl Read + Send + 'static) -> io::Result<TextFile> {
    from_reader_bounded(file, None)
}

/// Like [`from_reader`], cutting records longer than `record_limit` bytes (see [`bounded`]).
pub fn from_reader_bounded(
    mut file: impl Read + Send + 'static,
    record_limit: Option<usize>,
) -> io::Result<TextFile> {
    let mut head = Vec::with_capacity(HEAD);
    file.by_ref().take(HEAD as u64).read_to_end(&mut head)?;
    let encoding = detect(&head);
    if encoding == Encoding::Utf8Bom {
        head.drain(..3);
    }
    let transcoded = !matches!(encoding, Encoding::Plain | Encoding::Utf8Bom);
    let sniff: Cow<'_, [u8]> = if transcoded {
        Cow::Owned(transcode::decode_head(&head, encoding).into_bytes())
    } else {
        Cow::Borrowed(&head)
    };
    let sniff = sniff.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&sniff);
    let looks_utf16_without_bom = encoding == Encoding::Plain && looks_like_bomless_utf16(sniff);
    let delimiter = guess_delimiter(sniff);
    let rest = io::Cursor::new(head).chain(file);
    let inner: Box<dyn Read + Send> = if transcoded {
        Box::new(transcode::Transcoder::new(rest, encoding))
    } else {
        Box::new(rest)
    };
    let cuts = Arc::new(AtomicU64::new(0));
    let inner: Box<dyn Read + Send> = match record_limit {
        Some(limit) => Box::new(bounded::Bounded::new(inner, limit, delimiter, cuts.clone())),
        None => inner,
    };
    let lines = LineIndex::default();
    let counted: Box<dyn Read + Send> = Box::new(Counting {
        inner,
        offset: 0,
        state: lines.state.clone(),
    });
    Ok(TextFile {
        reader: BufReader::with_capacity(BUF, counted),
        lines,
        encoding,
        delimiter,
        looks_utf16_without_bom,
        cuts,
    })
}

/// The encoding announced by the byte order mark at the start of `head`, or UTF-7 recognised
/// by its runs; `Plain` otherwise. (UTF-32 LE's mark starts like UTF-16 LE's, so it goes first.)
fn detect(head: &[u8]) -> Encoding {
    match head {
        [0xEF, 0xBB, 0xBF, ..] => Encoding::Utf8Bom,
        [0xFF, 0xFE, 0x00, 0x00, ..] => Encoding::Utf32Le,
        [0x00, 0x00, 0xFE, 0xFF, ..] => Encoding::Utf32Be,
        [0xFF, 0xFE, ..] => Encoding::Utf16Le,
        [0xFE, 0xFF, ..] => Encoding::Utf16Be,
        _ if transcode::looks_like_utf7(head) => Encoding::Utf7,
        _ => Encoding::Plain,
    }
}

/// Answers "which line does this record start on" for a stream read once, front to back,
/// keeping only the line-break offsets between the last question and what has been read ahead.
/// A line ends with LF, CRLF or a lone CR (Excel for Mac's "CSV (Macintosh)").
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    state: Arc<Mutex<LineState>>,
}

#[derive(Debug, Default)]
struct LineState {
    /// Offsets of CR and LF bytes not yet asked about, with the byte.
    pending: VecDeque<(u64, u8)>,
    /// Line breaks before the first pending offset.
    counted: u64,
}

impl LineState {
    /// Pops the first pending break and counts it (a CR directly followed by LF counts once).
    fn pop(&mut self) {
        if let Some((offset, byte)) = self.pending.pop_front() {
            let crlf = byte == b'\r' && self.pending.front() == Some(&(offset + 1, b'\n'));
            if !crlf {
                self.counted += 1;
            }
        }
    }
}

impl LineIndex {
    /// The 1-based line a record just read by `reader` starts on. The csv crate's record
    /// position points at the previous record's terminator (between CR and LF of a CRLF) and
    /// before any blank lines it skipped, so those line-break bytes are stepped over first.
    pub fn record_line(&self, record: &csv::ByteRecord) -> u64 {
        let start = record.position().map_or(0, |p| p.byte());
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while st.pending.front().is_some_and(|&(o, _)| o < start) {
            st.pop();
        }
        let mut cursor = start;
        while st.pending.front().is_some_and(|&(o, _)| o == cursor) {
            st.pop();
            cursor += 1;
        }
        st.counted + 1
    }
}

/// Records the offset of every CR and LF that passes through.
struct Counting<R> {
    inner: R,
    offset: u64,
    state: Arc<Mutex<LineState>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for i in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            st.pending.push_back((self.offset + i as u64, buf[i]));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// How much of the file is read up front to detect the encoding and separator.
const HEAD: usize = 64 * 1024;

fn looks_like_bomless_utf16(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(512)];
    sample.len() >= 8 && sample.iter().filter(|b| **b == 0).count() * 3 >= sample.len()
}

/// Guesses the separator from the first non-blank line: the most frequent of `,` `;` and tab
/// outside quotes, preferring the comma on a tie.
pub fn guess_delimiter(head: &[u8]) -> u8 {
    let candidates = [b',', b';', b'\t'];
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in first_non_blank_line(head) {
        if *b == b'"' {
            quoted = !quoted;
        } else if let Some(i) = candidates.iter().position(|c| c == b).filter(|_| !quoted) {
            counts[i] += 1;
        }
    }
    // On a tie (none of them at all, too) the earlier candidate wins.
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    candidates[best]
}

/// The first line with content, skipping Windows PowerShell's `#TYPE` line (it has no
/// separators).
fn first_non_blank_line(head: &[u8]) -> &[u8] {
    head.split(|b| *b == b'\n')
        .find(|l| l.iter().any(|b| !b" \t\r,;".contains(b)) && !l.starts_with(b"#TYPE"))
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

/// Line breaks in `text`: CR, and LF not after a CR (`after_cr`: the text before `text` ended
/// in CR).
pub(crate) fn count_breaks(text: &str, after_cr: bool) -> u64 {
    let bytes = text.as_bytes();
    let lfs = memchr::memchr_iter(b'\n', bytes)
        .filter(|&i| !(i == 0 && after_cr) && (i == 0 || bytes[i - 1] != b'\r'))
        .count();
    (memchr::memchr_iter(b'\r', bytes).count() + lfs) as u64
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

/// Reads every record of `file` (see [`csv_reader`]) and hands `on_record` the record, the
/// line it starts on, and the field the reader cut at the record limit (it holds
/// [`bounded::CUT_MARK`]) when it cut this record; stops early when `on_record` breaks.
pub fn read_records(
    file: TextFile,
    mut on_record: impl FnMut(&csv::ByteRecord, u64, Option<usize>) -> ControlFlow<()>,
) -> io::Result<()> {
    let cuts = file.cuts.clone();
    let mut cuts_seen = 0;
    let (mut reader, lines) = csv_reader(file, false);
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(csv_to_io)? {
        let line = lines.record_line(&record);
        let mut cut = None;
        if cuts.load(Ordering::Relaxed) > cuts_seen {
            cut = record
                .iter()
                .position(|f| memchr::memmem::find(f, bounded::CUT_MARK).is_some());
            cuts_seen += u64::from(cut.is_some());
        }
        if on_record(&record, line, cut).is_break() {
            break;
        }
    }
    Ok(())
}

/// The reader's I/O error as it was (a byte record with a flexible field count can fail no
/// other way).
fn csv_to_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, format!("{other:?}")),
    }
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
        assert_eq!(
            guess_delimiter(b"#TYPE System.Object\r\n\"A\";\"B\"\r\n"),
            b';'
        );
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

    fn record_lines(content: &[u8]) -> Vec<u64> {
        let mut got = Vec::new();
        let opened = from_reader(io::Cursor::new(content.to_vec())).unwrap();
        read_records(opened, |_, line, _| {
            got.push(line);
            ControlFlow::Continue(())
        })
        .unwrap();
        got
    }

    #[test]
    fn line_index_counts_crlf_and_blank_lines() {
        let text = b"a,b\r\nc,d\r\n\r\n\r\ne,\"f\r\ng\"\r\nh,i\r\nj,k\n\nl,\"m\n\"\nn,o";
        assert_eq!(record_lines(text), vec![1, 2, 5, 7, 8, 10, 12]);
    }

    #[test]
    fn line_index_counts_lone_cr_as_a_line_end() {
        assert_eq!(record_lines(b"a,b\rc,d\r\re,f\r"), vec![1, 2, 4]);
        assert_eq!(record_lines(b"a,b\r\rc,\"d\re\"\rf,g"), vec![1, 3, 5]);
    }

    #[test]
    fn line_index_places_a_quote_left_open_on_its_own_line() {
        assert_eq!(record_lines(b"a,b\r\nc,\"d\r\ne,f\r\n"), vec![1, 2]);
        assert_eq!(record_lines(b"a\n\n\nb,\"c\nd\n"), vec![1, 4]);
    }

    #[test]
    fn line_index_lone_cr_and_open_quote_regressions_from_fuzzing() {
        // fuzz/regressions/mapping/lone-cr-line-numbers.csv and */unclosed-quote-at-eof.csv
        assert_eq!(record_lines(b"a\r\r\nb\r\x0c\nc"), vec![1, 3, 4, 5]);
        assert_eq!(
            record_lines(b"\"x\ry\",z\rw\n\"p\r\nq\"\rr"),
            vec![1, 3, 4, 6]
        );
        assert_eq!(record_lines(b"a\n\"b\n"), vec![1, 2]);
        assert_eq!(record_lines(b"a\r\nb,\"c\r\nd\r"), vec![1, 2]);
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
    fn line_index_survives_crlf_split_across_reads() {
        let mut text = Vec::new();
        let mut expected = Vec::new();
        for i in 0..100_000u64 {
            text.extend_from_slice(format!("{i},x\r\n").as_bytes());
            expected.push(i + 1);
        }
        assert!(text.len() > 2 * BUF);
        assert_eq!(record_lines(&text), expected);
    }

    #[test]
    fn powershell_utf32_and_utf7_exports_read_like_utf8() {
        let text = "#TYPE X\r\n\"Upn\";\"Name\"\r\n\"a@b.com\";\"Zo\u{eb}\"\r\n";
        let with_bom = format!("\u{feff}{text}");
        let codes = || with_bom.chars().map(u32::from);
        let cases = [
            (codes().flat_map(u32::to_le_bytes).collect(), Encoding::Utf32Le),
            (codes().flat_map(u32::to_be_bytes).collect(), Encoding::Utf32Be),
            // .NET's UTF-7: only RFC 2152's set D, space, tab, CR and LF written directly.
            (
                b"+ACM-TYPE X\r\n+ACI-Upn+ACIAOwAi-Name+ACI-\r\n+ACI-a+AEA-b.com+ACIAOwAi-Zo+AOsAIg-\r\n".to_vec(),
                Encoding::Utf7,
            ),
        ];
        for (bytes, encoding) in cases {
            let opened = from_reader(io::Cursor::new(bytes)).unwrap();
            assert_eq!((opened.encoding, opened.delimiter), (encoding, b';'));
            let (mut r, lines) = csv_reader(opened, false);
            let mut rec = csv::StringRecord::new();
            let mut got = Vec::new();
            while r.read_record(&mut rec).unwrap() {
                got.push((
                    lines.record_line(rec.as_byte_record()),
                    rec.iter().collect::<Vec<_>>().join("|"),
                ));
            }
            let want = [
                (1, "#TYPE X".to_string()),
                (2, "Upn|Name".into()),
                (3, "a@b.com|Zo\u{eb}".into()),
            ];
            assert_eq!(got, want, "{encoding:?}");
        }
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
