//! The text layer and the join: `inputs::text` encoding and separator detection and line
//! numbering on arbitrary bytes, then `plan::load` with an identity map and a directory
//! together, under the sample config.
//!
//! Input: the mapping file's bytes, then optionally `\n==directory==\n` and the directory
//! file's bytes, then optionally `\n==move-state==\n` and a move-state export (CSV or JSON,
//! recognised by content). The files are written to a per-process folder under /dev/shm
//! because `plan::load` reads paths, as the program does.
//!
//! Beyond "no panic": the detected encoding is the BOM's; the decoded stream is the file's
//! text; record lines never go backwards and exist in the file; every recipient has valid
//! addresses and an https OneDrive URL, the directory entry of one of its UPNs, and the
//! configured tenant; recipients are one-to-one; nobody is both notified and held back, every
//! hold has a reason; a plan without errors notified or held back every user.
#![no_main]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use t2t_notify::config::Config;
use t2t_notify::inputs::address::{check_email, check_upn};
use t2t_notify::inputs::text::{self, Encoding};
use t2t_notify::plan::{self, Sources};
use t2t_notify_fuzz::{check_diagnostics, check_user, decoded, line_count, Bom, OneToOne};

const DIR_MARKER: &[u8] = b"\n==directory==\n";
const MOVE_MARKER: &[u8] = b"\n==move-state==\n";

/// Splits `data` at the first `marker`: (before, after).
fn cut<'a>(data: &'a [u8], marker: &[u8]) -> (&'a [u8], Option<&'a [u8]>) {
    match data.windows(marker.len()).position(|w| w == marker) {
        Some(i) => (&data[..i], Some(&data[i + marker.len()..])),
        None => (data, None),
    }
}

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let text = include_str!("../../sample-data/t2t-notify.toml");
        Config::from_str_with_env(text, Path::new("/fuzz/conf/t2t-notify.toml"), &[])
            .expect("the sample config is valid")
    })
}

fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| t2t_notify_fuzz::scratch_dir("plan"))
}

/// What `inputs::text` makes of one file: the BOM's encoding, a known separator, the decoded
/// text, and record lines that move forward within the file.
fn check_text_layer(bytes: &[u8]) {
    let opened = text::from_reader(std::io::Cursor::new(bytes.to_vec())).expect("in memory");
    let expected = match Bom::of(bytes) {
        Bom::None if opened.encoding == Encoding::Utf7 => Encoding::Utf7,
        Bom::None => Encoding::Plain,
        Bom::Utf8 => Encoding::Utf8Bom,
        Bom::Utf16Le => Encoding::Utf16Le,
        Bom::Utf16Be => Encoding::Utf16Be,
        Bom::Utf32Le => Encoding::Utf32Le,
        Bom::Utf32Be => Encoding::Utf32Be,
    };
    assert_eq!(opened.encoding, expected);
    assert!(b",;\t".contains(&opened.delimiter));
    assert!(!opened.looks_utf16_without_bom || expected == Encoding::Plain);
    let (text, valid) = decoded(bytes);
    let mut stream = Vec::new();
    let mut reader = text::from_reader(std::io::Cursor::new(bytes.to_vec()))
        .expect("in memory")
        .reader;
    let read = reader.read_to_end(&mut stream);
    match expected {
        // Not decoded independently (the readers' unit tests check the decoding); damage is an
        // error that says UTF-7.
        Encoding::Utf7 => {
            if let Err(e) = read {
                assert!(e.to_string().contains("UTF-7"), "{e}");
            }
        }
        // Damaged UTF-16 and UTF-32 are refused, never read with replacement characters.
        Encoding::Utf16Le | Encoding::Utf16Be if !valid => {
            let e = read.expect_err("damaged UTF-16 must not decode");
            assert!(e.to_string().contains("UTF-16"), "{e}");
        }
        Encoding::Utf32Le | Encoding::Utf32Be if !valid => {
            let e = read.expect_err("damaged UTF-32 must not decode");
            assert!(e.to_string().contains("UTF-32"), "{e}");
        }
        _ => {
            read.expect("valid text reads");
            assert!(
                stream == text,
                "decoded stream differs from the file's text"
            );
        }
    }
    let lines = line_count(bytes);
    let (mut csv, index) = text::csv_reader(opened, false);
    let mut record = csv::ByteRecord::new();
    let mut last = 0;
    while let Ok(true) = csv.read_byte_record(&mut record) {
        let line = index.record_line(&record);
        assert!(
            line >= last && line <= lines,
            "record line {line} after {last}, of {lines}"
        );
        last = line;
    }
}

