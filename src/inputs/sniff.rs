//! Which input a file is, from its content alone (a file dropped into `serve`'s inbox has
//! whatever name the admin's task gave it): trust evidence by its `Format` value anywhere in
//! the file (or, in JSON, by its evidence properties), a move-state export by its state column or property, a schedule by its
//! planned-start column, a sign-in export by its last-sign-in column. Only the first
//! [`SNIFF_BYTES`] are looked at; the reader of the kind found then reads the whole file and
//! reports every problem in it.
//!
//! The property names of a JSON file are found by a pattern, not by parsing, so that a
//! truncated or damaged export is still recognised and its reader says what is wrong where.

use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::{move_state, schedule, sign_ins, text};
use crate::diag::quote;

/// How much of a file is looked at: far more than any header row or first JSON object.
pub const SNIFF_BYTES: u64 = 64 * 1024;

/// The inputs t2t-notify reads from files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// `Get-SPOCrossTenantUserContentMoveState` output (`inputs::move_state`).
    MoveState,
    /// The migration schedule (`inputs::schedule`).
    Schedule,
    /// The target tenant's sign-in export (`inputs::sign_ins`).
    SignIns,
    /// A trust-removal evidence file (`trust::evidence`).
    TrustEvidence,
}

impl InputKind {
    /// What it is, for people: `a move-state export`.
    pub fn describe(self) -> &'static str {
        match self {
            InputKind::MoveState => "a move-state export",
            InputKind::Schedule => "a migration schedule",
            InputKind::SignIns => "a sign-in export",
            InputKind::TrustEvidence => "a trust evidence file",
        }
    }
}

/// The kind of the file at `path`, or why it is none that t2t-notify reads. I/O errors are
/// returned as they are.
pub fn sniff_file(path: &Path) -> io::Result<Result<InputKind, String>> {
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(SNIFF_BYTES)
        .read_to_end(&mut head)?;
    Ok(sniff(&head))
}

/// The kind of a file that starts with `head`, or why it is none that t2t-notify reads.
pub fn sniff(head: &[u8]) -> Result<InputKind, String> {
    let text = decoded(head);
    let body = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if body.is_empty() {
        return Err("the file is empty".into());
    }
    // The format's name is ours alone: a file that names it is evidence, however damaged.
    if body.to_ascii_lowercase().contains(EVIDENCE_MARK) {
        return Ok(InputKind::TrustEvidence);
    }
    if body.starts_with(['{', '[']) {
        return json_kind(body);
    }
    csv_kind(head)
}

