use std::io::Cursor;

use super::*;

fn read_bytes(name: &str, content: &[u8]) -> (Vec<SignInRow>, Vec<String>) {
    let (rows, diags) = read_from(Cursor::new(content.to_vec()), name).unwrap();
    let shown = diags.sorted().iter().map(|d| d.to_string()).collect();
    (rows, shown)
}

fn read_str(content: &str) -> (Vec<SignInRow>, Vec<String>) {
    read_bytes("s.csv", content.as_bytes())
}

/// Each row as `upn time line` (`never` for no sign-in).
fn shown(rows: &[SignInRow]) -> Vec<String> {
    let show = |r: &SignInRow| {
        let time = r.last_success.map_or("never".into(), |t| t.to_rfc3339());
        format!("{} {time} {}", r.upn, r.line)
    };
    rows.iter().map(show).collect()
}

/// The four users every fixture holds (see tests/fixtures/sign-ins/make.py), their lines
/// shifted by the `#TYPE` line when there is one.
fn fixture_users(first_line: u64) -> Vec<String> {
    [
        "ana@fabrikam.com 2026-12-04T15:04:05+00:00",
        "bo@fabrikam.com never",
        "cy@fabrikam.com 2026-12-01T08:30:00+00:00",
        "dee@fabrikam.com 2026-11-28T00:00:59+00:00",
    ]
    .iter()
    .zip(first_line..)
    .map(|(row, line)| format!("{row} {line}"))
    .collect()
}

#[test]
fn powershell_51_7_and_german_exports_read_alike() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sign-ins");
    for (name, first_line) in [
        // #TYPE line, quoted fields, UTF-16 LE with BOM, en-US dates with AM/PM.
        ("ps51-utf16le.csv", 3),
        // UTF-8 without BOM, ISO 8601 from .ToString('o').
        ("pwsh7-utf8.csv", 2),
        // -UseCulture in de-DE: semicolons, UTF-8 with BOM, dotted dates.
        ("de-useculture.csv", 3),
    ] {
        let (rows, diags) = read(&fixtures.join(name)).unwrap();
        assert!(diags.is_empty(), "{name}: {diags:?}");
        assert_eq!(shown(&rows), fixture_users(first_line), "{name}");
    }
}

#[test]
fn every_accepted_time_form_and_column_name() {
    let cases = [
        ("2026-12-04T15:04:05.0000000Z", "2026-12-04T15:04:05+00:00"),
        (
            "2026-12-04T15:04:05.1234567Z",
            "2026-12-04T15:04:05.123456700+00:00",
        ),
        (
            "2026-12-04T16:04:05.0000000+01:00",
            "2026-12-04T15:04:05+00:00",
        ),
        ("2026-12-04T15:04:05Z", "2026-12-04T15:04:05+00:00"),
        ("2026-12-04T15:04:05", "2026-12-04T15:04:05+00:00"),
        ("2026-12-04 15:04:05", "2026-12-04T15:04:05+00:00"),
        ("12/4/2026 3:04:05 PM", "2026-12-04T15:04:05+00:00"),
        ("12/4/2026 12:04:05 AM", "2026-12-04T00:04:05+00:00"),
        ("04.12.2026 15:04:05", "2026-12-04T15:04:05+00:00"),
        ("2026-12-04", "2026-12-04T00:00:00+00:00"),
        ("", "never"),
    ];
    for column in [
        "LastSuccessfulSignIn",
        "LastSuccessfulSignInDateTime",
        "lastSuccessfulSignInDateTime",
        " SignInActivity.LastSuccessfulSignInDateTime ",
        "LASTSUCCESSFULSIGNIN",
    ] {
        let mut text = format!("DisplayName,userprincipalname,{column}\n");
        for (i, (value, _)) in cases.iter().enumerate() {
            text.push_str(&format!("U {i},u{i}@fabrikam.com,\"{value}\"\n"));
        }
        let (rows, diags) = read_str(&text);
        assert!(diags.is_empty(), "{column}: {diags:?}");
        let want: Vec<String> = cases
            .iter()
            .enumerate()
            .map(|(i, (_, t))| format!("u{i}@fabrikam.com {t} {}", i + 2))
            .collect();
        assert_eq!(shown(&rows), want, "{column}");
    }
}

