//! The trust-evidence reader (`trust::rules::check`, which reads with `trust::evidence::parse`)
//! on arbitrary bytes as the source side's and the target side's evidence file, against the
//! sample config's hosts (and a Multi-Geo variant) at a fixed `now`, then the gate
//! (`gate::match_pairs` / `gate::status_of`) on what was accepted, as `trust confirm` and
//! `send` use them.
//!
//! Input: the first file's bytes, then optionally `\n==target==\n` and the second file's bytes.
//!
//! Beyond "no panic": the verdict is deterministic; a file is accepted exactly when an
//! independent reading (strict decoding, JSON entries with duplicates kept, the documented
//! rules) finds every rule met, and the evidence returned is what the file says; a file
//! accepted for the sample hosts is accepted for a config with more geographies; "still active"
//! is only said of valid evidence whose only fault is its `VerifyResult`; every refusal names
//! the file, is one line without control characters or bidirectional controls, points at a
//! field the file really has (or lacks, or repeats, as it says) and a JSON error at a line of
//! the file; undecodable bytes (damaged UTF-16 too) are refused as a whole file, never read;
//! the gate opens exactly when both files were accepted and confirm the two sides, and never on
//! two files when eight pairs are needed.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use t2t_notify::config::Side;
use t2t_notify::gate;
use t2t_notify::ledger::trust::Confirmation;
use t2t_notify::trust::refusal::{EvidenceField, Problem};
use t2t_notify::trust::rules::{self, Rejection};
use t2t_notify::trust::{role_name, Evidence, Hosts, VerifyResult, EVIDENCE_FORMAT, SCENARIO};
use t2t_notify_fuzz::evidence::{self as ind, Property};

const MARKER: &[u8] = b"\n==target==\n";
const NAMES: [&str; 2] = [
    "trust-evidence-source-1.json",
    "trust-evidence-target-1.json",
];

fn now() -> DateTime<Utc> {
    "2026-11-27T12:00:00Z".parse().expect("a time")
}

/// The sample config's hosts, which the seeds are written for.
fn sample_hosts() -> Hosts {
    Hosts {
        source: vec!["https://contoso-my.sharepoint.com/".into()],
        target: vec!["https://fabrikam-my.sharepoint.com/".into()],
    }
}

/// The sample hosts and one more geography on each side (four pairs per side, eight in all).
fn multi_geo_hosts() -> Hosts {
    Hosts {
        source: vec![
            "https://contoso-my.sharepoint.com/".into(),
            "https://contosoeur-my.sharepoint.com/".into(),
        ],
        target: vec![
            "https://fabrikamasia-my.sharepoint.com/".into(),
            "https://fabrikam-my.sharepoint.com/".into(),
        ],
    }
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    match data.windows(MARKER.len()).position(|w| w == MARKER) {
        Some(i) => vec![&data[..i], &data[i + MARKER.len()..]],
        None => vec![data],
    }
}

fn parse_side(text: &str) -> Option<Side> {
    [Side::Source, Side::Target]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(text))
}

/// The rules the file breaks, by field name, judged without the code under test (empty: the
/// file is valid evidence that its pair's trust is removed).
fn broken(bytes: &[u8], hosts: &Hosts) -> Vec<&'static str> {
    let Some(entries) = ind::text(bytes).as_deref().and_then(ind::entries) else {
        return vec!["(file)"];
    };
    let text = |name| ind::text_property(&entries, name);
    let mut out = Vec::new();
    let mut rule = |ok: bool, name: &'static str| {
        if !ok {
            out.push(name);
        }
    };
    rule(text("Format").as_deref() == Some(EVIDENCE_FORMAT), "Format");
    let side = text("Side").as_deref().and_then(parse_side);
    rule(side.is_some(), "Side");
    let on = |name, side: Option<Side>| match (text(name), side) {
        (Some(url), Some(side)) => hosts.of(side).iter().any(|h| ind::same_host_url(&url, h)),
        _ => false,
    };
    rule(on("CrossTenantHostUrl", side), "CrossTenantHostUrl");
    rule(
        on("PartnerCrossTenantHostUrl", side.map(Side::partner)),
        "PartnerCrossTenantHostUrl",
    );
    let role = side.map(|s| role_name(s.partner()));
    let role_ok = text("PartnerRole")
        .zip(role)
        .is_some_and(|(r, want)| r.eq_ignore_ascii_case(want));
    rule(role_ok, "PartnerRole");
    rule(
        text("Scenario").is_some_and(|s| s.eq_ignore_ascii_case(SCENARIO)),
        "Scenario",
    );
    rule(
        text("VerifyResult").is_some_and(|v| v.eq_ignore_ascii_case("NotEstablished")),
        "VerifyResult",
    );
    let at = text("CheckedAtUtc").as_deref().and_then(ind::checked_at);
    rule(
        at.is_some_and(|at| at <= now() + ind::clock_skew()),
        "CheckedAtUtc",
    );
    rule(text("CheckedBy").is_some(), "CheckedBy");
    out
}

