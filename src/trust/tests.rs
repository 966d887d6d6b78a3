//! The evidence rules on the fixture table of `tests/fixtures/trust/expected.tsv`, the
//! encodings, pairs and the script (golden files).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::rules::{check, Rejection};
use super::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trust")
}

/// The sample config's hosts, which the fixtures are written for.
fn sample_hosts() -> Hosts {
    Hosts {
        source: vec!["https://contoso-my.sharepoint.com/".into()],
        target: vec!["https://fabrikam-my.sharepoint.com/".into()],
    }
}

fn now() -> DateTime<Utc> {
    "2026-11-27T12:00:00Z".parse().unwrap()
}

/// One row of the fixture table.
struct FixtureRow {
    file: String,
    accepted: bool,
    fields: Vec<String>,
    phrase: String,
}

fn table() -> Vec<FixtureRow> {
    let text = std::fs::read_to_string(fixtures().join("expected.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 4, "expected.tsv row {line:?}");
            FixtureRow {
                file: cols[0].into(),
                accepted: cols[1] == "accepted",
                fields: match cols[2] {
                    "-" => Vec::new(),
                    list => list.split(',').map(String::from).collect(),
                },
                phrase: cols[3].into(),
            }
        })
        .collect()
}

fn check_fixture(name: &str) -> Result<Evidence, Rejection> {
    let bytes = std::fs::read(fixtures().join(name)).unwrap();
    check(name, &bytes, &sample_hosts(), now())
}

#[test]
fn every_fixture_is_in_the_table_and_every_row_has_a_fixture() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = table().into_iter().map(|r| r.file).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn fixture_table_verdicts_fields_and_reasons() {
    for row in table() {
        match (check_fixture(&row.file), row.accepted) {
            (Ok(_), true) => {}
            (Ok(e), false) => panic!("{} was accepted: {e:?}", row.file),
            (Err(r), true) => panic!("{} was refused: {:#?}", row.file, r.refusals),
            (Err(rejection), false) => assert_refusals(&row, &rejection),
        }
    }
}

fn assert_refusals(row: &FixtureRow, rejection: &Rejection) {
    let fields: Vec<&str> = rejection.refusals.iter().map(|r| r.field.name()).collect();
    assert_eq!(
        fields, row.fields,
        "{}: {:#?}",
        row.file, rejection.refusals
    );
    let all: Vec<String> = rejection.refusals.iter().map(|r| r.to_string()).collect();
    assert!(
        all.iter().any(|m| m.contains(&row.phrase)),
        "{}: no message contains {:?}: {all:#?}",
        row.file,
        row.phrase
    );
    for refusal in &rejection.refusals {
        let message = refusal.to_string();
        assert!(message.starts_with(&row.file), "{message}");
        assert!(
            message.contains("run") || message.contains("add it"),
            "no fix in {message}"
        );
        if refusal.field != EvidenceField::File {
            assert!(
                message.contains(&format!("field {}", refusal.field)),
                "{message}"
            );
        }
    }
}

#[test]
fn the_same_evidence_reads_the_same_in_every_encoding() {
    let expected = check_fixture("accepted-source.json").unwrap();
    assert_eq!(expected.side, Side::Source);
    assert_eq!(expected.host_url, "https://contoso-my.sharepoint.com/");
    assert_eq!(expected.partner_url, "https://fabrikam-my.sharepoint.com/");
    assert_eq!(expected.partner_role, Side::Target);
    assert_eq!(expected.verify, VerifyResult::NotEstablished);
    assert_eq!(expected.checked_by, "admin@contoso.onmicrosoft.com");
    for name in [
        "accepted-source-utf8-bom.json",
        "accepted-source-utf16le.json",
        "accepted-source-url-case.json",
        "accepted-source-ps51-date-lowercase.json",
        "accepted-source-fraction-offset.json",
    ] {
        let got = check_fixture(name).unwrap();
        assert_eq!(
            (got.side, &got.host_url, &got.partner_url, got.verify),
            (
                expected.side,
                &expected.host_url,
                &expected.partner_url,
                expected.verify
            ),
            "{name}"
        );
    }
    let date = check_fixture("accepted-source-ps51-date-lowercase.json").unwrap();
    assert_eq!(date.checked_at, expected.checked_at);
    let fraction = check_fixture("accepted-source-fraction-offset.json").unwrap();
    assert_eq!(
        fraction.checked_at.timestamp(),
        expected.checked_at.timestamp()
    );
}

#[test]
fn powershell_escapes_are_read() {
    let utf16 = check_fixture("accepted-target-ps51-utf16le.json").unwrap();
    let utf8 = check_fixture("accepted-target-ps51-utf8-bom.json").unwrap();
    assert_eq!(utf16.checked_by, "o'brien@fabrikam.onmicrosoft.com");
    assert_eq!(utf16, utf8);
}

