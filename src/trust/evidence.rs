//! Reading one evidence file: bytes to typed fields, as a pure function. Every field is read
//! and every problem reported; what the values must be for this config is `rules`' job.
//!
//! PowerShell's `ConvertTo-Json` escapes `'`, `<`, `>` and `&` as `\u0027` and so on, writes
//! `\/Date(ms)\/` for dates in 5.1, and property names are case-insensitive in PowerShell; all of
//! that is read here.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::config::{normalize_host_url, Side};

use super::decode::decode;
use super::refusal::{EvidenceField, Problem, Refusal};
use super::{script_command, EVIDENCE_FORMAT, SCENARIO};

/// The answers of `Verify-SPOCrossTenantRelationship`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyResult {
    NotEstablished,
    NotEstablishedByPartner,
    DormantByPartner,
    CouldNotContactPartner,
    GoodToProceed,
}

impl VerifyResult {
    pub const ALL: [VerifyResult; 5] = [
        VerifyResult::NotEstablished,
        VerifyResult::NotEstablishedByPartner,
        VerifyResult::DormantByPartner,
        VerifyResult::CouldNotContactPartner,
        VerifyResult::GoodToProceed,
    ];

    /// The name the cmdlet prints.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyResult::NotEstablished => "NotEstablished",
            VerifyResult::NotEstablishedByPartner => "NotEstablishedByPartner",
            VerifyResult::DormantByPartner => "DormantByPartner",
            VerifyResult::CouldNotContactPartner => "CouldNotContactPartner",
            VerifyResult::GoodToProceed => "GoodToProceed",
        }
    }

    /// Reads a name, ignoring case as PowerShell does for enum values.
    pub fn parse(text: &str) -> Option<VerifyResult> {
        VerifyResult::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// What the answer means for the trust.
    pub fn meaning(self) -> &'static str {
        match self {
            VerifyResult::NotEstablished => "no trust is requested from this tenant any more: the removal worked",
            VerifyResult::NotEstablishedByPartner => "this tenant still requests the trust (only the partner has not set up its side), so this side is not removed",
            VerifyResult::DormantByPartner => "the partner's trust request is in its 7-day wait, so the relationship is still pending and not removed",
            VerifyResult::CouldNotContactPartner => "this tenant could not reach the partner to check, so the state of the trust is unknown",
            VerifyResult::GoodToProceed => "the trust is still active",
        }
    }
}

/// An evidence file whose every field was read (not yet checked against the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub side: Side,
    /// Normalised: lower case, one trailing slash.
    pub host_url: String,
    /// Normalised like `host_url`.
    pub partner_url: String,
    pub partner_role: Side,
    pub verify: VerifyResult,
    pub checked_at: DateTime<Utc>,
    pub checked_by: String,
}

/// The fields that could be read; `None` where the field was refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceDraft {
    pub side: Option<Side>,
    pub host_url: Option<String>,
    pub partner_url: Option<String>,
    /// The role and how the file spelled it.
    pub partner_role: Option<(Side, String)>,
    pub verify: Option<VerifyResult>,
    pub checked_at: Option<DateTime<Utc>>,
    pub checked_by: Option<String>,
}

impl EvidenceDraft {
    /// The evidence, when every field was read.
    pub fn complete(&self) -> Option<Evidence> {
        Some(Evidence {
            side: self.side?,
            host_url: self.host_url.clone()?,
            partner_url: self.partner_url.clone()?,
            partner_role: self.partner_role.as_ref()?.0,
            verify: self.verify?,
            checked_at: self.checked_at?,
            checked_by: self.checked_by.clone()?,
        })
    }
}

/// Reads `bytes` (the content of `file`): the fields that could be read, and a refusal for
/// each one that could not. `None` when the file is not one JSON object at all.
pub fn parse(file: &str, bytes: &[u8]) -> (Option<EvidenceDraft>, Vec<Refusal>) {
    let whole = |problem: Problem| {
        let refusal = Refusal::new(file, EvidenceField::File, problem, regenerate(None));
        (None, vec![refusal])
    };
    let text = match decode(bytes) {
        Ok(text) => text,
        Err(why) => return whole(Problem::Undecodable(why)),
    };
    let text = text.trim_start_matches('\u{feff}');
    let entries = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(_)) => match serde_json::from_str::<Entries>(text) {
            Ok(Entries(entries)) => entries,
            Err(e) => return whole(Problem::NotJson(e.to_string())),
        },
        Ok(other) => return whole(Problem::NotAnObject(json_kind(&other))),
        Err(e) => return whole(Problem::NotJson(e.to_string())),
    };
    let mut reader = Reader {
        file,
        entries: &entries,
        side: None,
        refusals: Vec::new(),
    };
    let draft = reader.read_all();
    (Some(draft), reader.refusals)
}