/// The evidence returned is what the file says.
fn check_accepted(e: &Evidence, bytes: &[u8], hosts: &Hosts) {
    let entries = ind::text(bytes)
        .as_deref()
        .and_then(ind::entries)
        .expect("accepted, so an object");
    let text = |name| ind::text_property(&entries, name).expect("accepted, so present");
    assert_eq!(Some(e.side), parse_side(&text("Side")), "{e:?}");
    assert!(hosts.of(e.side).contains(&e.host_url), "{e:?}");
    assert!(hosts.of(e.side.partner()).contains(&e.partner_url), "{e:?}");
    assert!(ind::same_host_url(&text("CrossTenantHostUrl"), &e.host_url));
    assert!(ind::same_host_url(
        &text("PartnerCrossTenantHostUrl"),
        &e.partner_url
    ));
    assert_eq!(e.partner_role, e.side.partner(), "{e:?}");
    assert_eq!(e.verify, VerifyResult::NotEstablished, "{e:?}");
    assert_eq!(Some(e.checked_at), ind::checked_at(&text("CheckedAtUtc")));
    assert_eq!(e.checked_by, text("CheckedBy"));
}

/// Every refusal is about this file, readable, one line, and about a field as the file has it.
fn check_refusals(name: &str, bytes: &[u8], r: &Rejection) {
    assert!(!r.refusals.is_empty(), "a rejection without a reason");
    assert!(
        r.refusals.windows(2).all(|w| w[0].field <= w[1].field),
        "refusals not in field order: {:?}",
        r.refusals
    );
    let text = ind::text(bytes);
    let entries = text.as_deref().and_then(ind::entries);
    for refusal in &r.refusals {
        let shown = refusal.to_string();
        assert_eq!(refusal.file, name);
        assert!(shown.starts_with(&format!("{name}: ")), "{shown:?}");
        assert!(
            !shown.chars().any(breaks_the_line),
            "a refusal that is not one clean line: {shown:?}"
        );
        assert!(
            !refusal.problem.to_string().trim().is_empty(),
            "{refusal:?}"
        );
        assert!(!refusal.fix.trim().is_empty(), "{refusal:?}");
        match (&refusal.field, &entries) {
            (EvidenceField::File, _) => {
                assert_eq!(r.refusals.len(), 1, "a whole-file refusal and others");
                assert!(
                    entries.is_none(),
                    "a readable object refused whole: {shown}"
                );
            }
            (field, Some(entries)) => {
                let found = ind::property(entries, field.name());
                match &refusal.problem {
                    Problem::Missing => assert_eq!(found, Property::Missing, "{shown}"),
                    Problem::Duplicate => assert_eq!(found, Property::Duplicate, "{shown}"),
                    _ => assert!(matches!(found, Property::One(_)), "{shown}: {found:?}"),
                }
            }
            (_, None) => panic!("a field refused in a file that is no object: {shown}"),
        }
        match &refusal.problem {
            Problem::Undecodable(why) => {
                assert!(text.is_none() || entries.is_none(), "{shown}");
                if matches!(bytes, [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]) {
                    assert!(why.to_string().contains("UTF-16"), "{shown}");
                }
            }
            Problem::NotJson(why) => check_json_error_line(why, text.as_deref()),
            _ => {}
        }
    }
    if text.is_none() {
        assert!(
            matches!(r.refusals[0].problem, Problem::Undecodable(_)),
            "bytes that are no text were read: {:?}",
            r.refusals
        );
    }
}

