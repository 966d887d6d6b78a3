//! The rules an evidence file must meet for this config, as a pure function of its bytes, the
//! configured host URLs and the current time.
//!
//! - `Format` is one this build reads;
//! - `Side` matches the host URL: `CrossTenantHostUrl` is one of that side's configured URLs and
//!   `PartnerCrossTenantHostUrl` one of the other side's;
//! - `PartnerRole` is the partner's role (the source names `Target`, the target `Source`);
//! - `Scenario` is `MnA`;
//! - `VerifyResult` is `NotEstablished` (any other answer is refused with its meaning);
//! - `CheckedAtUtc` is not in the future (beyond [`CLOCK_SKEW`]);
//! - `CheckedBy` names someone.

use chrono::{DateTime, Duration, Utc};

use crate::config::Side;

use super::evidence::{self, Evidence, EvidenceDraft, VerifyResult};
use super::refusal::{EvidenceField, Problem, Refusal};
use super::{script_command, Hosts, Pair};

/// How far `CheckedAtUtc` may be ahead of this machine's clock (the admin's workstation and
/// this machine are not synchronised to the second).
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Why a file was refused, and whether it says that a configured pair still has its trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Every problem found, in field order.
    pub refusals: Vec<Refusal>,
    /// Set when the file is valid evidence of a configured pair except that `VerifyResult`
    /// says the trust is not removed: newer than a recorded confirmation, it withdraws it.
    pub still_active: Option<StillActive>,
}

/// Valid evidence that a configured pair's trust is not removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StillActive {
    pub pair: Pair,
    pub verify: VerifyResult,
    pub checked_at: DateTime<Utc>,
}

/// Checks the content of `file` against the configured hosts at time `now`.
pub fn check(
    file: &str,
    bytes: &[u8],
    hosts: &Hosts,
    now: DateTime<Utc>,
) -> Result<Evidence, Rejection> {
    let (draft, mut refusals) = evidence::parse(file, bytes);
    let draft = draft.unwrap_or_default();
    refusals.extend(check_pair(file, &draft, hosts));
    refusals.extend(check_time(file, &draft, now));
    let mut still_active = None;
    if let (Some(verify), Some(pair)) = (draft.verify, pair_of(&draft, hosts)) {
        if verify != VerifyResult::NotEstablished {
            refusals.push(not_removed(file, &pair, verify));
            // Every field was read (a field that was not is refused) and met its rule.
            if let ([_], Some(checked_at)) = (refusals.as_slice(), draft.checked_at) {
                still_active = Some(StillActive {
                    pair,
                    verify,
                    checked_at,
                });
            }
        }
    }
    refusals.sort_by_key(|r| r.field);
    match draft.complete() {
        Some(evidence) if refusals.is_empty() => Ok(evidence),
        _ => Err(Rejection {
            refusals,
            still_active,
        }),
    }
}

/// The configured pair the file is about, when side, host and partner all match the config.
fn pair_of(draft: &EvidenceDraft, hosts: &Hosts) -> Option<Pair> {
    let side = draft.side?;
    let host = draft.host_url.as_deref()?;
    let partner = draft.partner_url.as_deref()?;
    hosts
        .pairs_of(side)
        .into_iter()
        .find(|p| p.host_url == host && p.partner_url == partner)
}

/// Side, host URL, partner URL and role against the configured hosts.
fn check_pair(file: &str, draft: &EvidenceDraft, hosts: &Hosts) -> Vec<Refusal> {
    let mut out = Vec::new();
    let Some(side) = draft.side else {
        return out;
    };
    let regen = || evidence::regenerate(Some(side));
    if let Some(host) = &draft.host_url {
        match hosts.side_of(host) {
            None => out.push(Refusal::new(
                file,
                EvidenceField::CrossTenantHostUrl,
                Problem::HostNotConfigured {
                    url: host.clone(),
                    side,
                    configured: hosts.of(side).to_vec(),
                },
                not_configured_fix(side),
            )),
            Some(actual) if actual != side => {
                out.push(Refusal::new(
                    file,
                    EvidenceField::Side,
                    Problem::SideMismatch {
                        claimed: side,
                        url: host.clone(),
                        actual,
                    },
                    evidence::regenerate(Some(actual)),
                ));
                // Partner and role cannot be judged against a side the file got wrong.
                return out;
            }
            Some(_) => {}
        }
    }
    if let Some(partner) = &draft.partner_url {
        let problem = match hosts.side_of(partner) {
            None => Some(Problem::HostNotConfigured {
                url: partner.clone(),
                side: side.partner(),
                configured: hosts.of(side.partner()).to_vec(),
            }),
            Some(found) if found == side => Some(Problem::PartnerOnSameSide {
                url: partner.clone(),
                side,
            }),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            let fix = match problem {
                Problem::HostNotConfigured { .. } => not_configured_fix(side.partner()),
                _ => regen(),
            };
            out.push(Refusal::new(
                file,
                EvidenceField::PartnerCrossTenantHostUrl,
                problem,
                fix,
            ));
        }
    }
    if let Some((role, spelled)) = &draft.partner_role {
        if *role != side.partner() {
            let problem = Problem::WrongPartnerRole {
                found: spelled.clone(),
                expected: super::role_name(side.partner()),
                side,
            };
            let fix = match pair_of(draft, hosts) {
                Some(pair) => run_on_tenant(&pair),
                None => regen(),
            };
            out.push(Refusal::new(file, EvidenceField::PartnerRole, problem, fix));
        }
    }
    out
}

fn check_time(file: &str, draft: &EvidenceDraft, now: DateTime<Utc>) -> Vec<Refusal> {
    match draft.checked_at {
        Some(at) if at > now + CLOCK_SKEW => vec![Refusal::new(
            file,
            EvidenceField::CheckedAtUtc,
            Problem::InFuture { at, now },
            format!(
                "set the clock of the machine that ran the script right, then {}",
                evidence::regenerate(draft.side)
            ),
        )],
        _ => Vec::new(),
    }
}

fn not_removed(file: &str, pair: &Pair, verify: VerifyResult) -> Refusal {
    let fix = match verify {
        VerifyResult::CouldNotContactPartner => format!(
            "check that {} is the partner's URL (Get-SPOCrossTenantHostUrl on the {} tenant) and run `{}` on the {} tenant again, or the script that `{}` prints",
            pair.partner_url,
            pair.side.partner().as_str(),
            pair.verify_command(),
            pair.side.as_str(),
            script_command(pair.side)
        ),
        _ => run_on_tenant(pair),
    };
    Refusal::new(
        file,
        EvidenceField::VerifyResult,
        Problem::TrustNotRemoved(verify),
        fix,
    )
}

/// Tells the admin to run the removal and the check for this pair.
pub fn run_on_tenant(pair: &Pair) -> String {
    format!(
        "run on the {} tenant `{}`, then `{}` until it answers NotEstablished (the script that `{}` prints does both and writes a new evidence file)",
        pair.side.as_str(),
        pair.remove_command(),
        pair.verify_command(),
        script_command(pair.side)
    )
}

fn not_configured_fix(side: Side) -> String {
    format!(
        "if this geography takes part in the migration, add it to [{0}] host_urls in the config file and run `{1}` again; otherwise the file comes from another tenant or geography",
        side.as_str(),
        script_command(side)
    )
}