/// The fix for a file that is damaged or was edited: write it again with the script.
pub fn regenerate(side: Option<Side>) -> String {
    let (command, tenant) = match side {
        Some(side) => (
            script_command(side),
            format!("the {} tenant", side.as_str()),
        ),
        None => (
            "t2t-notify trust script".to_string(),
            "that tenant".to_string(),
        ),
    };
    format!("run the script that `{command}` prints on {tenant} and confirm the file it writes (evidence files are not edited by hand)")
}

struct Reader<'a> {
    file: &'a str,
    entries: &'a [(String, Value)],
    /// The side, once read, so that fixes can name the right script.
    side: Option<Side>,
    refusals: Vec<Refusal>,
}

impl Reader<'_> {
    fn read_all(&mut self) -> EvidenceDraft {
        self.side = self.read(EvidenceField::Side, |text| {
            parse_side(text).ok_or_else(|| Problem::UnknownSide(text.into()))
        });
        self.read(EvidenceField::Format, |text| {
            if text == EVIDENCE_FORMAT {
                Ok(())
            } else {
                Err(Problem::UnknownFormat(text.into()))
            }
        });
        let url = |text: &str| Ok(normalize_host_url(text));
        let draft = EvidenceDraft {
            side: self.side,
            host_url: self.read(EvidenceField::CrossTenantHostUrl, url),
            partner_url: self.read(EvidenceField::PartnerCrossTenantHostUrl, url),
            partner_role: self.read(EvidenceField::PartnerRole, |text| {
                parse_side(text)
                    .map(|side| (side, text.to_string()))
                    .ok_or_else(|| Problem::UnknownPartnerRole(text.into()))
            }),
            verify: self.read(EvidenceField::VerifyResult, |text| {
                VerifyResult::parse(text).ok_or_else(|| Problem::UnknownVerifyResult(text.into()))
            }),
            checked_at: self.read(EvidenceField::CheckedAtUtc, |text| {
                parse_time(text).ok_or_else(|| Problem::NotATimestamp(text.into()))
            }),
            checked_by: self.read(EvidenceField::CheckedBy, |text| Ok(text.to_string())),
        };
        self.read(EvidenceField::Scenario, |text| {
            if text.eq_ignore_ascii_case(SCENARIO) {
                Ok(())
            } else {
                Err(Problem::WrongScenario(text.into()))
            }
        });
        draft
    }

    /// Reads one text field through `convert`, recording a refusal when it fails.
    fn read<T>(
        &mut self,
        field: EvidenceField,
        convert: impl FnOnce(&str) -> Result<T, Problem>,
    ) -> Option<T> {
        let result = text_field(self.entries, field).and_then(convert);
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                let fix = regenerate(self.side);
                self.refusals
                    .push(Refusal::new(self.file, field, problem, fix));
                None
            }
        }
    }
}

/// The trimmed text of `field`, found ignoring case.
fn text_field(entries: &[(String, Value)], field: EvidenceField) -> Result<&str, Problem> {
    let mut found = entries
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(field.name()));
    let value = match (found.next(), found.next()) {
        (None, _) => return Err(Problem::Missing),
        (Some(_), Some(_)) => return Err(Problem::Duplicate),
        (Some((_, value)), None) => value,
    };
    match value {
        Value::String(text) if text.trim().is_empty() => Err(Problem::Empty),
        Value::String(text) => Ok(text.trim()),
        Value::Null => Err(Problem::Missing),
        other => Err(Problem::NotAString(json_kind(other))),
    }
}

fn parse_side(text: &str) -> Option<Side> {
    [Side::Source, Side::Target]
        .into_iter()
        .find(|side| side.as_str().eq_ignore_ascii_case(text))
}

/// RFC 3339 (`2026-11-27T06:00:00Z`, fractions and offsets allowed), the same without a zone
/// (taken as UTC, as the field's name says), or Windows PowerShell 5.1's `/Date(ms)/`.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    let millis = text.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = millis
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && *c == '-')))
        .map_or(millis.len(), |(i, _)| i);
    let (digits, zone) = millis.split_at(digits_end);
    let zone_ok = zone.is_empty()
        || (zone.len() == 5
            && zone.starts_with(['+', '-'])
            && zone[1..].chars().all(|c| c.is_ascii_digit()));
    if !zone_ok {
        return None;
    }
    DateTime::from_timestamp_millis(digits.parse().ok()?)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The entries of the top-level object in order, duplicates kept so that they can be refused
/// (`Value::Object` keeps only the last of two equal names).
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        d.deserialize_map(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Value>()? {
            entries.push(entry);
        }
        Ok(Entries(entries))
    }
}
