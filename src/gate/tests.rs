//! The gate on a Multi-Geo config with a real ledger file.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::*;
use crate::ledger::trust::record;

const TWO_TARGET_GEOS: &str = r#"
[organization]
name = "Fabrikam"
helpdesk = "Fabrikam IT Service Desk, +1 555 0100"
[source]
tenant_id = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01"
host_urls = ["https://contoso-my.sharepoint.com/"]
[target]
tenant_id = "3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15"
host_urls = ["https://fabrikam-my.sharepoint.com/", "https://FabrikamEUR-my.sharepoint.com"]
[message]
from = "Fabrikam IT <it-migration@fabrikam.com>"
"#;

fn config() -> Config {
    Config::from_str_with_env(TWO_TARGET_GEOS, Path::new("g/t2t-notify.toml"), &[]).unwrap()
}

fn confirmation(pair: &Pair, verify: &str) -> Confirmation {
    let at: DateTime<Utc> = "2026-11-20T06:00:00Z".parse().unwrap();
    Confirmation {
        side: pair.side,
        host_url: pair.host_url.clone(),
        partner_url: pair.partner_url.clone(),
        verify_result: verify.into(),
        checked_at: at,
        checked_by: Some("admin@contoso.onmicrosoft.com".into()),
        file_name: format!(
            "/e/trust-evidence-{}-{}.json",
            pair.side.as_str(),
            pair.number
        ),
        sha256: format!("{:064x}", pair.number),
        confirmed_at: at,
    }
}

/// A day after the confirmations' check: they count whatever today's date is.
fn fresh() -> Freshness {
    Freshness {
        now: "2026-11-21T06:00:00Z".parse().unwrap(),
        max_age_days: 30,
        newest_move: None,
    }
}

#[test]
fn empty_ledger_keeps_every_pair_missing() {
    let (_dir, ledger) = Ledger::temp();
    let status = check_with(&config(), &ledger, &fresh()).unwrap();
    assert!(!status.is_open());
    assert_eq!(status.missing().len(), 4);
    let message = status.to_string();
    assert!(
        message.contains("not confirmed removed for 4 of 4 host pairs"),
        "{message}"
    );
    assert!(message.contains("source https://contoso-my.sharepoint.com/ -> target https://fabrikameur-my.sharepoint.com/"));
    assert!(message.contains("on the source tenant run: Remove-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Target -PartnerCrossTenantHostUrl https://fabrikameur-my.sharepoint.com/"));
    assert!(message.contains("on the target tenant run: Remove-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Source -PartnerCrossTenantHostUrl https://contoso-my.sharepoint.com/"));
    assert!(message.contains("Verify-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Source"));
    assert!(message.contains("run the script that `t2t-notify trust script --tenant source` prints on the source tenant, and the one that `t2t-notify trust script --tenant target` prints on the target tenant"), "{message}");
    assert!(message.contains("t2t-notify trust confirm"));
}

#[test]
fn one_pair_confirmed_keeps_the_gate_closed_and_all_pairs_open_it() {
    let (_dir, ledger) = Ledger::temp();
    let config = config();
    let pairs = Hosts::from_config(&config).pairs();
    record(&ledger, &confirmation(&pairs[0], "NotEstablished")).unwrap();
    let status = check_with(&config, &ledger, &fresh()).unwrap();
    assert_eq!(status.missing(), &pairs[1..]);
    assert!(status.to_string().contains("3 of 4"));
    for pair in &pairs[1..3] {
        record(&ledger, &confirmation(pair, "NotEstablished")).unwrap();
        assert!(!check_with(&config, &ledger, &fresh()).unwrap().is_open());
    }
    record(&ledger, &confirmation(&pairs[3], "NotEstablished")).unwrap();
    let status = check_with(&config, &ledger, &fresh()).unwrap();
    assert_eq!(status, GateStatus::Open);
    assert!(status.to_string().starts_with("trust gate open"));
}

#[test]
fn one_side_fully_confirmed_is_not_enough() {
    let (_dir, ledger) = Ledger::temp();
    let config = config();
    let hosts = Hosts::from_config(&config);
    for pair in hosts.pairs_of(Side::Source) {
        record(&ledger, &confirmation(&pair, "NotEstablished")).unwrap();
    }
    let states = pair_states(&config, &ledger).unwrap();
    assert!(side_confirmed(&states, Side::Source));
    assert!(!side_confirmed(&states, Side::Target));
    let status = status_of(&states, &fresh());
    assert_eq!(status.missing(), hosts.pairs_of(Side::Target).as_slice());
    assert!(!status.to_string().contains("--tenant source"));
}

#[test]
fn only_not_established_records_of_configured_pairs_count() {
    let (_dir, ledger) = Ledger::temp();
    let config = config();
    let pairs = Hosts::from_config(&config).pairs();
    for pair in &pairs[..3] {
        record(&ledger, &confirmation(pair, "NotEstablished")).unwrap();
    }
    record(&ledger, &confirmation(&pairs[3], "GoodToProceed")).unwrap();
    let stale = Pair {
        host_url: "https://old-my.sharepoint.com/".into(),
        ..pairs[3].clone()
    };
    record(&ledger, &confirmation(&stale, "NotEstablished")).unwrap();
    let status = check_with(&config, &ledger, &fresh()).unwrap();
    assert_eq!(status.missing(), &pairs[3..]);
}

#[test]
fn a_config_without_pairs_is_closed() {
    assert!(!status_of(&[], &fresh()).is_open());
}

#[test]
fn licence_warning_only_close_to_expiry_and_while_the_source_is_unconfirmed() {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let expires = Some(day("2027-01-31"));
    assert_eq!(licence_warning(expires, day("2027-01-16"), false), None);
    let warning = licence_warning(expires, day("2027-01-17"), false).unwrap();
    assert!(
        warning.contains("expire on 2027-01-31, in 14 days"),
        "{warning}"
    );
    assert!(warning.contains("no longer works on the source"));
    assert!(warning.contains("t2t-notify trust script --tenant source"));
    assert!(licence_warning(expires, day("2027-01-31"), false)
        .unwrap()
        .contains("TODAY"));
    assert!(licence_warning(expires, day("2027-02-03"), false)
        .unwrap()
        .contains("expired on 2027-01-31 (3 days ago)"));
    assert_eq!(licence_warning(expires, day("2027-01-30"), true), None);
    assert_eq!(licence_warning(None, day("2027-01-30"), false), None);
}
