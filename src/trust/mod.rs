//! The trust-removal evidence: what the SharePoint admins run on each tenant, what the files
//! they bring back must say, and which host pairs there are.
//!
//! Everything here is pure: bytes and config in, typed evidence, refusals or script text out.
//! The ledger records what was accepted (`ledger::trust`); `gate` decides from those records.
//!
//! A *pair* is one geography of one tenant and one geography of the other: the source side
//! removes its trust to every target host URL (naming the partner's role, `Target`), and the
//! target side removes its trust to every source host URL (`-PartnerRole Source`).

pub mod decode;
pub mod evidence;
#[cfg(test)]
mod ps_lint;
pub mod refusal;
pub mod rules;
pub mod script;

use std::fmt;

use crate::config::{Config, Side};

pub use evidence::{Evidence, VerifyResult};
pub use refusal::{EvidenceField, Problem, Refusal};

/// The `Format` value of the evidence files this build writes and reads.
pub const EVIDENCE_FORMAT: &str = "t2t-notify/trust-evidence/1";
/// The `Scenario` of a cross-tenant OneDrive migration (mergers and acquisitions).
pub const SCENARIO: &str = "MnA";

/// The configured cross-tenant host URLs of both tenants, normalised (lower case, one
/// trailing slash), in config order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    pub source: Vec<String>,
    pub target: Vec<String>,
}

impl Hosts {
    /// The host URLs of `[source]` and `[target]`.
    pub fn from_config(config: &Config) -> Hosts {
        Hosts {
            source: config.host_urls(Side::Source),
            target: config.host_urls(Side::Target),
        }
    }

    /// One side's host URLs.
    pub fn of(&self, side: Side) -> &[String] {
        match side {
            Side::Source => &self.source,
            Side::Target => &self.target,
        }
    }

    /// Which side a (normalised) host URL is configured on, if any.
    pub fn side_of(&self, url: &str) -> Option<Side> {
        [Side::Source, Side::Target]
            .into_iter()
            .find(|side| self.of(*side).iter().any(|u| u == url))
    }

    /// Every pair one side must remove, numbered from 1 in config order.
    pub fn pairs_of(&self, side: Side) -> Vec<Pair> {
        let mut pairs = Vec::new();
        for host in self.of(side) {
            for partner in self.of(side.partner()) {
                pairs.push(Pair {
                    side,
                    number: pairs.len() + 1,
                    host_url: host.clone(),
                    partner_url: partner.clone(),
                });
            }
        }
        pairs
    }

    /// Every pair of both sides: the source's first, then the target's.
    pub fn pairs(&self) -> Vec<Pair> {
        [self.pairs_of(Side::Source), self.pairs_of(Side::Target)].concat()
    }
}

/// One host pair as seen from one side: `side`'s geography `host_url` must have removed its
/// trust to the partner's geography `partner_url`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pair {
    pub side: Side,
    /// 1-based position among this side's pairs; the script writes its evidence to
    /// `trust-evidence-<side>-<number>.json`.
    pub number: usize,
    pub host_url: String,
    pub partner_url: String,
}

impl Pair {
    /// The removal command, to run on this side's tenant.
    pub fn remove_command(&self) -> String {
        self.cmdlet("Remove-SPOCrossTenantRelationship")
    }

    /// The check that must answer `NotEstablished` afterwards.
    pub fn verify_command(&self) -> String {
        self.cmdlet("Verify-SPOCrossTenantRelationship")
    }

    /// `-PartnerRole` names the partner's role, never this side's own.
    fn cmdlet(&self, name: &str) -> String {
        format!(
            "{name} -Scenario {SCENARIO} -PartnerRole {} -PartnerCrossTenantHostUrl {}",
            role_name(self.side.partner()),
            self.partner_url
        )
    }
}

impl fmt::Display for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} -> {} {}",
            self.side.as_str(),
            self.host_url,
            self.side.partner().as_str(),
            self.partner_url
        )
    }
}

/// A side's role as the cmdlets spell it: `Source` or `Target`.
pub fn role_name(side: Side) -> &'static str {
    match side {
        Side::Source => "Source",
        Side::Target => "Target",
    }
}

/// The command that prints the removal script for one side.
pub fn script_command(side: Side) -> String {
    format!("t2t-notify trust script --tenant {}", side.as_str())
}

#[cfg(test)]
mod tests;
