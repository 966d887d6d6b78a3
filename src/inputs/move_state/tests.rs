use std::io::Write;
use std::path::PathBuf;

use super::*;

/// Writes `content` to a file named `name` in a fresh folder; keeps the folder alive.
fn file(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(content)
        .unwrap();
    (dir, path)
}

fn read_str(name: &str, content: &str) -> (Vec<MoveEntry>, Vec<String>) {
    let (_dir, path) = file(name, content.as_bytes());
    let (entries, diags) = read(&path).unwrap();
    (entries, messages(&diags, &path))
}

/// Diagnostics without the folder: `name:LINE: ...`.
fn messages(diags: &Diagnostics, path: &Path) -> Vec<String> {
    let folder = format!(
        "{}{}",
        path.parent().unwrap().display(),
        std::path::MAIN_SEPARATOR
    );
    diags
        .sorted()
        .iter()
        .map(|d| d.to_string().replace(&folder, ""))
        .collect()
}

const CSV: &str = "#TYPE Microsoft.Online.SharePoint.TenantAdministration.SPOCrossTenantUserContentMoveState\r\n\
\"SourceUserPrincipalName\",\"TargetUserPrincipalName\",\"MoveState\",\"TimeStamp\",\"MoveJobId\"\r\n\
\"ana@contoso.com\",\"ana@fabrikam.com\",\"Success\",\"03/01/2025 10:00:00\",\"6f1c\"\r\n\
\"bo@contoso.com\",\"bo@fabrikam.com\",\"failed\",\"2025-03-01T11:00:00Z\",\"\"\r\n";

/// Each entry on one line: source, target, state, its text, time, job, batch, line, index.
fn shown(entries: &[MoveEntry]) -> Vec<String> {
    let show = |e: &MoveEntry| {
        let (target, job) = (e.target_upn.as_deref(), e.job_id.as_deref());
        let time = e.timestamp.map(|t| t.to_rfc3339());
        let (state, text, batch) = (e.state, &e.state_text, &e.batch);
        let at = (e.line, e.index);
        format!(
            "{} {target:?} {state:?} {text} {time:?} {job:?} {batch} {at:?}",
            e.source_upn
        )
    };
    entries.iter().map(show).collect()
}

#[test]
fn csv_export_with_type_line() {
    let (entries, diags) = read_str("batch-1.csv", CSV);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        shown(&entries),
        [
            r#"ana@contoso.com Some("ana@fabrikam.com") Some(Success) Success Some("2025-03-01T10:00:00+00:00") Some("6f1c") batch-1 (3, None)"#,
            r#"bo@contoso.com Some("bo@fabrikam.com") Some(Failed) failed Some("2025-03-01T11:00:00+00:00") None batch-1 (4, None)"#,
        ]
    );
    let at = entries[0].location();
    assert!(at.ends_with("batch-1.csv:3"), "{at}");
}

#[test]
fn csv_with_other_names_and_semicolons_after_type_line() {
    let text = "#TYPE X\nsource upn;STATE;Last Modified\nana@contoso.com;InProgress;\n";
    let (entries, diags) = read_str("b.csv", text);
    assert!(diags.is_empty(), "{diags:?}");
    let only = "ana@contoso.com None Some(InProgress) InProgress None None b (3, None)";
    assert_eq!(shown(&entries), [only]);
}