#[test]
fn every_row_problem_is_reported_with_file_line_and_column() {
    let text = "UserPrincipalName,LastSuccessfulSignIn\n\
ana@fabrikam.com,12/04/2026 15:04:05\n\
bo@fabrikam,2026-12-04T15:04:05Z\n\
,2026-12-04T15:04:05Z\n\
cy@fabrikam.com,last week\n\
dee@@fabrikam.com,4/12/2026\n\
eve@fabrikam.com\n\
fay@fabrikam.com,2026-12-04T15:04:05Z\n";
    let (rows, diags) = read_str(text);
    let fix = format!("export the sign-ins again with the dates in ISO 8601: Select-Object UserPrincipalName, {ISO_COLUMN}");
    assert_eq!(
        diags,
        [
            format!("s.csv:2: column 2 (LastSuccessfulSignIn): `12/04/2026 15:04:05` has slashes and no AM/PM, so whether the day or the month comes first depends on the culture that wrote it (2026-04-12 or 2026-12-04?); {fix}"),
            "s.csv:3: column 1 (UserPrincipalName): `bo@fabrikam` domain `fabrikam` has no dot; write the full domain, e.g. contoso.com".into(),
            "s.csv:4: column 1 (UserPrincipalName): is empty; every row needs the user's UPN".into(),
            format!("s.csv:5: column 2 (LastSuccessfulSignIn): `last week` is not a date t2t-notify can read (ISO 8601 like 2026-12-04T15:04:05Z, 12/4/2026 3:04:05 PM, 04.12.2026 15:04:05; empty for never); {fix}"),
            "s.csv:6: column 1 (UserPrincipalName): `dee@@fabrikam.com` has more than one @".into(),
            format!("s.csv:6: column 2 (LastSuccessfulSignIn): `4/12/2026` has slashes and no AM/PM, so whether the day or the month comes first depends on the culture that wrote it (2026-12-04 or 2026-04-12?); {fix}"),
            "s.csv:7: the row has 1 field, the header has 2; export again with Export-Csv (values that contain the separator must be in double quotes)".into(),
        ]
    );
    assert_eq!(
        shown(&rows),
        ["fay@fabrikam.com 2026-12-04T15:04:05+00:00 8"]
    );
    assert!(ISO_COLUMN.contains(".ToString('o')"));
}

#[test]
fn a_user_listed_twice_keeps_the_newer_sign_in_with_a_warning() {
    let text = "UserPrincipalName,LastSuccessfulSignIn\n\
ana@fabrikam.com,2026-12-04T15:04:05Z\n\
bo@fabrikam.com,\n\
ANA@fabrikam.com,2026-12-01T00:00:00Z\n\
bo@fabrikam.com,2026-12-02T00:00:00Z\n\
cy@fabrikam.com,\n\
cy@fabrikam.com,\n";
    let (rows, diags) = read_str(text);
    assert_eq!(
        diags,
        [
            "s.csv:4: warning: column 1 (UserPrincipalName): `ANA@fabrikam.com` also has a row on line 2; the newer sign-in of the two is used: 2026-12-04T15:04:05+00:00",
            "s.csv:5: warning: column 1 (UserPrincipalName): `bo@fabrikam.com` also has a row on line 3; the newer sign-in of the two is used: 2026-12-02T00:00:00+00:00",
            "s.csv:7: warning: column 1 (UserPrincipalName): `cy@fabrikam.com` also has a row on line 6; the newer sign-in of the two is used: none (never signed in)",
        ]
    );
    assert_eq!(
        shown(&rows),
        [
            "ana@fabrikam.com 2026-12-04T15:04:05+00:00 2",
            "bo@fabrikam.com 2026-12-02T00:00:00+00:00 5",
            "cy@fabrikam.com never 6",
        ]
    );
}

#[test]
fn missing_columns_empty_files_and_files_without_rows() {
    let (rows, diags) = read_str("#TYPE X\nUserPrincipalName,SignInActivity\na@b.com,x\n");
    assert!(rows.is_empty());
    assert_eq!(diags, ["s.csv:2: the header row has no column for the last successful sign-in (found `UserPrincipalName,SignInActivity`); name it one of LastSuccessfulSignIn, LastSuccessfulSignInDateTime, SignInActivity.LastSuccessfulSignInDateTime (case does not matter)"]);
    let (_, diags) = read_str("Id,Upn\n1,a@b.com\n");
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert!(
        diags[0].contains(
            "no column for the user (found `Id,Upn`); name it one of UserPrincipalName (case"
        ),
        "{diags:?}"
    );
    let (_, diags) =
        read_str("#TYPE Selected.Microsoft.Graph.PowerShell.Models.MicrosoftGraphUser\r\n");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].starts_with("s.csv: the sign-in export is empty; export it with Get-MgUser -All -Property UserPrincipalName,SignInActivity | Select-Object UserPrincipalName, @{n='LastSuccessfulSignIn';e={ if"), "{diags:?}");
    let (_, diags) = read_str("UserPrincipalName,LastSuccessfulSignIn\r\n");
    assert_eq!(diags, ["s.csv: warning: the sign-in export lists no users"]);
}

#[test]
fn read_returns_the_io_error_of_a_file_it_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let err = read(&dir.path().join("missing.csv")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
}
