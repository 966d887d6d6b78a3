//! `trust script|confirm|status` on a copy of the sample config, with the ledger in a temporary
//! folder (`T2T_NOTIFY_LEDGER_PATH`), so nothing is written into the repository.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::harness::*;

const SOURCE: &str = "https://contoso-my.sharepoint.com/";
const SOURCE_EUR: &str = "https://contosoeur-my.sharepoint.com/";
const TARGET: &str = "https://fabrikam-my.sharepoint.com/";

/// A temporary folder with the sample config and its own ledger.
struct Site {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(sample_config(), dir.path().join("t2t-notify.toml")).unwrap();
        let ledger = dir.path().join("state/ledger.db");
        Site {
            env: vec![
                (
                    "T2T_NOTIFY_LEDGER_PATH".into(),
                    ledger.display().to_string(),
                ),
                (ANY_EVIDENCE_AGE.0.into(), ANY_EVIDENCE_AGE.1.into()),
            ],
            dir,
        }
    }

    /// The same, with a second source geography.
    fn multi_geo() -> Site {
        let mut site = Site::new();
        site.env.push((
            "T2T_NOTIFY_SOURCE_HOST_URLS".into(),
            format!("[\"{SOURCE}\", \"https://ContosoEUR-my.sharepoint.com\"]"),
        ));
        site
    }

    fn ledger(&self) -> PathBuf {
        self.dir.path().join("state/ledger.db")
    }

    fn trust<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = t2t()
            .arg("--config")
            .arg(self.dir.path().join("t2t-notify.toml"))
            .arg("trust")
            .args(args)
            .current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        cmd.run()
    }

    fn confirm(&self, files: &[PathBuf]) -> Run {
        self.trust(std::iter::once(PathBuf::from("confirm")).chain(files.iter().cloned()))
    }

    fn status(&self) -> Run {
        self.trust(["status"])
    }

    /// Writes an evidence file as the script would and returns its path.
    fn evidence(
        &self,
        name: &str,
        side: &str,
        host: &str,
        partner: &str,
        verify: &str,
        at: &str,
    ) -> PathBuf {
        let role = if side == "source" { "Target" } else { "Source" };
        let json = serde_json::json!({
            "Format": "t2t-notify/trust-evidence/1",
            "Side": side,
            "CrossTenantHostUrl": host,
            "PartnerCrossTenantHostUrl": partner,
            "PartnerRole": role,
            "Scenario": "MnA",
            "VerifyResult": verify,
            "CheckedAtUtc": at,
            "CheckedBy": "admin@contoso.onmicrosoft.com",
        });
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
        path
    }
}

fn trust_fixture(name: &str) -> PathBuf {
    fixture(&format!("trust/{name}"))
}

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn script_for_each_tenant_names_the_partner_role_and_url() {
    let site = Site::new();
    site.trust(["script", "--tenant", "source"])
        .status(0)
        .contains(&format!("Remove-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Target -PartnerCrossTenantHostUrl '{TARGET}'"))
        .contains(&format!("Verify-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Target -PartnerCrossTenantHostUrl '{TARGET}'"))
        .contains("Get-SPOCrossTenantHostUrl")
        .contains("-Side 'source' -Number 1")
        .lacks("-PartnerRole Source -PartnerCrossTenantHostUrl");
    site.trust(["script", "--tenant", "target"])
        .status(0)
        .contains(&format!("Remove-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Source -PartnerCrossTenantHostUrl '{SOURCE}'"))
        .contains("-Side 'target' -Number 1")
        .lacks("-PartnerRole Target -PartnerCrossTenantHostUrl");
    site.trust(["script"])
        .status(0)
        .contains("if ($Side -eq 'source')")
        .contains("if ($Side -eq 'target')");
    assert!(
        !site.ledger().exists(),
        "printing the script touches no ledger"
    );
}

#[test]
fn script_rejects_an_unknown_tenant() {
    Site::new()
        .trust(["script", "--tenant", "both"])
        .status(2)
        .contains("invalid value 'both'");
}