#[test]
fn csv_row_problems_are_located() {
    let text = "SourceUpn,State,TimeStamp\n\
ana@contoso.com,Archived,\n\
bo@contoso.com,4,\n\
,Success,\n\
cy@contoso,Success,\n\
dee@contoso.com,Success,last week\n\
eve@contoso.com,Success\n\
fay@contoso.com,,\n";
    let (entries, diags) = read_str("b.csv", text);
    assert_eq!(
        diags,
        vec![
            "b.csv:2: warning: column 2 (State): `Archived` is not a move state t2t-notify knows (NotStarted, Scheduled, ReadytoTrigger, InProgress, Success, Rescheduled, Failed, Stopped, Queued, NotSupported); the user is held back, not guessed",
            "b.csv:3: column 2 (State): `4` is a number (PowerShell wrote the state's enum value, which t2t-notify does not guess); export the names: add -EnumsAsStrings to ConvertTo-Json (PowerShell 7), or turn the state into text first, e.g. Select-Object SourceUserPrincipalName, @{n='MoveState';e={\"$($_.MoveState)\"}}, TimeStamp | ConvertTo-Json",
            "b.csv:4: column 1 (SourceUpn): is empty; every entry needs the source user's UPN",
            "b.csv:5: column 1 (SourceUpn): `cy@contoso` domain `contoso` has no dot; write the full domain, e.g. contoso.com",
            "b.csv:6: warning: column 3 (TimeStamp): `last week` is not a time t2t-notify can read (ISO 8601 like 2025-03-01T10:00:00Z, /Date(1740823200000)/, or MM/dd/yyyy HH:mm:ss); the entry counts as undated, so a later export wins over it",
            "b.csv:7: the row has 2 fields, the header has 3; export again with Export-Csv (values that contain the separator must be in double quotes)",
            "b.csv:8: column 2 (State): is empty; every entry needs the move state (Success, Failed, ...)",
        ]
    );
    assert_eq!(
        shown(&entries),
        [
            "ana@contoso.com None None Archived None None b (2, None)",
            "bo@contoso.com None None 4 None None b (3, None)",
            "dee@contoso.com None Some(Success) Success None None b (6, None)",
        ]
    );
    assert_eq!(entries[0].state_label(), "unknown state `Archived`");
}

#[test]
fn csv_without_required_columns_names_the_accepted_ones() {
    let (entries, diags) = read_str(
        "b.csv",
        "#TYPE X\r\nUserPrincipalName,DisplayName\r\nana@contoso.com,Ana\r\n",
    );
    assert!(entries.is_empty());
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert_starts(&diags, 0, "b.csv:2: the header row has no column for the source user (found `UserPrincipalName,DisplayName`); name it one of SourceUserPrincipalName, SourceUserUpn");
    assert!(
        diags[1].contains("no column for the move state") && diags[1].contains("MoveState, State"),
        "{diags:?}"
    );
}

#[test]
fn empty_exports_are_reported() {
    assert_eq!(read_str("e.csv", " \r\n").1, ["e.csv: the file is empty; export the move state with Get-SPOCrossTenantUserContentMoveState -PartnerCrossTenantHostUrl <url> | Export-Csv <file> (or ConvertTo-Json)"]);
    assert_eq!(
        read_str("h.csv", "#TYPE X\r\nSourceUpn,State\r\n").1,
        ["h.csv: warning: the export lists no moves; nobody in it can be notified"]
    );
    assert_eq!(read_str("t.csv", "#TYPE X\r\n").1, ["t.csv: the file has no header row; export with Export-Csv, which writes the column names first"]);
    assert_eq!(
        read_str("a.json", "[]").1,
        ["a.json: warning: the export lists no moves; nobody in it can be notified"]
    );
}

const JSON: &str = "[\r\n    {\r\n        \"SourceUserPrincipalName\":  \"ana@contoso.com\",\r\n        \"MoveState\":  \"Success\",\r\n        \"TimeStamp\":  \"\\/Date(1740823200000)\\/\"\r\n    },\r\n    {\r\n        \"sourceuserupn\":  \"bo@contoso.com\",\r\n        \"state\":  \"ReadyToTrigger\",\r\n        \"LastModified\":  {\"value\": \"\\/Date(1740826800000)\\/\", \"DisplayHint\": 2, \"DateTime\": \"Saturday, March 1, 2025 11:00:00 AM\"},\r\n        \"JobId\":  17\r\n    }\r\n]\r\n";

