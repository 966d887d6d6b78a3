use std::io::Cursor;
use std::path::Path;

use super::*;

/// The schedule read from `files` (name, content) in order, and its diagnostics as shown.
fn read_all(files: &[(&str, &[u8])]) -> (Schedule, Vec<String>) {
    let mut schedule = Schedule::default();
    let mut diags = Diagnostics::default();
    for (name, content) in files {
        let reader = Cursor::new(content.to_vec());
        schedule.read_from(reader, name, &mut diags).unwrap();
    }
    let shown = diags.sorted().iter().map(|d| d.to_string()).collect();
    (schedule, shown)
}

fn read_str(content: &str) -> (Schedule, Vec<String>) {
    read_all(&[("s.csv", content.as_bytes())])
}

/// Each entry as `upn date wave line`.
fn shown(schedule: &Schedule) -> Vec<String> {
    let show = |e: &ScheduleEntry| {
        let wave = e.wave.as_deref().unwrap_or("-");
        format!(
            "{} {} {wave} {}:{}",
            e.source_upn, e.planned_start, e.file, e.line
        )
    };
    schedule.entries().iter().map(show).collect()
}

#[test]
fn every_accepted_date_form_is_the_date_as_written() {
    let cases = [
        ("2026-12-08", "2026-12-08"),
        ("2026-12-08T09:00:00", "2026-12-08"),
        ("2026-12-08T09:00:00Z", "2026-12-08"),
        ("2026-12-08T00:30:00+01:00", "2026-12-08"),
        ("2026-12-08T23:30:00-05:00", "2026-12-08"),
        ("2026-12-08T09:00:00.0000000+01:00", "2026-12-08"),
        ("2026-12-08T09:00:00.0000000", "2026-12-08"),
        ("2026-12-08 09:00:00", "2026-12-08"),
        ("12/8/2026 9:00:00 AM", "2026-12-08"),
        ("12/08/2026 11:30:00 PM", "2026-12-08"),
        ("08.12.2026 09:00:00", "2026-12-08"),
        ("8.12.2026", "2026-12-08"),
        (" 2026-12-08 ", "2026-12-08"),
    ];
    let mut text = String::from("SourceUpn,PlannedStart\n");
    for (i, (value, _)) in cases.iter().enumerate() {
        text.push_str(&format!("u{i}@contoso.com,\"{value}\"\n"));
    }
    let (schedule, diags) = read_str(&text);
    assert!(diags.is_empty(), "{diags:?}");
    for (i, (value, want)) in cases.iter().enumerate() {
        let entry = schedule.get(&format!("U{i}@Contoso.com")).unwrap();
        assert_eq!(entry.planned_start.to_string(), *want, "{value}");
        assert_eq!(entry.line, i as u64 + 2);
    }
    assert_eq!(schedule.len(), cases.len());
}

#[test]
fn every_row_problem_is_reported_with_file_line_and_column() {
    let text = "Wave,SourceUpn,PlannedStart\n\
1,ana@contoso.com,08/12/2026\n\
1,bo@contoso,2026-12-08\n\
1,,2026-12-08\n\
1,cy@contoso.com,\n\
2,dee@contoso.com,next tuesday\n\
2,eve contoso.com,12/8/2026\n\
2,fay@contoso.com\n\
2,gus@contoso.com,2026-12-09\n";
    let (schedule, diags) = read_str(text);
    assert_eq!(
        diags,
        [
            "s.csv:2: column 3 (PlannedStart): `08/12/2026` has slashes and no AM/PM, so whether the day or the month comes first depends on the culture that wrote it (2026-12-08 or 2026-08-12?); write it as yyyy-MM-dd, e.g. 2026-12-08",
            "s.csv:3: column 2 (SourceUpn): `bo@contoso` domain `contoso` has no dot; write the full domain, e.g. contoso.com",
            "s.csv:4: column 2 (SourceUpn): is empty; every row needs the source user's UPN",
            "s.csv:5: column 3 (PlannedStart): is empty; give the day the move is planned to start: write it as yyyy-MM-dd, e.g. 2026-12-08",
            "s.csv:6: column 3 (PlannedStart): `next tuesday` is not a date t2t-notify can read; write it as yyyy-MM-dd, e.g. 2026-12-08 (ISO 8601 date-times, 12/8/2026 9:00:00 AM and 08.12.2026 are read too)",
            "s.csv:7: column 2 (SourceUpn): `eve contoso.com` contains a space; a user principal name has none",
            "s.csv:7: column 3 (PlannedStart): `12/8/2026` has slashes and no AM/PM, so whether the day or the month comes first depends on the culture that wrote it (2026-08-12 or 2026-12-08?); write it as yyyy-MM-dd, e.g. 2026-12-08",
            "s.csv:8: the row has 2 fields, the header has 3; export again with Export-Csv (values that contain the separator must be in double quotes)",
        ]
    );
    assert_eq!(shown(&schedule), ["gus@contoso.com 2026-12-09 2 s.csv:9"]);
}