/// A character that would end a line of output, or reorder what a terminal shows.
fn breaks_the_line(c: char) -> bool {
    let bidi =
        matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    c.is_control() || bidi || matches!(c, '\u{2028}' | '\u{2029}')
}

/// A JSON error's `line N` exists in the text.
fn check_json_error_line(why: &str, text: Option<&str>) {
    let text = text.expect("only decodable text gets a JSON error");
    let Some(at) = why.rfind(" at line ") else {
        return;
    };
    let line: usize = why[at + 9..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a line number");
    let lines = text.bytes().filter(|b| *b == b'\n').count() + 1;
    assert!(line >= 1 && line <= lines, "line {line} of {lines}: {why}");
}

/// "Still active" only for valid evidence of a configured pair whose answer is not
/// `NotEstablished`.
fn check_still_active(r: &Rejection, bytes: &[u8], hosts: &Hosts) {
    let Some(active) = &r.still_active else {
        return;
    };
    assert_eq!(broken(bytes, hosts), ["VerifyResult"], "{active:?}");
    assert_ne!(active.verify, VerifyResult::NotEstablished);
    assert_eq!(r.refusals.len(), 1, "{:?}", r.refusals);
    assert_eq!(
        r.refusals[0].problem,
        Problem::TrustNotRemoved(active.verify)
    );
    let pair = &active.pair;
    assert!(hosts.pairs_of(pair.side).contains(pair), "{pair:?}");
    assert!(active.checked_at <= now() + ind::clock_skew());
}

fn confirmation(e: &Evidence, name: &str) -> Confirmation {
    Confirmation {
        side: e.side,
        host_url: e.host_url.clone(),
        partner_url: e.partner_url.clone(),
        verify_result: e.verify.as_str().to_string(),
        checked_at: e.checked_at,
        checked_by: Some(e.checked_by.clone()),
        file_name: name.to_string(),
        sha256: String::new(),
        confirmed_at: now(),
    }
}

/// Checks one file against `hosts`; returns the evidence when accepted.
fn check_file(name: &str, bytes: &[u8], hosts: &Hosts) -> Option<Evidence> {
    let result = rules::check(name, bytes, hosts, now());
    assert_eq!(
        result,
        rules::check(name, bytes, hosts, now()),
        "not deterministic"
    );
    let faults = broken(bytes, hosts);
    match &result {
        Ok(e) => {
            assert!(faults.is_empty(), "accepted, but breaks {faults:?}: {e:?}");
            check_accepted(e, bytes, hosts);
        }
        Err(r) => {
            assert!(
                !faults.is_empty(),
                "refused valid evidence: {:?}",
                r.refusals
            );
            check_refusals(name, bytes, r);
            check_still_active(r, bytes, hosts);
        }
    }
    result.ok()
}

fuzz_target!(|data: &[u8]| {
    let files = split(data);
    let mut accepted = Vec::new();
    for (name, bytes) in NAMES.iter().zip(&files) {
        let single = check_file(name, bytes, &sample_hosts());
        let multi = check_file(name, bytes, &multi_geo_hosts());
        if let Some(e) = &single {
            assert_eq!(multi.as_ref(), Some(e), "accepted for one geography only");
        }
        accepted.extend(single.map(|e| confirmation(&e, name)));
    }
    // Any age counts here: what this target checks is which files confirm which pairs; the age
    // limit has its own unit tests (gate/fresh.rs).
    let any_age = gate::Freshness {
        now: now(),
        max_age_days: u32::MAX,
        newest_move: None,
    };
    let open = gate::status_of(&gate::match_pairs(&sample_hosts(), &accepted), &any_age).is_open();
    let both_sides = accepted.len() == 2 && accepted[0].side != accepted[1].side;
    assert_eq!(open, both_sides, "gate open {open} on {accepted:?}");
    let pairs = multi_geo_hosts().pairs().len();
    let multi = gate::status_of(&gate::match_pairs(&multi_geo_hosts(), &accepted), &any_age);
    assert!(
        multi.missing().len() + accepted.len() >= pairs,
        "two files cannot confirm {pairs} pairs: {multi:?}"
    );
});