#[test]
fn json_array_from_windows_powershell() {
    let (entries, diags) = read_str("batch-2.json", JSON);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        shown(&entries),
        [
            r#"ana@contoso.com None Some(Success) Success Some("2025-03-01T10:00:00+00:00") None batch-2 (2, Some(0))"#,
            r#"bo@contoso.com None Some(ReadyToTrigger) ReadyToTrigger Some("2025-03-01T11:00:00+00:00") Some("17") batch-2 (7, Some(1))"#,
        ]
    );
    let at = entries[1].location();
    assert!(at.ends_with("batch-2.json:7 (item [1])"), "{at}");
}

#[test]
fn json_single_object_in_utf16_and_utf8_bom() {
    let text = "{\n  \"SourceUpn\": \"ana@contoso.com\",\n  \"State\": \"Failed\",\n  \"TimeStamp\": \"2025-03-01T10:00:00.0000000+00:00\"\n}\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    for content in [utf16, bom] {
        let (_dir, path) = file("one.json", &content);
        let (entries, diags) = read(&path).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            shown(&entries),
            [
                r#"ana@contoso.com None Some(Failed) Failed Some("2025-03-01T10:00:00+00:00") None one (1, Some(0))"#
            ]
        );
    }
}

#[test]
fn json_problems_name_line_and_item() {
    let text = "[\n{\"SourceUpn\": \"ana@contoso.com\", \"State\": 4},\n{\"SourceUpn\": [\"x\"], \"State\": \"Success\"},\n\"oops\",\n{\"SourceUpn\": \"cy@contoso.com\", \"State\": \"Done\", \"TimeStamp\": {\"x\": 1}}\n]";
    let (entries, diags) = read_str("b.json", text);
    assert_eq!(diags.len(), 5, "{diags:?}");
    assert_starts(&diags, 0, "b.json:2: item [0] (State): `4` is a number");
    assert_eq!(diags[1], "b.json:3: item [1] (SourceUpn): is an array, not text; select the property as text before ConvertTo-Json");
    assert_eq!(
        diags[2],
        "b.json:4: item [2]: is a string, not an object with the move's properties"
    );
    assert_eq!(diags[3], "b.json:5: item [3] (TimeStamp): is an object without a `value` or `DateTime` property; export the time as text");
    assert_starts(
        &diags,
        4,
        "b.json:5: warning: item [3] (State): `Done` is not a move state",
    );
    let users: Vec<&str> = entries.iter().map(|e| e.source_upn.as_str()).collect();
    assert_eq!(users, ["ana@contoso.com", "cy@contoso.com"]);
}

#[test]
fn json_syntax_errors_and_missing_properties() {
    let (entries, diags) = read_str(
        "b.json",
        "[\n{\"SourceUpn\": \"a@b.com\",\n\"State\" \"Success\"}\n]",
    );
    assert!(entries.is_empty());
    assert_starts(
        &diags,
        0,
        "b.json:3: not valid JSON (expected `:` at line 3 column 9)",
    );
    let (_, diags) = read_str(
        "b.json",
        "[{\"UserPrincipalName\": \"a@b.com\", \"MoveState\": \"Success\"}]",
    );
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_starts(
        &diags,
        0,
        "b.json:1: item [0]: no property for the source user (found `MoveState,UserPrincipalName`)",
    );
}

/// Entries of one export: source UPN, state and time, all read from the file `batch.csv`.
fn export(batch: &str, rows: &[(&str, MoveState, Option<&str>)]) -> Vec<MoveEntry> {
    rows.iter()
        .map(|&(upn, state, ts)| MoveEntry {
            source_upn: upn.into(),
            target_upn: None,
            state: Some(state),
            state_text: state.name().into(),
            timestamp: ts.and_then(parse_timestamp),
            job_id: None,
            batch: batch.into(),
            file: format!("{batch}.csv").into(),
            line: 2,
            index: None,
        })
        .collect()
}

