//! Invariants shared by the fuzz targets: what every reader of outside input must guarantee
//! whatever bytes it is given, beyond "does not panic". Each check panics with the offending
//! value, so libFuzzer keeps the input as a crash.

pub mod evidence;
pub mod links;
pub mod mime;
pub mod table;

use std::collections::HashMap;

use t2t_notify::diag::Diagnostics;
use t2t_notify::inputs::address::{check_email, check_upn, is_guid};
use t2t_notify::inputs::directory::{is_language_tag, Directory};
use t2t_notify::inputs::mapping::{GroupMapping, UserMapping};
use t2t_notify::inputs::text;

/// The encoding a file announces with its byte order mark, as the readers must see it (UTF-32
/// LE's mark starts like UTF-16 LE's, so it is checked first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bom {
    None,
    Utf8,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

impl Bom {
    pub fn of(bytes: &[u8]) -> Bom {
        match bytes {
            [0xEF, 0xBB, 0xBF, ..] => Bom::Utf8,
            [0xFF, 0xFE, 0x00, 0x00, ..] => Bom::Utf32Le,
            [0x00, 0x00, 0xFE, 0xFF, ..] => Bom::Utf32Be,
            [0xFF, 0xFE, ..] => Bom::Utf16Le,
            [0xFE, 0xFF, ..] => Bom::Utf16Be,
            _ => Bom::None,
        }
    }

    pub fn is_utf16(self) -> bool {
        matches!(self, Bom::Utf16Le | Bom::Utf16Be)
    }

    pub fn is_utf32(self) -> bool {
        matches!(self, Bom::Utf32Le | Bom::Utf32Be)
    }
}

/// The text of a file after the BOM, decoded independently of the code under test (UTF-16 and
/// UTF-32 with replacement characters, everything else as bytes), and whether it was valid in
/// its encoding. Files the readers take for UTF-7 (no BOM, `+...-` runs) are not decoded here.
pub fn decoded(bytes: &[u8]) -> (Vec<u8>, bool) {
    let utf16 = |enc: &'static encoding_rs::Encoding| {
        let body = &bytes[2..];
        let valid = enc
            .decode_without_bom_handling_and_without_replacement(body)
            .is_some();
        let text = enc.decode_without_bom_handling(body).0.into_owned();
        (text.into_bytes(), valid)
    };
    let utf32 = |big: bool| {
        let body = &bytes[4..];
        let mut valid = true;
        let mut text = String::new();
        for c in body.chunks(4) {
            let unit = <[u8; 4]>::try_from(c).ok().map(|a| {
                if big {
                    u32::from_be_bytes(a)
                } else {
                    u32::from_le_bytes(a)
                }
            });
            match unit.and_then(char::from_u32) {
                Some(ch) => text.push(ch),
                None => {
                    valid = false;
                    text.push('\u{FFFD}');
                }
            }
        }
        (text.into_bytes(), valid)
    };
    match Bom::of(bytes) {
        Bom::None => (bytes.to_vec(), std::str::from_utf8(bytes).is_ok()),
        Bom::Utf8 => (
            bytes[3..].to_vec(),
            std::str::from_utf8(&bytes[3..]).is_ok(),
        ),
        Bom::Utf16Le => utf16(encoding_rs::UTF_16LE),
        Bom::Utf16Be => utf16(encoding_rs::UTF_16BE),
        Bom::Utf32Le => utf32(false),
        Bom::Utf32Be => utf32(true),
    }
}

/// The readers' own decoding of a file (for UTF-7, which is not decoded independently here).
fn decoded_by_readers(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(mut opened) = text::from_reader(std::io::Cursor::new(bytes.to_vec())) {
        let _ = std::io::Read::read_to_end(&mut opened.reader, &mut out);
    }
    out
}

/// True when `error` is the readers' refusal of a damaged file and these bytes are one:
/// UTF-16 or UTF-32 (by BOM) that does not decode, or a file read as UTF-7.
pub fn refused_as_damaged(data: &[u8], error: &str) -> bool {
    let (_, valid) = decoded(data);
    let bom = Bom::of(data);
    (bom.is_utf16() && !valid && error.contains("UTF-16"))
        || (bom.is_utf32() && !valid && error.contains("UTF-32"))
        || (read_as_utf7(data) && error.contains("UTF-7"))
}

/// True when the readers take these bytes for UTF-7 (a heuristic of `inputs::text`).
pub fn read_as_utf7(bytes: &[u8]) -> bool {
    text::from_reader(std::io::Cursor::new(bytes.to_vec()))
        .is_ok_and(|f| f.encoding == text::Encoding::Utf7)
}

