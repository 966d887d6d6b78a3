//! Why an evidence file was refused: which file, which field, what is wrong with it, and what to
//! run to get a file that will be accepted.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::config::Side;

use super::VerifyResult;

/// A field of the evidence file, by the name it has in the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvidenceField {
    /// The file as a whole (unreadable, not JSON, not one object).
    File,
    Format,
    Side,
    CrossTenantHostUrl,
    PartnerCrossTenantHostUrl,
    PartnerRole,
    Scenario,
    VerifyResult,
    CheckedAtUtc,
    CheckedBy,
}

impl EvidenceField {
    /// The JSON property name.
    pub fn name(self) -> &'static str {
        match self {
            EvidenceField::File => "(file)",
            EvidenceField::Format => "Format",
            EvidenceField::Side => "Side",
            EvidenceField::CrossTenantHostUrl => "CrossTenantHostUrl",
            EvidenceField::PartnerCrossTenantHostUrl => "PartnerCrossTenantHostUrl",
            EvidenceField::PartnerRole => "PartnerRole",
            EvidenceField::Scenario => "Scenario",
            EvidenceField::VerifyResult => "VerifyResult",
            EvidenceField::CheckedAtUtc => "CheckedAtUtc",
            EvidenceField::CheckedBy => "CheckedBy",
        }
    }
}

impl fmt::Display for EvidenceField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with a field (the "why" of a refusal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("cannot be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Undecodable(#[from] super::decode::DecodeError),
    #[error("is not JSON: {0}")]
    NotJson(String),
    #[error(
        "is a JSON {0}, not one object like {{\"Format\": \"t2t-notify/trust-evidence/1\", ...}}"
    )]
    NotAnObject(&'static str),
    #[error("is missing")]
    Missing,
    #[error("appears more than once (names are compared ignoring case, as PowerShell does)")]
    Duplicate,
    #[error("is a JSON {0}, not text")]
    NotAString(&'static str),
    #[error("is empty")]
    Empty,
    #[error("`{}` is not an evidence format this t2t-notify reads (it reads `t2t-notify/trust-evidence/1`)", shown(.0))]
    UnknownFormat(String),
    #[error("`{}` is neither `source` nor `target`", shown(.0))]
    UnknownSide(String),
    #[error("says {}, but the host URL `{}` is one of the [{2}] host_urls: the file was written on the {2} tenant", claimed.as_str(), shown(url), actual.as_str())]
    SideMismatch {
        claimed: Side,
        url: String,
        actual: Side,
    },
    #[error("`{}` is not one of the [{}] host_urls ({})", shown(url), side.as_str(), configured.join(", "))]
    HostNotConfigured {
        url: String,
        side: Side,
        configured: Vec<String>,
    },
    #[error("`{}` is one of this side's own ([{}]) host_urls; the partner must be one of the [{}] host_urls", shown(url), side.as_str(), side.partner().as_str())]
    PartnerOnSameSide { url: String, side: Side },
    #[error("`{}` is not a role; the cmdlets know `Source` and `Target`", shown(.0))]
    UnknownPartnerRole(String),
    #[error("is `{}`, but the {} tenant names its partner's role, `{expected}`{}", shown(found), side.as_str(), seed_note(*side))]
    WrongPartnerRole {
        found: String,
        expected: &'static str,
        side: Side,
    },
    #[error("is `{}`; a cross-tenant OneDrive migration uses the scenario `MnA`", shown(.0))]
    WrongScenario(String),
    #[error("is `{}`: {}", .0.as_str(), .0.meaning())]
    TrustNotRemoved(VerifyResult),
    #[error("`{}` is not an answer of Verify-SPOCrossTenantRelationship (NotEstablished, NotEstablishedByPartner, DormantByPartner, CouldNotContactPartner, GoodToProceed)", shown(.0))]
    UnknownVerifyResult(String),
    #[error("`{}` is not a UTC time like 2026-11-27T06:00:00Z", shown(.0))]
    NotATimestamp(String),
    #[error("{} is in the future (now {}): the evidence cannot have been checked yet", at.format("%Y-%m-%dT%H:%M:%SZ"), now.format("%Y-%m-%dT%H:%M:%SZ"))]
    InFuture {
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
}

/// A value from the file as a message shows it: control characters, line and paragraph
/// separators and bidirectional controls escaped (`\n`, `\u{202e}`), so a file cannot end
/// the refusal's line, forge another line of output or reorder what the terminal shows.
fn shown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let trick = matches!(c, '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || trick {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The seed page's command for the target tenant repeats the source's `-PartnerRole Target`.
fn seed_note(side: Side) -> &'static str {
    match side {
        Side::Target => " (Microsoft's post-migration page wrongly repeats the source's `-PartnerRole Target` for the target tenant)",
        Side::Source => "",
    }
}

/// One reason an evidence file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The file as the admin named it.
    pub file: String,
    pub field: EvidenceField,
    pub problem: Problem,
    /// What to run or change to get a file that is accepted.
    pub fix: String,
}

impl Refusal {
    pub fn new(
        file: &str,
        field: EvidenceField,
        problem: Problem,
        fix: impl Into<String>,
    ) -> Refusal {
        Refusal {
            file: file.to_string(),
            field,
            problem,
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            EvidenceField::File => write!(f, "{}: {}; {}", self.file, self.problem, self.fix),
            field => write!(
                f,
                "{}: field {field}: {}; {}",
                self.file, self.problem, self.fix
            ),
        }
    }
}
