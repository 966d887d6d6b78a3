//! `validate` on the shipped sample data, on malformed identity maps (one fixture per problem,
//! asserting the exact exit status and the exact `FILE:LINE: column N (name)` of every
//! diagnostic, in the JSON and in the human output), on directory CSVs, and on config problems.

use std::path::Path;

use serde_json::Value;

use crate::harness::*;

/// A diagnostic as its human prefix: `FILE:LINE: column N (name)`, `FILE:LINE` or `FILE`.
fn prefix(file: &str, line: Option<u64>, column: Option<(u64, &str)>) -> String {
    match (line, column) {
        (None, _) => file.to_string(),
        (Some(l), None) => format!("{file}:{l}"),
        (Some(l), Some((c, name))) => format!("{file}:{l}: column {c} ({name})"),
    }
}

/// The prefixes of the `errors` or `warnings` of a `validate --format json` output, in order.
pub(crate) fn json_prefixes(json: &Value, list: &str) -> Vec<String> {
    json[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} array in {json}"))
        .iter()
        .map(|d| {
            let column = d["column"]
                .as_u64()
                .map(|c| (c, d["column_name"].as_str().expect("column_name")));
            prefix(
                d["file"].as_str().expect("file"),
                d["line"].as_u64(),
                column,
            )
        })
        .collect()
}

/// Every message of a JSON list, for looking up what a diagnostic says.
pub(crate) fn json_messages(json: &Value, list: &str) -> Vec<String> {
    json[list]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["message"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The (is_warning, prefix) of every diagnostic line a human-format run printed about `files`.
fn human_prefixes(stderr: &str, files: &[&str]) -> Vec<(bool, String)> {
    let re =
        regex::Regex::new(r"^(?::(\d+))?: (warning: )?(?:column (\d+) \(([^)]*)\): )?").unwrap();
    let mut out = Vec::new();
    for line in stderr.lines() {
        let Some((file, rest)) = files
            .iter()
            .find_map(|f| line.strip_prefix(f).map(|r| (*f, r)))
        else {
            continue;
        };
        let Some(c) = re.captures(rest) else { continue };
        let num = |i: usize| c.get(i).map(|m| m.as_str().parse::<u64>().unwrap());
        let column = num(3).map(|n| (n, c.get(4).unwrap().as_str()));
        out.push((c.get(2).is_some(), prefix(file, num(1), column)));
    }
    out.sort();
    out
}

/// One malformed (or quirky but valid) identity map and what `validate` must say about it.
struct Case {
    file: &'static str,
    status: i32,
    /// Prefixes without the file name: `"2: column 6 (user type)"`, `"1"` (a line), `""` (the file).
    errors: &'static [&'static str],
    warnings: &'static [&'static str],
    /// Some diagnostic's message contains this.
    says: &'static str,
}

