//! `validate --move-state`: exports of `Get-SPOCrossTenantUserContentMoveState` in every
//! format and encoding PowerShell writes give the same verdict; only `Success` users are ready,
//! the others are counted by reason (`Failed` first); broken exports are located errors.

use serde_json::Value;

use crate::harness::*;
use crate::validate::{json_messages, json_prefixes};

fn validate(exports: &[&str], extra: &[&str]) -> T2t {
    let mut t = t2t()
        .current_dir(fixture("move-state"))
        .arg("--config")
        .arg(sample_config())
        .args(["validate", "--mapping", "map.csv"]);
    for e in exports {
        t = t.args(["--move-state", e]);
    }
    t.args(extra)
}

fn json_of(exports: &[&str], status: i32) -> Value {
    validate(exports, &["--format", "json"])
        .run()
        .status(status)
        .json()
}

/// `(reason, count)` of the held-back users, in the order printed.
fn held_back(json: &Value) -> Vec<(String, u64)> {
    json["move_states"]["held_back"]
        .as_array()
        .unwrap_or_else(|| panic!("no move_states.held_back in {json:#}"))
        .iter()
        .map(|h| {
            (
                h["reason"].as_str().unwrap().to_string(),
                h["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn expected_holds() -> Vec<(String, u64)> {
    [
        "Failed",
        "Rescheduled",
        "InProgress",
        "unknown state `Archived`",
        "not in any move-state export",
    ]
    .iter()
    .map(|r| (r.to_string(), 1))
    .collect()
}

const BATCH_1: &[(&str, u64)] = &[
    ("batch-1.csv", 7),
    ("batch-1-utf8-bom.csv", 7),
    ("batch-1-pwsh7.csv", 6),
    ("batch-1-utf16le.csv", 7),
    ("batch-1-utf16be.csv", 7),
    ("batch-1-utf32le.csv", 7),
    ("batch-1-utf32be.csv", 7),
    ("batch-1-utf7.csv", 7),
    ("batch-1-ansi.csv", 7),
    ("batch-1-semicolons.csv", 7),
];

#[test]
fn every_csv_encoding_and_shape_gives_the_same_verdict() {
    for (file, stranger_line) in BATCH_1 {
        let json = json_of(&[file, "batch-2.json", "batch-3-single.json"], 0);
        assert_eq!(
            json_prefixes(&json, "errors"),
            Vec::<String>::new(),
            "{file}: {json:#}"
        );
        assert_eq!(
            json_prefixes(&json, "warnings"),
            [
                format!("{file}:{stranger_line}"),
                "batch-2.json:11".to_string()
            ],
            "{file}: {json:#}"
        );
        let warnings = json_messages(&json, "warnings");
        assert!(
            warnings[0].starts_with(
                "stranger@contoso.com (Success) is not a source UPN in the mapping file map.csv"
            ),
            "{file}: {warnings:?}"
        );
        assert!(
            warnings[1].starts_with(
                "item [1] (MoveState): `Archived` is not a move state t2t-notify knows"
            ),
            "{warnings:?}"
        );
        assert_eq!(json["move_states"]["ready"], 3, "{file}");
        assert_eq!(held_back(&json), expected_holds(), "{file}");
    }
}

#[test]
fn every_json_shape_and_encoding_gives_the_same_verdict() {
    for file in [
        "batch-2.json",
        "batch-2-ps51-utf16le.json",
        "batch-2-utf8-bom.json",
    ] {
        let json = json_of(&["batch-1.csv", file, "batch-3-single.json"], 0);
        assert_eq!(
            json_prefixes(&json, "warnings"),
            ["batch-1.csv:7".to_string(), format!("{file}:11")],
            "{file}: {json:#}"
        );
        assert_eq!(json["move_states"]["ready"], 3, "{file}");
        assert_eq!(held_back(&json), expected_holds(), "{file}");
        assert_eq!(
            json["move_states"]["exports"],
            serde_json::json!(["batch-1.csv", file, "batch-3-single.json"])
        );
    }
}

#[test]
fn the_newest_entry_wins_whatever_the_file_order() {
    let forward = json_of(&["batch-1.csv", "batch-2.json"], 0);
    let backward = json_of(&["batch-2.json", "batch-1.csv"], 0);
    // ana: Success (batch 1) beats an older InProgress (batch 2); fay: a newer Success in batch 2
    // beats InProgress in batch 1. Without batch 3, hal is in no export.
    for json in [&forward, &backward] {
        assert_eq!(json["move_states"]["ready"], 2, "{json:#}");
        let holds = held_back(json);
        assert_eq!(
            holds.last().unwrap(),
            &("not in any move-state export".to_string(), 2),
            "{holds:?}"
        );
    }
    assert_eq!(held_back(&forward), held_back(&backward));
}

#[test]
fn human_output_counts_held_back_users_failed_first() {
    let run = validate(&["batch-1.csv", "batch-2.json", "batch-3-single.json"], &[])
        .run()
        .status(0);
    let out = run.stdout();
    let expected = "map.csv: valid: 8 users, 0 groups, 0 errors, 2 warnings\n\
move states from 3 export(s) (batch-1.csv, batch-2.json, batch-3-single.json):\n  \
ready to notify (Success): 3\n  \
held back: 5\n    \
Failed: 1 (the migration team must retry these moves)\n    \
Rescheduled: 1\n    \
InProgress: 1\n    \
unknown state `Archived`: 1\n    \
not in any move-state export: 1\n";
    assert_eq!(out, expected);
    assert!(
        run.stderr()
            .contains("batch-2.json:11: warning: item [1] (MoveState): `Archived`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn without_move_state_there_is_no_move_state_summary() {
    let json = json_of(&[], 0);
    assert!(json.get("move_states").is_none(), "{json:#}");
    validate(&[], &[])
        .run()
        .status(0)
        .lacks("held back")
        .lacks("move states");
}

#[test]
fn batch_needs_a_move_state_export() {
    validate(&[], &["--batch", "wave-1"])
        .run()
        .status(2)
        .contains("--move-state <FILE>");
    validate(&["batch-1.csv"], &["--batch", ""]).run().status(2);
    validate(&["batch-1.csv"], &["--batch", "wave-1"])
        .run()
        .status(0);
}

#[test]
fn an_export_without_a_state_column_is_an_error_on_its_header_line() {
    let json = json_of(&["no-state-column.csv"], 2);
    assert_eq!(json_prefixes(&json, "errors"), ["no-state-column.csv:2"]);
    assert!(json_messages(&json, "errors")[0].contains("no column for the move state (found `SourceUserPrincipalName,SourceSiteUrl`); name it one of MoveState, State"), "{json:#}");
}

#[test]
fn enum_numbers_are_errors_that_say_how_to_export_names() {
    let json = json_of(&["enum-numbers.json"], 2);
    assert_eq!(
        json_prefixes(&json, "errors"),
        ["enum-numbers.json:2", "enum-numbers.json:6"]
    );
    let errors = json_messages(&json, "errors");
    assert!(
        errors[0].starts_with("item [0] (MoveState): `4` is a number")
            && errors[0].contains("-EnumsAsStrings"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("item [1] (MoveState): `6` is a number"),
        "{errors:?}"
    );
}

#[test]
fn a_target_that_differs_from_the_mapping_is_a_warning() {
    let json = json_of(&["target-mismatch.csv"], 0);
    assert_eq!(json_prefixes(&json, "warnings"), ["target-mismatch.csv:2"]);
    assert!(json_messages(&json, "warnings")[0].contains("the export moves ana@contoso.com to ana.m@fabrikam.com, but the mapping file map.csv maps it to ana@fabrikam.com (line 1)"), "{json:#}");
    assert_eq!(json["move_states"]["ready"], 1);
}

#[test]
fn a_missing_export_names_the_file() {
    validate(&["batch-9.csv"], &[])
        .run()
        .status(2)
        .contains("the move-state export batch-9.csv does not exist; check the path");
}

#[test]
fn preview_shows_only_ready_users_and_names_the_held_back() {
    let out = tempfile::tempdir().unwrap();
    let run = t2t()
        .current_dir(fixture("move-state"))
        .arg("--config")
        .arg(sample_config())
        .args([
            "preview",
            "--mapping",
            "map.csv",
            "--move-state",
            "batch-1.csv",
        ])
        .arg("--out")
        .arg(out.path())
        .run();
    let validated = json_of(&["batch-1.csv"], 0);
    let ready = validated["move_states"]["ready"]
        .as_u64()
        .unwrap_or_else(|| panic!("{validated:#}"));
    let page = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    let emls = crate::harness::preview_files(out.path(), "eml").len() as u64;
    assert_eq!(emls, ready, "{}", run.stderr());
    assert!(page.contains("held back (not previewed)"), "{page}");
    assert!(page.contains("Failed: 1"), "{page}");
    assert!(
        page.contains(r#""batch":"batch-1""#),
        "batch label not in the gallery data"
    );
}