#[test]
fn every_answer_but_not_established_is_refused_with_its_meaning() {
    for verify in VerifyResult::ALL {
        let text = std::fs::read_to_string(fixtures().join("accepted-source.json"))
            .unwrap()
            .replace("\"NotEstablished\"", &format!("\"{}\"", verify.as_str()));
        let result = check("f.json", text.as_bytes(), &sample_hosts(), now());
        if verify == VerifyResult::NotEstablished {
            assert!(result.is_ok());
            continue;
        }
        let rejection = result.unwrap_err();
        assert_eq!(rejection.refusals.len(), 1);
        let refusal = &rejection.refusals[0];
        assert_eq!(refusal.field, EvidenceField::VerifyResult);
        assert_eq!(refusal.problem, Problem::TrustNotRemoved(verify));
        assert!(refusal.to_string().contains(verify.meaning()));
        let active = rejection.still_active.expect("names the pair");
        assert_eq!(active.pair.side, Side::Source);
        assert_eq!(active.verify, verify);
    }
}

#[test]
fn refusal_for_a_wrong_role_names_the_commands_to_run() {
    let rejection = check_fixture("refused-role-seed-page.json").unwrap_err();
    let fix = &rejection.refusals[0].fix;
    assert!(fix.contains("run on the target tenant `Remove-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Source -PartnerCrossTenantHostUrl https://contoso-my.sharepoint.com/`"), "{fix}");
    assert!(fix.contains("Verify-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Source"));
    assert!(fix.contains("t2t-notify trust script --tenant target"));
    assert!(rejection.still_active.is_none());
}

#[test]
fn future_time_is_refused_beyond_the_clock_skew_only() {
    let text = std::fs::read_to_string(fixtures().join("accepted-source.json")).unwrap();
    let with_time = |t: DateTime<Utc>| {
        text.replace(
            "2026-11-20T06:00:00Z",
            &t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
    };
    let slightly_ahead = with_time(now() + chrono::Duration::minutes(2));
    assert!(check("f", slightly_ahead.as_bytes(), &sample_hosts(), now()).is_ok());
    let an_hour_ahead = with_time(now() + chrono::Duration::hours(1));
    let rejection = check("f", an_hour_ahead.as_bytes(), &sample_hosts(), now()).unwrap_err();
    assert_eq!(rejection.refusals[0].field, EvidenceField::CheckedAtUtc);
    assert!(matches!(
        rejection.refusals[0].problem,
        Problem::InFuture { .. }
    ));
    assert!(rejection.still_active.is_none());
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let base = std::fs::read(fixtures().join("accepted-source.json")).unwrap();
    for round in 0..2000 {
        let mut bytes = base.clone();
        for _ in 0..(round % 7 + 1) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % bytes.len();
            bytes[at] = (seed >> 32) as u8;
        }
        bytes.truncate((seed as usize >> 8) % (base.len() + 1));
        let _ = check("fuzz.json", &bytes, &sample_hosts(), now());
    }
}

#[test]
fn pairs_cover_every_geography_of_both_sides() {
    let hosts = Hosts {
        source: vec![
            "https://a-my.sharepoint.com/".into(),
            "https://aeur-my.sharepoint.com/".into(),
        ],
        target: vec!["https://b-my.sharepoint.com/".into()],
    };
    let pairs = hosts.pairs();
    let shown: Vec<String> = pairs.iter().map(|p| format!("{p} #{}", p.number)).collect();
    assert_eq!(
        shown,
        vec![
            "source https://a-my.sharepoint.com/ -> target https://b-my.sharepoint.com/ #1",
            "source https://aeur-my.sharepoint.com/ -> target https://b-my.sharepoint.com/ #2",
            "target https://b-my.sharepoint.com/ -> source https://a-my.sharepoint.com/ #1",
            "target https://b-my.sharepoint.com/ -> source https://aeur-my.sharepoint.com/ #2",
        ]
    );
    assert_eq!(
        pairs[0].remove_command(),
        "Remove-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Target -PartnerCrossTenantHostUrl https://b-my.sharepoint.com/"
    );
    assert_eq!(
        pairs[2].verify_command(),
        "Verify-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Source -PartnerCrossTenantHostUrl https://a-my.sharepoint.com/"
    );
}

/// A config whose source tenant has two geographies.
pub(crate) const TWO_GEO_CONFIG: &str = r#"
[organization]
name = "Fabrikam"
helpdesk = "Fabrikam IT Service Desk, +1 555 0100"
[source]
tenant_id = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01"
host_urls = ["https://contoso-my.sharepoint.com/", "https://ContosoEUR-my.sharepoint.com"]
[target]
tenant_id = "3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15"
host_urls = ["https://fabrikam-my.sharepoint.com/"]
[message]
from = "Fabrikam IT <it-migration@fabrikam.com>"
"#;

pub(crate) fn two_geo_config() -> Config {
    Config::from_str_with_env(TWO_GEO_CONFIG, Path::new("two-geo/t2t-notify.toml"), &[]).unwrap()
}