#[test]
fn column_names_are_matched_without_case_or_surrounding_spaces() {
    let text = "#TYPE System.Management.Automation.PSCustomObject\r\n\
\" preferredmovebegindate \";\"Notes\";\"SOURCEUSERPRINCIPALNAME\";\"batch\"\r\n\
\"2026-12-08\";\"a; b\";\"ana@contoso.com\";\"\"\r\n\
\"2026-12-09\";\"\";\"bo@contoso.com\";\"wave 2\"\r\n";
    let (schedule, diags) = read_str(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        shown(&schedule),
        [
            "ana@contoso.com 2026-12-08 - s.csv:3",
            "bo@contoso.com 2026-12-09 wave 2 s.csv:4",
        ]
    );
    // SourceUpn is preferred over UserPrincipalName (the target's, in some exports).
    let text = "UserPrincipalName,SourceUpn,PlannedStartDate\nana@fabrikam.com,ana@contoso.com,2026-12-08\n";
    let (schedule, diags) = read_str(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(shown(&schedule), ["ana@contoso.com 2026-12-08 - s.csv:2"]);
}

#[test]
fn utf16_with_bom_and_quoted_fields_like_windows_powershell() {
    let text = "#TYPE System.Management.Automation.PSCustomObject\r\n\"SourceUpn\",\"PlannedStart\"\r\n\"zoë@contoso.com\",\"12/8/2026 9:00:00 AM\"\r\n\"ana@contoso.com\",\"08.12.2026 09:00:00\"\r\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let (schedule, diags) = read_all(&[("w.csv", &utf16)]);
    assert_eq!(
        diags,
        ["w.csv:3: column 1 (SourceUpn): `zoë@contoso.com` character `ë` (U+00EB) is not allowed in a user principal name (allowed: letters A-Z, digits and ' . - _ ! # ^ ~)"]
    );
    assert_eq!(shown(&schedule), ["ana@contoso.com 2026-12-08 - w.csv:4"]);
}

#[test]
fn a_missing_column_is_one_error_naming_what_was_found_and_what_is_accepted() {
    let (schedule, diags) = read_str("UserPrincipalName,Date\nana@contoso.com,2026-12-08\n");
    assert!(schedule.is_empty());
    assert_eq!(
        diags,
        ["s.csv:1: the header row has no column for the planned start (found `UserPrincipalName,Date`); name it one of PlannedStart, PreferredMoveBeginDate, PlannedStartDate (case does not matter)"]
    );
    let (_, diags) = read_str("ana@contoso.com,2026-12-08\nbo@contoso.com,2026-12-09\n");
    assert_eq!(diags.len(), 2, "{diags:?}");
    let starts = "s.csv:1: the header row has no column for the source UPN (found `ana@contoso.com,2026-12-08`); name it one of SourceUpn, SourceUserPrincipalName, UserPrincipalName (case does not matter); the first row looks like data, not column names: add a header row";
    assert_eq!(diags[0], starts);
    assert!(
        diags[1].contains("no column for the planned start"),
        "{diags:?}"
    );
}

#[test]
fn empty_files_and_files_without_rows() {
    let (_, diags) = read_str("\r\n \r\n");
    assert_eq!(diags, ["s.csv: the schedule is empty; it needs a header row (SourceUpn,PlannedStart) and one row per user with the date given to Start-SPOCrossTenantUserContentMove -PreferredMoveBeginDate"]);
    let (_, diags) = read_str("#TYPE X\r\nSourceUpn,PlannedStart\r\n,\r\n");
    assert_eq!(diags, ["s.csv: warning: the schedule lists no users"]);
    let (_, diags) = read_all(&[("u.csv", b"S\0o\0u\0r\0c\0e\0U\0p\0n\0,\0")]);
    assert_eq!(diags, ["u.csv: the file looks like UTF-16 without a byte order mark (every other byte is NUL); export it again with -Encoding UTF8"]);
}

#[test]
fn a_user_listed_twice_same_date_warns_other_date_errs_naming_both_lines() {
    let one = "SourceUpn,PlannedStart\nana@contoso.com,2026-12-08\nbo@contoso.com,2026-12-08\nANA@contoso.com,2026-12-08T10:00:00\nbo@contoso.com,2026-12-09\n";
    let two = "SourceUpn,PlannedStart\ncy@contoso.com,2026-12-10\nana@Contoso.com,2026-12-15\n";
    let (schedule, diags) = read_all(&[("w1.csv", one.as_bytes()), ("w2.csv", two.as_bytes())]);
    assert_eq!(
        diags,
        [
            "w1.csv:4: warning: column 1 (SourceUpn): `ANA@contoso.com` is already planned for 2026-12-08 on line 2; this row says the same: delete it",
            "w1.csv:5: column 2 (PlannedStart): `bo@contoso.com` is planned for 2026-12-08 on line 3 and for 2026-12-09 here; keep one row per user, with the date given to -PreferredMoveBeginDate",
            "w2.csv:3: column 2 (PlannedStart): `ana@Contoso.com` is planned for 2026-12-08 on w1.csv:2 and for 2026-12-15 here; keep one row per user, with the date given to -PreferredMoveBeginDate",
        ]
    );
    assert_eq!(
        shown(&schedule),
        [
            "ana@contoso.com 2026-12-08 - w1.csv:2",
            "bo@contoso.com 2026-12-08 - w1.csv:3",
            "cy@contoso.com 2026-12-10 - w2.csv:2",
        ]
    );
    assert_eq!(schedule.get("nobody@contoso.com"), None);
}

#[test]
fn load_reads_each_wave_file_and_names_a_file_it_cannot_read() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schedule");
    let paths = [fixtures.join("wave-1.csv"), fixtures.join("wave-2-de.csv")];
    let (schedule, diags) = Schedule::load(&paths).unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    let rows: Vec<String> = shown(&schedule)
        .iter()
        .map(|s| {
            s.replace(
                &format!("{}{}", fixtures.display(), std::path::MAIN_SEPARATOR),
                "",
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "ana@contoso.com 2026-12-08 1 wave-1.csv:2",
            "bo@contoso.com 2026-12-08 1 wave-1.csv:3",
            "cy@contoso.com 2026-12-09 1 wave-1.csv:4",
            "dee@contoso.com 2026-12-15 - wave-2-de.csv:3",
            "eve@contoso.com 2026-12-15 - wave-2-de.csv:4",
        ]
    );
    let missing = fixtures.join("missing.csv");
    let err = Schedule::load(&[paths[0].clone(), missing]).unwrap_err();
    let err = format!("{err:#}");
    assert!(
        err.starts_with("cannot read the migration schedule "),
        "{err}"
    );
    assert!(err.contains("missing.csv"), "{err}");
}