#[test]
fn confirm_refuses_missing_and_oversized_files_and_records_the_good_one() {
    let site = Site::new();
    let big = site.dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 100 * 1024]).unwrap();
    let missing = site.dir.path().join("nowhere.json");
    site.confirm(&[
        big.clone(),
        missing.clone(),
        trust_fixture("accepted-source.json"),
    ])
    .status(2)
    .contains(&format!(
        "refused: {}: cannot be read: larger than 64 KiB",
        big.display()
    ))
    .contains(&format!("refused: {}: cannot be read:", missing.display()))
    .contains("1 accepted, 2 refused");
    site.status()
        .status(3)
        .contains(&format!("[confirmed] source {SOURCE}"));
}

#[test]
fn confirm_needs_at_least_one_file() {
    Site::new().trust(["confirm"]).status(2).contains("FILE");
}

/// The table of tests/fixtures/trust/expected.tsv: (file, accepted, fields, phrase).
fn table() -> Vec<(String, bool, Vec<String>, String)> {
    let text = std::fs::read_to_string(trust_fixture("expected.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let fields = match c[2] {
                "-" => Vec::new(),
                list => list.split(',').map(String::from).collect(),
            };
            (
                c[0].to_string(),
                c[1] == "accepted",
                fields,
                c[3].to_string(),
            )
        })
        .collect()
}

#[test]
fn every_fixture_through_the_binary() {
    for (file, accepted, fields, phrase) in table() {
        let site = Site::new();
        let path = trust_fixture(&file);
        let run = site.confirm(std::slice::from_ref(&path));
        if accepted {
            run.status(0)
                .contains(&format!("accepted: {}", path.display()));
            continue;
        }
        let mut run = run.status(2).contains(&phrase).lacks("accepted:");
        for field in &fields {
            let needle = if field == "(file)" {
                format!("refused: {}: ", path.display())
            } else {
                format!("refused: {}: field {field}: ", path.display())
            };
            run = run.contains(&needle);
        }
        site.status().status(3).contains("[MISSING]");
    }
}

#[test]
fn no_wrong_fixture_opens_the_gate_next_to_a_good_one() {
    for (file, accepted, _, _) in table() {
        if accepted {
            continue;
        }
        for good in ["accepted-source.json", "accepted-target.json"] {
            let site = Site::new();
            site.confirm(&[trust_fixture(good), trust_fixture(&file)])
                .status(2)
                .contains("1 accepted, 1 refused");
            site.status()
                .status(3)
                .contains("[confirmed]")
                .contains("[MISSING]");
        }
    }
}

#[test]
fn gate_opens_only_after_both_sides_are_confirmed() {
    let site = Site::new();
    site.status()
        .status(3)
        .contains("not confirmed removed for 2 of 2 host pairs");
    let source = trust_fixture("accepted-source-utf16le.json");
    site.confirm(std::slice::from_ref(&source))
        .status(0)
        .contains("(recorded)")
        .contains("trust gate closed");
    site.status()
        .status(3)
        .contains(&format!("[confirmed] source {SOURCE} -> target {TARGET}"))
        .contains(&format!("[MISSING]   target {TARGET} -> source {SOURCE}"))
        .contains(&format!("on the target tenant run: Remove-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Source -PartnerCrossTenantHostUrl {SOURCE}"))
        .contains("t2t-notify trust script --tenant target");
    let target = trust_fixture("accepted-target-ps51-utf8-bom.json");
    site.confirm(std::slice::from_ref(&target))
        .status(0)
        .contains("trust gate open");
    site.status()
        .status(0)
        .contains(&sha256_of(&source))
        .contains(&sha256_of(&target))
        .contains(&source.display().to_string())
        .contains("checked    2026-11-20T06:00:00Z by o'brien@fabrikam.onmicrosoft.com")
        .contains("trust gate open");
    site.confirm(std::slice::from_ref(&target))
        .status(0)
        .contains("(already recorded)");
    assert!(site.ledger().exists());
}