fuzz_target!(|data: &[u8]| {
    let (data, moves) = cut(data, MOVE_MARKER);
    let (map, dir) = cut(data, DIR_MARKER);
    check_text_layer(map);
    let map_path = scratch_dir().join("map.csv");
    let dir_path = scratch_dir().join("directory.csv");
    let move_path = scratch_dir().join("batch-1.export");
    std::fs::write(&map_path, map).expect("write map");
    if let Some(dir) = dir {
        check_text_layer(dir);
        std::fs::write(&dir_path, dir).expect("write directory");
    }
    if let Some(moves) = moves {
        std::fs::write(&move_path, moves).expect("write move state");
    }
    let move_states: Vec<PathBuf> = moves.iter().map(|_| move_path.clone()).collect();
    let config = config();
    let sources = Sources {
        mapping: &map_path,
        directory: dir.map(|_| dir_path.as_path()),
        move_states: &move_states,
        ..Sources::new(&map_path)
    };
    let plan = match plan::load(Some(config), sources, true) {
        Ok(plan) => plan,
        Err(e) => {
            let text = format!("{e:#}");
            let files = || [Some(map), dir, moves].into_iter().flatten();
            let damaged = if text.contains("UTF-16") {
                files().any(|f| Bom::of(f).is_utf16() && !decoded(f).1)
            } else if text.contains("UTF-32") {
                files().any(|f| Bom::of(f).is_utf32() && !decoded(f).1)
            } else if text.contains("UTF-7") {
                files().any(t2t_notify_fuzz::read_as_utf7)
            } else {
                false
            };
            assert!(damaged, "plan failed, but no file is damaged UTF-16, UTF-32 or UTF-7: {text}");
            return;
        }
    };
    let map_name = map_path.display().to_string();
    let dir_name = dir_path.display().to_string();
    let move_name = move_path.display().to_string();
    let map_lines = line_count(map);
    let dir_lines = dir.map_or(0, line_count);
    let move_lines = moves.map_or(0, line_count);
    check_diagnostics(
        &plan.diagnostics,
        &[
            (&map_name, map_lines),
            (&dir_name, dir_lines),
            (&move_name, move_lines),
        ],
    );

    let mut once = OneToOne::default();
    for r in &plan.recipients {
        let u = &r.user;
        check_user(u, map_lines, Some(&config.source.tenant_id));
        once.insert(0, &u.source_upn, u.line);
        once.insert(1, &u.target_upn, u.line);
        assert!(!r.to.is_empty(), "{r:?}");
        for to in &r.to {
            assert!(check_email(to).is_ok() || check_upn(to).is_ok(), "{to:?}");
        }
        assert!(
            r.onedrive_url.starts_with("https://"),
            "{:?}",
            r.onedrive_url
        );
        assert_eq!(r.guest, u.is_guest());
        if let Some(entry) = &r.directory {
            let upn = entry.upn.to_lowercase();
            assert!(
                upn == u.source_upn.to_lowercase() || upn == u.target_upn.to_lowercase(),
                "{r:?}"
            );
        }
        let map_errors = plan
            .diagnostics
            .errors()
            .filter(|d| *d.file == *map_name && d.column.is_some() && d.line == Some(u.line))
            .count();
        assert_eq!(
            map_errors, 0,
            "recipient on line {} has a field error",
            u.line
        );
    }
    let held: u64 = plan.held_back_counts.values().sum();
    assert_eq!(
        plan.recipients.len() as u64,
        plan.ready,
        "recipients vs ready"
    );
    assert_eq!(
        plan.held_back.len() as u64,
        held,
        "held-back list vs counts"
    );
    assert!(plan.ready + held <= plan.users);
    for h in &plan.held_back {
        assert!(!h.reason.trim().is_empty(), "{h:?}");
        let mailed = plan
            .recipients
            .iter()
            .any(|r| r.user.source_upn.eq_ignore_ascii_case(&h.user.source_upn));
        assert!(!mailed, "{} both notified and held back", h.user.source_upn);
    }
    if !plan.diagnostics.has_errors() {
        assert_eq!(
            plan.ready + held,
            plan.users,
            "users neither notified nor held back, without an error"
        );
    }
});