/// `head` as text, in whatever encoding PowerShell wrote it. A cut multi-byte character at the
/// end of the head, or bytes that are not text, only cost the sniff some characters.
fn decoded(head: &[u8]) -> String {
    let Ok(mut opened) = text::from_reader(io::Cursor::new(head.to_vec())) else {
        return String::from_utf8_lossy(head).into_owned();
    };
    if opened.looks_utf16_without_bom {
        // The reader refuses such a file, saying why; the sniff only needs to know what it is.
        let (text, _) = encoding_rs::UTF_16LE.decode_without_bom_handling(head);
        return text.into_owned();
    }
    let mut bytes = Vec::new();
    // A transcoding error ends the text early; what was read before it is enough to sniff.
    let _ = opened.reader.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The evidence file's format, written by the removal script.
const EVIDENCE_MARK: &str = "t2t-notify/trust-evidence/";

/// Properties only an evidence file has (one without a `Format` is still refused as evidence,
/// with the field that is missing).
const EVIDENCE_PROPERTIES: [&str; 3] = [
    "verifyresult",
    "crosstenanthosturl",
    "partnercrosstenanthosturl",
];

fn json_kind(body: &str) -> Result<InputKind, String> {
    static PROPERTY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#""((?:[^"\\\r\n]|\\.){1,200})"\s*:"#).expect("valid"));
    let names: Vec<&str> = PROPERTY
        .captures_iter(body)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .collect();
    let evidence_property = names
        .iter()
        .any(|n| EVIDENCE_PROPERTIES.contains(&n.to_ascii_lowercase().as_str()));
    if evidence_property {
        return Ok(InputKind::TrustEvidence);
    }
    if move_state::has_state_column(&names) {
        return Ok(InputKind::MoveState);
    }
    Err(format!(
        "it is JSON, but neither a move-state export (no MoveState property) nor trust evidence (no \"Format\": \"{EVIDENCE_MARK}1\"); schedules and sign-in exports are read as CSV (Export-Csv)"
    ))
}

fn csv_kind(head: &[u8]) -> Result<InputKind, String> {
    let Some(names) = header_row(head) else {
        return Err("the file has no header row".into());
    };
    let has = |wanted: &[&str]| {
        names
            .iter()
            .any(|n| wanted.iter().any(|w| n.to_lowercase() == w.to_lowercase()))
    };
    if has(sign_ins::COLUMNS[1].names) {
        Ok(InputKind::SignIns)
    } else if has(schedule::COLUMNS[1].names) {
        Ok(InputKind::Schedule)
    } else if move_state::has_state_column(&names) {
        Ok(InputKind::MoveState)
    } else {
        Err(format!(
            "its first row ({}) names none of the columns t2t-notify reads: MoveState (a move-state export), PreferredMoveBeginDate or PlannedStart (a migration schedule), LastSuccessfulSignIn (a sign-in export)",
            quote(&names.join(","))
        ))
    }
}

/// The first row that is not blank or Windows PowerShell's `#TYPE` line, fields trimmed, as
/// `inputs::table` reads it.
fn header_row(head: &[u8]) -> Option<Vec<String>> {
    let opened = text::from_reader(io::Cursor::new(head.to_vec())).ok()?;
    let mut header = None;
    // An error past the header (a cut record at the end of the head) does not matter here.
    let _ = text::read_records(opened, |record, _, _| {
        let fields: Vec<String> = record
            .iter()
            .map(|b| text::decode_field(b).0.trim().to_string())
            .collect();
        if fields.iter().all(String::is_empty) || fields[0].starts_with("#TYPE") {
            return ControlFlow::Continue(());
        }
        header = Some(fields);
        ControlFlow::Break(())
    });
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(dir: &str, name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(dir)
            .join(name)
    }

    #[test]
    fn every_fixture_is_recognised_by_its_content_in_every_encoding() {
        let cases = [
            ("move-state", "batch-1.csv", InputKind::MoveState),
            ("move-state", "batch-1-utf16le.csv", InputKind::MoveState),
            ("move-state", "batch-1-utf16be.csv", InputKind::MoveState),
            ("move-state", "batch-1-utf32le.csv", InputKind::MoveState),
            ("move-state", "batch-1-utf7.csv", InputKind::MoveState),
            ("move-state", "batch-1-semicolons.csv", InputKind::MoveState),
            ("move-state", "batch-2.json", InputKind::MoveState),
            (
                "move-state",
                "batch-2-ps51-utf16le.json",
                InputKind::MoveState,
            ),
            ("move-state", "batch-3-single.json", InputKind::MoveState),
            ("move-state", "enum-numbers.json", InputKind::MoveState),
            ("move-state", "target-mismatch.csv", InputKind::MoveState),
            ("move-state", "bad-upn.csv", InputKind::MoveState),
            ("sign-ins", "ambiguous-date.csv", InputKind::SignIns),
            ("schedule", "wave-1.csv", InputKind::Schedule),
            ("schedule", "wave-2-de.csv", InputKind::Schedule),
            ("sign-ins", "ps51-utf16le.csv", InputKind::SignIns),
            ("sign-ins", "pwsh7-utf8.csv", InputKind::SignIns),
            ("sign-ins", "de-useculture.csv", InputKind::SignIns),
            ("trust", "accepted-source.json", InputKind::TrustEvidence),
            (
                "trust",
                "accepted-target-ps51-utf16le.json",
                InputKind::TrustEvidence,
            ),
            ("trust", "refused-not-json.json", InputKind::TrustEvidence),
            (
                "trust",
                "refused-format-missing.json",
                InputKind::TrustEvidence,
            ),
            (
                "trust",
                "refused-format-unknown.json",
                InputKind::TrustEvidence,
            ),
            (
                "trust",
                "refused-utf16-no-bom.json",
                InputKind::TrustEvidence,
            ),
        ];
        for (dir, name, kind) in cases {
            let got = sniff_file(&fixture(dir, name)).unwrap();
            assert_eq!(got, Ok(kind), "{dir}/{name}");
        }
    }

    #[test]
    fn a_file_of_no_known_kind_says_what_it_is_not() {
        let no_state = sniff_file(&fixture("move-state", "no-state-column.csv")).unwrap();
        assert_eq!(
            no_state,
            Err("its first row (`SourceUserPrincipalName,SourceSiteUrl`) names none of the columns t2t-notify reads: MoveState (a move-state export), PreferredMoveBeginDate or PlannedStart (a migration schedule), LastSuccessfulSignIn (a sign-in export)".into())
        );
        assert_eq!(sniff(b" \r\n"), Err("the file is empty".into()));
        assert_eq!(
            sniff(b"#TYPE X\r\n\r\n"),
            Err("the file has no header row".into())
        );
        let json = sniff(br#"[{"UserPrincipalName": "a@b.com", "LastSuccessfulSignIn": null}]"#);
        assert!(json.unwrap_err().starts_with("it is JSON, but neither"));
        // Without a header row, the first row of data is what the message quotes.
        let data = sniff(b"ana@contoso.com,Success\r\n").unwrap_err();
        assert!(
            data.starts_with("its first row (`ana@contoso.com,Success`)"),
            "{data}"
        );
    }

    #[test]
    fn a_cut_or_damaged_export_is_still_recognised() {
        let cut = br#"[{"SourceUserPrincipalName": "ana@contoso.com", "MoveState": "Succ"#;
        assert_eq!(sniff(cut), Ok(InputKind::MoveState));
        let schedule = "Wave;PreferredMoveBeginDate;UserPrincipalName\r\n1;08.12.2026;a@b.com";
        assert_eq!(sniff(schedule.as_bytes()), Ok(InputKind::Schedule));
    }
}