#[test]
fn multi_geo_one_pair_confirmed_keeps_the_gate_closed() {
    let site = Site::multi_geo();
    let at = "2026-11-20T06:00:00Z";
    let files = [
        site.evidence("s1.json", "source", SOURCE, TARGET, "NotEstablished", at),
        site.evidence(
            "s2.json",
            "source",
            SOURCE_EUR,
            TARGET,
            "NotEstablished",
            at,
        ),
        site.evidence("t1.json", "target", TARGET, SOURCE, "NotEstablished", at),
        site.evidence(
            "t2.json",
            "target",
            TARGET,
            SOURCE_EUR,
            "NotEstablished",
            at,
        ),
    ];
    site.confirm(&files[..1]).status(0);
    site.status()
        .status(3)
        .contains("not confirmed removed for 3 of 4 host pairs")
        .contains(&format!(
            "[MISSING]   source {SOURCE_EUR} -> target {TARGET}"
        ))
        .contains(&format!(
            "[MISSING]   target {TARGET} -> source {SOURCE_EUR}"
        ));
    site.confirm(&files[1..3]).status(0);
    site.status().status(3).contains("1 of 4");
    site.confirm(&files[3..])
        .status(0)
        .contains("trust gate open");
    site.status().status(0);
    site.trust(["script", "--tenant", "target"])
        .status(0)
        .contains(&format!(
            "-PartnerRole Source -PartnerCrossTenantHostUrl '{SOURCE_EUR}'"
        ))
        .contains("-Side 'target' -Number 2");
}

#[test]
fn newer_evidence_of_an_active_trust_withdraws_the_confirmation() {
    let site = Site::new();
    let good = site.evidence(
        "good.json",
        "source",
        SOURCE,
        TARGET,
        "NotEstablished",
        "2026-11-20T06:00:00Z",
    );
    let older = site.evidence(
        "older.json",
        "source",
        SOURCE,
        TARGET,
        "GoodToProceed",
        "2026-11-19T06:00:00Z",
    );
    let newer = site.evidence(
        "newer.json",
        "source",
        SOURCE,
        TARGET,
        "DormantByPartner",
        "2026-11-21T06:00:00Z",
    );
    site.confirm(std::slice::from_ref(&good)).status(0);
    site.confirm(std::slice::from_ref(&older))
        .status(2)
        .contains("the trust is still active")
        .lacks("WITHDRAWN");
    site.status().contains("[confirmed] source");
    site.confirm(std::slice::from_ref(&newer))
        .status(2)
        .contains("7-day wait")
        .contains("WITHDRAWN")
        .contains(&good.display().to_string());
    site.status()
        .status(3)
        .contains(&format!("[MISSING]   source {SOURCE}"));
}

#[test]
fn older_evidence_never_replaces_newer() {
    let site = Site::new();
    let newer = site.evidence(
        "newer.json",
        "source",
        SOURCE,
        TARGET,
        "NotEstablished",
        "2026-11-21T06:00:00Z",
    );
    let older = site.evidence(
        "older.json",
        "source",
        SOURCE,
        TARGET,
        "NotEstablished",
        "2026-11-20T06:00:00Z",
    );
    site.confirm(std::slice::from_ref(&newer)).status(0);
    site.confirm(std::slice::from_ref(&older))
        .status(0)
        .contains("not recorded: the pair is already confirmed by newer evidence");
    site.status()
        .contains(&sha256_of(&newer))
        .lacks(&sha256_of(&older));
}

#[test]
fn licence_expiry_within_two_weeks_warns_while_the_source_is_unconfirmed() {
    let mut site = Site::new();
    let soon = chrono::Local::now().date_naive() + chrono::Duration::days(5);
    site.env.push((
        "T2T_NOTIFY_SOURCE_LICENSES_EXPIRE".into(),
        soon.format("%Y-%m-%d").to_string(),
    ));
    site.status()
        .status(3)
        .contains("WARNING: the source tenant's licences")
        .contains("no longer works on the source tenant");
    site.confirm(&[trust_fixture("accepted-source.json")])
        .status(0);
    site.status().status(3).lacks("WARNING");
}

#[test]
fn licence_expiry_far_away_gives_no_warning() {
    let mut site = Site::new();
    let later = chrono::Local::now().date_naive() + chrono::Duration::days(60);
    site.env.push((
        "T2T_NOTIFY_SOURCE_LICENSES_EXPIRE".into(),
        later.format("%Y-%m-%d").to_string(),
    ));
    site.status().status(3).lacks("WARNING");
}