#[test]
fn newest_entry_wins_then_the_later_file() {
    use MoveState::*;
    let (day1, day2, day3) = (
        Some("2025-03-01T00:00:00Z"),
        Some("2025-03-02T00:00:00Z"),
        Some("2025-03-03T00:00:00Z"),
    );
    let mut states = MoveStates::default();
    let first = [
        ("ana@contoso.com", Success, day2),
        ("bo@contoso.com", Failed, day1),
        ("cy@contoso.com", InProgress, None),
        ("dee@contoso.com", InProgress, day1),
    ];
    states.add(export("b1", &first), None);
    let second = [
        ("ANA@contoso.com", Failed, day1),
        ("bo@contoso.com", Success, day3),
        ("cy@contoso.com", Success, day1),
        ("dee@contoso.com", Rescheduled, day1),
    ];
    states.add(export("b2", &second), None);
    let state = |u: &str| {
        states
            .state_of(u)
            .map(|e| (e.state.unwrap(), e.batch.as_str()))
    };
    assert_eq!(
        state("Ana@Contoso.com"),
        Some((MoveState::Success, "b1")),
        "older timestamp in a later file loses"
    );
    assert_eq!(state("bo@contoso.com"), Some((MoveState::Success, "b2")));
    assert_eq!(
        state("cy@contoso.com"),
        Some((MoveState::Success, "b2")),
        "undated: the later file wins"
    );
    assert_eq!(
        state("dee@contoso.com"),
        Some((MoveState::Rescheduled, "b2")),
        "same time: the later file wins"
    );
    assert_eq!(state("nobody@contoso.com"), None);
    assert_eq!(states.len(), 4);
}

#[test]
fn load_reads_files_in_order_and_applies_the_batch_label() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("batch-1.csv");
    let two = dir.path().join("batch-2.json");
    let csv = "SourceUpn,State\r\nana@contoso.com,InProgress\r\nbo@contoso.com,Nope\r\n";
    std::fs::write(&one, csv).unwrap();
    let json = "{\"SourceUpn\": \"ana@contoso.com\", \"State\": \"Success\"}";
    std::fs::write(&two, json).unwrap();
    let (states, diags) = MoveStates::load(&[one.clone(), two.clone()], None).unwrap();
    assert_eq!(diags.warnings().count(), 1);
    assert_eq!(states.state_of("ana@contoso.com").unwrap().batch, "batch-2");
    assert_eq!(states.state_of("bo@contoso.com").unwrap().state, None);
    assert_eq!(states.files().len(), 2);
    let (states, _) = MoveStates::load(&[one, two], Some("wave 3")).unwrap();
    assert!(states.entries().iter().all(|e| e.batch == "wave 3"));
    let err = MoveStates::load(&[dir.path().join("missing.csv")], None).unwrap_err();
    let err = err.to_string();
    assert!(err.contains("cannot read the move-state export"), "{err}");
    assert!(err.contains("missing.csv"), "{err}");
}

#[test]
fn states_parse_case_insensitively_and_sort_failed_first() {
    assert_eq!(
        MoveState::parse("readytotrigger"),
        Some(MoveState::ReadyToTrigger)
    );
    assert_eq!(MoveState::parse(" SUCCESS "), Some(MoveState::Success));
    assert_eq!(MoveState::parse("Succeeded"), None);
    assert_eq!(MoveState::ReadyToTrigger.to_string(), "ReadytoTrigger");
    let mut all = MoveState::ALL.to_vec();
    all.sort();
    assert_eq!(all[0], MoveState::Failed);
    let names = [MoveState::InProgress, MoveState::ReadyToTrigger];
    assert_eq!(
        serde_json::to_string(&names).unwrap(),
        r#"["InProgress","ReadytoTrigger"]"#
    );
}

/// Asserts that message `i` of `m` starts with `prefix`.
fn assert_starts(m: &[String], i: usize, prefix: &str) {
    assert!(
        m.get(i).is_some_and(|x| x.starts_with(prefix)),
        "{i}: {m:?}"
    );
}