/// Lines of a file as an editor counts them: line breaks (LF, CRLF, or CR alone) + 1. For a
/// file read as UTF-7 the readers' own decoding is counted.
pub fn line_count(bytes: &[u8]) -> u64 {
    let text = if read_as_utf7(bytes) {
        decoded_by_readers(bytes)
    } else {
        decoded(bytes).0
    };
    let lone_cr = text
        .windows(2)
        .filter(|w| w[0] == b'\r' && w[1] != b'\n')
        .count()
        + usize::from(text.last() == Some(&b'\r'));
    (text.iter().filter(|b| **b == b'\n').count() + lone_cr) as u64 + 1
}

/// Every diagnostic names one of `files` (name, line count) and, when it has a line, a line
/// that exists in that file; every message says something.
pub fn check_diagnostics(diags: &Diagnostics, files: &[(&str, u64)]) {
    for d in diags.sorted() {
        let Some((_, lines)) = files.iter().find(|(name, _)| **name == *d.file) else {
            panic!("diagnostic names an unknown file: {d}");
        };
        if let Some(line) = d.line {
            assert!(line >= 1 && line <= *lines, "line {line} of {lines}: {d}");
        }
        assert!(!d.message.trim().is_empty(), "empty message: {d:?}");
        if let Some(col) = &d.column {
            assert!(col.index >= 1 && !col.name.is_empty(), "bad column: {d:?}");
        }
    }
}

/// Lines that carry an error about a field (not a whole-file remark pinned to line 1).
pub fn field_error_lines(diags: &Diagnostics) -> Vec<u64> {
    diags
        .errors()
        .filter(|d| d.column.is_some())
        .filter_map(|d| d.line)
        .collect()
}

/// Case-insensitive one-to-one bookkeeping over rows that were accepted.
#[derive(Default)]
pub struct OneToOne {
    seen: HashMap<(u8, String), u64>,
}

impl OneToOne {
    /// Records `value` under `side`; panics when an accepted row already had it.
    pub fn insert(&mut self, side: u8, value: &str, line: u64) {
        if let Some(first) = self.seen.insert((side, value.to_lowercase()), line) {
            panic!("{value:?} accepted twice (lines {first} and {line}): the mapping is not one-to-one");
        }
    }
}

/// A `User` row that reached the callback is usable as it stands.
pub fn check_user(u: &UserMapping, lines: u64, expected_tenant: Option<&str>) {
    assert!(
        u.line >= 1 && u.line <= lines,
        "row line {} of {lines}",
        u.line
    );
    assert!(is_guid(&u.source_tenant), "tenant {:?}", u.source_tenant);
    if let Some(t) = expected_tenant {
        assert!(u.source_tenant.eq_ignore_ascii_case(t), "{u:?}");
    }
    for upn in [&u.source_upn, &u.target_upn] {
        if let Err(e) = check_upn(upn) {
            panic!("accepted UPN {upn:?} fails check_upn: {e}");
        }
    }
    if let Err(e) = check_email(&u.target_email) {
        panic!("accepted email {:?} fails check_email: {e}", u.target_email);
    }
    for field in [
        &u.source_tenant,
        &u.source_upn,
        &u.target_upn,
        &u.target_email,
    ] {
        assert_eq!(field.trim(), field.as_str(), "untrimmed field in {u:?}");
    }
}

/// A `Group` row that reached the callback is usable as it stands.
pub fn check_group(g: &GroupMapping, lines: u64) {
    assert!(
        g.line >= 1 && g.line <= lines,
        "row line {} of {lines}",
        g.line
    );
    assert!(
        is_guid(&g.source_tenant) && is_guid(&g.source_id) && is_guid(&g.target_id),
        "{g:?}"
    );
    assert!(!g.name.is_empty(), "{g:?}");
}

/// The directory's entries are usable and its index finds each of them.
pub fn check_directory(dir: &Directory, lines: u64) {
    let mut last = 0;
    for (i, e) in dir.entries.iter().enumerate() {
        assert!(
            e.line > last && e.line <= lines,
            "entry line {} (previous {last}, of {lines})",
            e.line
        );
        last = e.line;
        assert!(!e.upn.is_empty(), "{e:?}");
        assert_eq!(dir.lookup(&e.upn, &e.upn), Some(i), "lookup of {:?}", e.upn);
        if let Some(url) = &e.onedrive_url {
            assert!(url.starts_with("https://"), "{url:?}");
        }
        if let Some(lang) = &e.preferred_language {
            assert!(is_language_tag(lang), "{lang:?}");
        }
    }
}

/// A folder of this fuzzing process for targets whose code under test reads paths:
/// `/dev/shm/t2t-fuzz-<target>-<pid>` (or under the temp folder); `smoke.sh` removes the ones
/// of processes that are gone.
pub fn scratch_dir(target: &str) -> std::path::PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        std::path::PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("t2t-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}