/// Compares `actual` with the golden file; `UPDATE_GOLDEN=1` rewrites it instead.
fn assert_golden(name: &str, actual: &str) {
    let path = fixtures().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or(expected.lines().count().min(actual.lines().count()), |i| i);
        panic!(
            "{name} differs from the generated script at line {}:\n  golden:    {:?}\n  generated: {:?}\n(rerun with UPDATE_GOLDEN=1 after reviewing the change)",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn golden_script_for_two_geographies_both_tenants() {
    let script = script::generate(&two_geo_config(), None);
    assert_golden("script-two-geo.golden.ps1", &script);
}

#[test]
fn golden_script_for_two_geographies_target_only() {
    let script = script::generate(&two_geo_config(), Some(Side::Target));
    assert_golden("script-two-geo-target.golden.ps1", &script);
}

#[test]
fn generated_scripts_are_lexically_well_formed_powershell() {
    let configs = [two_geo_config(), sample_config()];
    for config in &configs {
        for tenant in [None, Some(Side::Source), Some(Side::Target)] {
            let script = script::generate(config, tenant);
            if let Err(why) = super::ps_lint::check(&script) {
                panic!("{tenant:?}: {why}\n{script}");
            }
        }
    }
}

fn sample_config() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/t2t-notify.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    Config::from_str_with_env(&text, &path, &[]).unwrap()
}

#[test]
fn script_names_the_partner_role_and_url_for_every_pair() {
    let config = two_geo_config();
    for side in [Side::Source, Side::Target] {
        let script = script::generate(&config, Some(side));
        assert!(script.is_ascii());
        assert!(script.contains("$ErrorActionPreference = 'Stop'"));
        assert!(script.contains("Set-StrictMode -Version 3.0"));
        assert!(script.contains("Connect-SPOService"));
        assert!(script.contains("Get-Module -ListAvailable -Name $module"));
        for pair in Hosts::from_config(&config).pairs_of(side) {
            let remove = format!(
                "Remove-SPOCrossTenantRelationship -Scenario MnA -PartnerRole {} -PartnerCrossTenantHostUrl '{}'",
                role_name(pair.side.partner()),
                pair.partner_url
            );
            assert!(script.contains(&remove), "{side:?}: {remove}");
            assert!(script.contains(&format!("-Number {}", pair.number)));
        }
        let own_role = format!("-PartnerRole {}", role_name(side));
        let cmdlets = script
            .lines()
            .filter(|l| l.contains("CrossTenantRelationship -Scenario"));
        for line in cmdlets {
            assert!(
                !line.contains(&own_role),
                "{side:?} names its own role: {line}"
            );
        }
    }
}

#[test]
fn script_quotes_hostile_urls() {
    let mut input = script::ScriptInput::from_config(&two_geo_config(), Some(Side::Source));
    input.organization = "Fabrikam #> Remove-Item C:\\ -Recurse <# \u{e9}".into();
    let script = script::render(&input);
    assert!(script.contains("Fabrikam # > Remove-Item"));
    assert!(script.is_ascii());
    assert_eq!(script::ps_quote("https://x/'a'"), "'https://x/''a'''");
    assert_eq!(
        script::ps_quote("https://x/\u{2019}"),
        "'https://x/%E2%80%99'"
    );
}

#[test]
fn script_safe_urls_escape_powershell_specials() {
    let config = Config::from_str_with_env(
        &TWO_GEO_CONFIG.replace(
            "https://fabrikam-my.sharepoint.com/\"]",
            "https://fabrikam-my.sharepoint.com/$x`\\\"y\"]",
        ),
        Path::new("t.toml"),
        &[],
    )
    .unwrap();
    let script = script::generate(&config, None);
    assert!(
        script.contains("https://fabrikam-my.sharepoint.com/%24x%60%22y/"),
        "{script}"
    );
    assert!(!script.contains("$x"));
}

/// Found by the `trust` fuzz target (`fuzz/regressions/trust/format-with-control-character`):
/// values from the file were shown as they were, so a field holding a line break, a C1 control
/// or a bidirectional override printed a refusal over several lines (one could read as
/// `accepted: ...`) or reordered on the terminal.
#[test]
fn refusals_show_the_files_values_escaped_on_one_line() {
    let text = std::fs::read_to_string(fixtures().join("accepted-source.json")).unwrap();
    let forged = text
        .replace(
            "t2t-notify/trust-evidence/1",
            "t2t-notify/trust-evide\\u0080ce/1",
        )
        .replace("\"Target\"", "\"x\\naccepted: all pairs\"")
        .replace("\"MnA\"", "\"M\\u202enA\\r\"");
    let rejection = check("f.json", forged.as_bytes(), &sample_hosts(), now()).unwrap_err();
    let fields: Vec<EvidenceField> = rejection.refusals.iter().map(|r| r.field).collect();
    assert_eq!(
        fields,
        [
            EvidenceField::Format,
            EvidenceField::PartnerRole,
            EvidenceField::Scenario
        ]
    );
    let escaped = [
        "`t2t-notify/trust-evide\\u{80}ce/1`",
        "`x\\naccepted: all pairs`",
        "`M\\u{202e}nA`",
    ];
    for (refusal, value) in rejection.refusals.iter().zip(escaped) {
        let shown = refusal.to_string();
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c)),
            "{shown:?}"
        );
        assert!(shown.contains(value), "{shown}");
    }
}