const fn bad(file: &'static str, errors: &'static [&'static str], says: &'static str) -> Case {
    Case {
        file,
        status: 2,
        errors,
        warnings: &[],
        says,
    }
}

const QUIRK_WARNINGS: &[&str] = &["1: column 2 (source tenant ID)", "3: column 3 (source UPN)"];

const CASES: &[Case] = &[
    bad("fields-5.csv", &["2: column 6 (user type)"], "the row has 5 fields, a User row needs 6 (missing: user type)"),
    bad("fields-7.csv", &["2: column 7 (extra)"], "the row has 7 fields, expected 6"),
    bad("fields-1.csv", &["2: column 2 (source tenant ID)"], "the row has 1 field, a User row needs 6"),
    bad("trailing-comma.csv", &["1: column 7 (extra)"], "remove the extra fields"),
    Case {
        file: "unquoted-comma-in-group-name.csv",
        status: 2,
        errors: &["2: column 7 (extra)"],
        warnings: &["2: column 6 (group type)", "2: column 6 (group type)"],
        says: "a value that contains a comma must be in double quotes",
    },
    bad("bad-row-type.csv", &["2: column 1 (row type)"], "`Usr` is not a row type; write User or Group"),
    bad("header-row.csv", &["1"], "looks like a header row"),
    bad("semicolons.csv", &["1", "3: column 3 (source UPN)"], "separated by semicolons, not commas"),
    bad("semicolons-utf8-bom.csv", &["1"], "separated by semicolons"),
    bad("unicode-text-tabs.txt", &["1"], "separated by tabs, not commas"),
    bad("empty.csv", &[""], "the file is empty"),
    bad("blank-lines-only.csv", &[""], "the file is empty"),
    bad("only-groups.csv", &[""], "only Group rows"),
    Case {
        file: "blank-rows-in-the-middle.csv",
        status: 2,
        errors: &["3", "4: column 2 (source tenant ID)"],
        warnings: &[],
        says: "every field of this row is empty",
    },
    bad("tenant-not-guid.csv", &["2: column 2 (source tenant ID)"], "`contoso.onmicrosoft.com` is not a GUID"),
    bad("tenant-in-braces.csv", &["1: column 2 (source tenant ID)"], "is not a GUID"),
    bad(
        "tenant-not-config.csv",
        &["2: column 2 (source tenant ID)", "3: column 2 (source tenant ID)"],
        "is not the source tenant ID in the config (6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01)",
    ),
    bad("source-upn-no-at.csv", &["2: column 3 (source UPN)"], "`user2` has no @"),
    bad("source-upn-space.csv", &["1: column 3 (source UPN)"], "contains a space"),
    bad("source-upn-accent.csv", &["1: column 3 (source UPN)"], "`é` (U+00E9) is not allowed"),
    bad("source-upn-too-long.csv", &["1: column 3 (source UPN)"], "has at most 113"),
    bad("target-upn-no-domain-dot.csv", &["2: column 4 (target UPN)"], "domain `fabrikam` has no dot"),
    bad("target-upn-two-at.csv", &["1: column 4 (target UPN)"], "more than one @"),
    bad("email-space.csv", &["2: column 5 (target email)"], "contains a space; an email address has none"),
    bad("email-empty.csv", &["1: column 5 (target email)"], "is empty; it must be an email address"),
    Case {
        file: "user-type-member.csv",
        status: 0,
        errors: &[],
        warnings: &["2: column 6 (user type)", "3: column 6 (user type)"],
        says: "`Member` is not a user type SharePoint knows, and the upload silently ignores it; use one of RegularUser, AdminUser, GuestUser, None",
    },
    Case {
        file: "every-error-in-one-row.csv",
        status: 2,
        errors: &["1: column 2 (source tenant ID)", "1: column 3 (source UPN)", "1: column 4 (target UPN)", "1: column 5 (target email)"],
        warnings: &["1: column 6 (user type)"],
        says: "`nobody` has no @",
    },
    bad(
        "errors-on-many-lines.csv",
        &["2: column 2 (source tenant ID)", "4: column 3 (source UPN)", "6: column 5 (target email)"],
        "`user6` has no @",
    ),
    bad("duplicate-source-upn.csv", &["3: column 3 (source UPN)"], "`USER1@Contoso.com` is already mapped on line 1 (case-insensitive)"),
    bad("duplicate-target-upn.csv", &["2: column 4 (target UPN)"], "`User1@FABRIKAM.com` is already mapped on line 1 (case-insensitive)"),
    bad(
        "duplicate-groups.csv",
        &["3: column 3 (source group ID)", "4: column 4 (target group ID)"],
        "is already mapped on line 2",
    ),
    bad(
        "group-bad-guids.csv",
        &["2: column 3 (source group ID)", "3: column 4 (target group ID)"],
        "`Sales` is not a group object ID (GUID)",
    ),
    bad("group-empty-name.csv", &["2: column 5 (group name)"], "write the group name"),
    Case {
        file: "group-type-m365group.csv",
        status: 0,
        errors: &[],
        warnings: &["2: column 6 (group type)"],
        says: "the mapping file says O365Group",
    },
    bad("nul-byte.csv", &["2: column 3 (source UPN)"], "contains a NUL byte"),
    bad("field-100kb.csv", &["2: column 3 (source UPN)"], "is too long: the row passes 64 KB"),
    bad("crlf-in-quoted-upn.csv", &["2: column 3 (source UPN)", "4: column 5 (target email)"], "contains a line break"),
    bad("unclosed-quote.csv", &["2: column 3 (source UPN)", "2: column 4 (target UPN)"], "a double quote is never closed"),
    bad("utf16-without-bom.csv", &[""], "UTF-16 without a byte order mark"),
    Case {
        file: "windows-1252-accent-in-upn.csv",
        status: 2,
        errors: &["2: column 3 (source UPN)"],
        warnings: &["2"],
        says: "read as Windows-1252",
    },
    bad("utf16be-bad-email.csv", &["3: column 5 (target email)"], "`user3(at)fabrikam.com` has no @"),
    bad("mac-cr-line-ends.csv", &["3: column 3 (source UPN)"], "`user3` has no @"),
    Case { file: "valid-quirks-utf8-bom.csv", status: 0, errors: &[], warnings: QUIRK_WARNINGS, says: "has spaces around it" },
    Case { file: "valid-quirks-utf16le-bom.csv", status: 0, errors: &[], warnings: QUIRK_WARNINGS, says: "has spaces around it" },
    Case { file: "valid-quirks-utf16be-bom.csv", status: 0, errors: &[], warnings: QUIRK_WARNINGS, says: "has spaces around it" },
    Case {
        file: "valid-quirks-windows-1252.csv",
        status: 0,
        errors: &[],
        warnings: &["1: column 2 (source tenant ID)", "2", "3: column 3 (source UPN)"],
        says: "read as Windows-1252",
    },
];

fn with_file(file: &str, list: &[&str]) -> Vec<String> {
    list.iter()
        .map(|p| {
            if p.is_empty() {
                file.to_string()
            } else {
                format!("{file}:{p}")
            }
        })
        .collect()
}

fn validate_mapping(file: &str, format: &str) -> Run {
    t2t()
        .current_dir(fixture("mapping"))
        .arg("--config")
        .arg(sample_config())
        .args(["validate", "--mapping", file, "--format", format])
        .run()
}

#[test]
fn every_mapping_fixture_reports_exactly_its_problems() {
    assert!(
        CASES.len() >= 34,
        "at least 30 malformed maps and the four valid ones"
    );
    let mut failures = Vec::new();
    for case in CASES {
        if let Err(why) = check_case(case) {
            failures.push(format!("{}: {why}", case.file));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn check_case(case: &Case) -> Result<(), String> {
    let run = validate_mapping(case.file, "json");
    if run.code() != case.status {
        return Err(format!(
            "exit status {} instead of {}\n{}{}",
            run.code(),
            case.status,
            run.stdout(),
            run.stderr()
        ));
    }
    let json = run.json();
    let errors = json_prefixes(&json, "errors");
    let warnings = json_prefixes(&json, "warnings");
    let (want_errors, want_warnings) = (
        with_file(case.file, case.errors),
        with_file(case.file, case.warnings),
    );
    if errors != want_errors || warnings != want_warnings {
        return Err(format!(
            "errors {errors:?}\n  want {want_errors:?}\nwarnings {warnings:?}\n  want {want_warnings:?}\n{json:#}"
        ));
    }
    let messages = [
        json_messages(&json, "errors"),
        json_messages(&json, "warnings"),
    ]
    .concat();
    if !messages.iter().any(|m| m.contains(case.says)) {
        return Err(format!("no message says {:?}: {messages:#?}", case.says));
    }
    let human = validate_mapping(case.file, "human");
    let mut want: Vec<(bool, String)> = want_errors.into_iter().map(|p| (false, p)).collect();
    want.extend(want_warnings.into_iter().map(|p| (true, p)));
    want.sort();
    let got = human_prefixes(&human.stderr(), &[case.file]);
    if human.code() != case.status || got != want {
        return Err(format!(
            "human output status {} prefixes {got:?}\n  want {want:?}\n{}",
            human.code(),
            human.stderr()
        ));
    }
    Ok(())
}

#[test]
fn valid_quirks_read_the_same_in_every_encoding() {
    for file in [
        "valid-quirks-utf8-bom.csv",
        "valid-quirks-utf16le-bom.csv",
        "valid-quirks-utf16be-bom.csv",
        "valid-quirks-windows-1252.csv",
    ] {
        let run = validate_mapping(file, "json").status(0);
        let json = run.json();
        assert_eq!(
            (json["users"].as_u64(), json["groups"].as_u64()),
            (Some(4), Some(1)),
            "{file}: {json:#}"
        );
        validate_mapping(file, "human")
            .status(0)
            .contains(&format!("{file}: valid: 4 users, 1 groups, 0 errors"));
    }
}

#[test]
fn tenant_differing_between_rows_is_an_error_without_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let map = fixture("mapping/tenant-differs-between-rows.csv");
    let map_arg = map.display().to_string();
    let run = t2t()
        .current_dir(dir.path())
        .args(["validate", "--format", "json", "--mapping", &map_arg])
        .run()
        .status(2);
    let json = run.json();
    assert_eq!(
        json_prefixes(&json, "errors"),
        vec![format!("{map_arg}:3: column 2 (source tenant ID)")]
    );
    assert!(
        json_messages(&json, "errors")[0]
            .contains("differs from 6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01 on line 1"),
        "{json:#}"
    );
    assert_eq!(
        json_prefixes(&json, "warnings"),
        vec!["t2t-notify.toml".to_string()]
    );
    assert!(
        json_messages(&json, "warnings")[0].contains("pass --config"),
        "{json:#}"
    );
}

#[test]
fn json_output_has_the_documented_shape() {
    let run = validate_mapping("every-error-in-one-row.csv", "json").status(2);
    let json = run.json();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["errors", "groups", "users", "warnings"]);
    assert_eq!(json["users"], 1);
    assert_eq!(json["groups"], 0);
    let first = &json["errors"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["column", "column_name", "file", "line", "message"]);
    assert_eq!(first["file"], "every-error-in-one-row.csv");
    assert_eq!(first["line"], 1);
    assert_eq!(first["column"], 2);
    assert_eq!(first["column_name"], "source tenant ID");
    assert_eq!(json["warnings"][0]["column"], 6);
    let file_level = validate_mapping("empty.csv", "json").status(2).json();
    assert_eq!(file_level["errors"][0]["line"], Value::Null);
    assert_eq!(file_level["errors"][0]["column"], Value::Null);
}

#[test]
fn sample_data_is_valid() {
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["validate", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
        .arg("--directory")
        .arg(root().join("sample-data/directory.csv"))
        .run()
        .status(0)
        .contains("valid: 30 users, 4 groups, 0 errors, 0 warnings");
}

// --- directory CSV -----------------------------------------------------------------------------

fn validate_directory(directory: &str) -> Run {
    t2t()
        .current_dir(fixture("directory"))
        .arg("--config")
        .arg(sample_config())
        .args([
            "validate",
            "--format",
            "json",
            "--mapping",
            "map.csv",
            "--directory",
            directory,
        ])
        .run()
}

#[test]
fn directory_exports_with_type_line_utf16_and_semicolons_match_every_user() {
    for file in [
        "type-line.csv",
        "utf16le-type-line.csv",
        "utf8-bom-no-type-line.csv",
        "semicolons.csv",
    ] {
        let json = validate_directory(file).status(0).json();
        assert_eq!(
            json_prefixes(&json, "warnings"),
            Vec::<String>::new(),
            "{file}: {json:#}"
        );
        assert_eq!(
            json_prefixes(&json, "errors"),
            Vec::<String>::new(),
            "{file}: {json:#}"
        );
        assert_eq!(json["users"], 3, "{file}");
    }
}

#[test]
fn directory_without_upn_column_is_an_error_on_the_header_line() {
    let json = validate_directory("missing-upn-column.csv")
        .status(2)
        .json();
    assert_eq!(json_prefixes(&json, "errors"), ["missing-upn-column.csv:2"]);
    assert!(
        json_messages(&json, "errors")[0].contains("no UserPrincipalName column"),
        "{json:#}"
    );
}

#[test]
fn directory_without_upn_column_warns_about_nobody_missing_from_it() {
    let json = validate_directory("missing-upn-column.csv")
        .status(2)
        .json();
    assert_eq!(
        json_prefixes(&json, "warnings"),
        Vec::<String>::new(),
        "{json:#}"
    );
}

#[test]
fn directory_rows_for_both_upns_of_one_user_give_no_warning() {
    let json = validate_directory("both-upns.csv").status(0).json();
    assert_eq!(
        json_prefixes(&json, "warnings"),
        Vec::<String>::new(),
        "{json:#}"
    );
    assert_eq!(
        json_prefixes(&json, "errors"),
        Vec::<String>::new(),
        "{json:#}"
    );
}

#[test]
fn a_web_address_in_a_directory_name_is_an_error_at_the_directory_line() {
    let json = validate_directory("url-in-name.csv").status(2).json();
    assert_eq!(
        json_prefixes(&json, "errors"),
        ["url-in-name.csv:2: column 2 (DisplayName)"]
    );
    assert!(
        json_messages(&json, "errors")[0].contains("contains a web address"),
        "{json:#}"
    );
}

#[test]
fn validate_runs_the_link_check_of_send_on_directory_onedrive_urls() {
    let json = validate_directory("look-alike-onedrive.csv")
        .status(2)
        .json();
    assert_eq!(
        json_prefixes(&json, "errors"),
        ["look-alike-onedrive.csv:2: column 2 (OneDriveUrl)"]
    );
    let message = &json_messages(&json, "errors")[0];
    assert!(
        message.contains("fabrikam-my.sharepoint.com.evil.example")
            && message.contains("user1@contoso.com")
            && message.contains("is not one of"),
        "{json:#}"
    );
}

#[test]
fn directory_duplicates_name_both_lines() {
    let json = validate_directory("duplicates.csv").status(2).json();
    assert_eq!(json_prefixes(&json, "errors"), ["duplicates.csv:5"]);
    assert!(
        json_messages(&json, "errors")[0]
            .contains("`USER1@fabrikam.com` already has a row on line 3"),
        "{json:#}"
    );
}

#[test]
fn unmatched_rows_on_both_sides_are_warnings() {
    let json = validate_directory("unmatched.csv").status(0).json();
    assert_eq!(
        json_prefixes(&json, "warnings"),
        ["map.csv:3", "unmatched.csv:4"]
    );
    let messages = json_messages(&json, "warnings");
    assert!(
        messages[0].contains("no row in the directory unmatched.csv for source user3@contoso.com"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("stranger@fabrikam.com is not in the mapping file map.csv"),
        "{messages:?}"
    );
}

#[test]
fn directory_values_are_checked_per_column() {
    let json = validate_directory("bad-values.csv").status(2).json();
    assert_eq!(
        json_prefixes(&json, "errors"),
        [
            "bad-values.csv:2: column 4 (OneDriveUrl)",
            "bad-values.csv:4"
        ]
    );
    assert_eq!(
        json_prefixes(&json, "warnings"),
        [
            "bad-values.csv:3: column 3 (PreferredLanguage)",
            "map.csv:3"
        ]
    );
    let errors = json_messages(&json, "errors");
    assert!(errors[0].contains("is not an https URL"), "{errors:?}");
    assert!(
        errors[1].contains("the row has 3 fields, the header has 4"),
        "{errors:?}"
    );
}

#[test]
fn empty_directory_is_an_error() {
    let json = validate_directory("empty.csv").status(2).json();
    assert_eq!(json_prefixes(&json, "errors"), ["empty.csv"]);
}

// --- configuration -------------------------------------------------------------------------------

fn config_with(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t2t-notify.toml");
    let text = std::fs::read_to_string(sample_config()).unwrap();
    std::fs::write(&path, format!("{text}{extra}")).unwrap();
    (dir, path)
}

fn validate_sample_with(config: &Path) -> T2t {
    t2t()
        .arg("--config")
        .arg(config)
        .args(["validate", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
}

#[test]
fn unknown_config_key_is_named_with_the_file() {
    let (_dir, path) = config_with("colour = \"blue\"\n");
    validate_sample_with(&path)
        .run()
        .status(2)
        .contains("unknown field `colour`")
        .contains(&path.display().to_string());
}

#[test]
fn missing_explicit_config_is_an_input_error() {
    t2t()
        .args([
            "--config",
            "/nonexistent/t2t-notify.toml",
            "validate",
            "--mapping",
        ])
        .arg(root().join("sample-data/identity-map.csv"))
        .run()
        .status(2)
        .contains("/nonexistent/t2t-notify.toml: cannot read the config file");
}

#[test]
fn env_override_replaces_the_tenant_the_rows_are_compared_with() {
    let other = "aaaaaaaa-0000-4000-8000-000000000000";
    let run = validate_sample_with(&sample_config())
        .args(["--format", "json"])
        .env("T2T_NOTIFY_SOURCE_TENANT_ID", other)
        .run()
        .status(2);
    let json = run.json();
    let errors = json_messages(&json, "errors");
    assert_eq!(errors.len(), 34, "30 user rows and 4 group rows: {json:#}");
    assert!(
        errors.iter().all(|m| m.contains(&format!(
            "is not the source tenant ID in the config ({other})"
        ))),
        "{errors:?}"
    );
}

#[test]
fn env_override_with_a_bad_value_names_the_variable() {
    validate_sample_with(&sample_config())
        .env("T2T_NOTIFY_PACING_PER_MINUTE", "fast")
        .run()
        .status(2)
        .contains("after applying T2T_NOTIFY_PACING_PER_MINUTE");
    validate_sample_with(&sample_config())
        .env("T2T_NOTIFY_PACNG_PER_MINUTE", "5")
        .run()
        .status(2)
        .contains("environment variable T2T_NOTIFY_PACNG_PER_MINUTE: not a config key");
}

// --- paths -----------------------------------------------------------------------------------

#[test]
fn a_missing_mapping_file_or_a_folder_as_a_file_is_invalid_input_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let run = t2t()
        .current_dir(tmp.path())
        .args(["validate", "--mapping", "no-such-map.csv"])
        .run()
        .status(2)
        .contains("the mapping file no-such-map.csv does not exist; check the path");
    assert!(!run.stderr().contains("os error"), "{}", run.stderr());
    t2t()
        .current_dir(fixture("directory"))
        .args(["validate", "--mapping", "map.csv", "--directory", "."])
        .run()
        .status(2)
        .contains("the directory file . is a folder, not a file");
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["preview", "--mapping"])
        .arg(fixture("directory"))
        .run()
        .status(2)
        .contains("is a folder, not a file");
}
