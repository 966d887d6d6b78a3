//! `report --journey`: each mapped person's way through the migration conversation (warned
//! before the move, moved, notified after it, signed in to the target tenant, reminded) and who
//! needs attention, with the funnel over the whole mapping. [`build`] is a pure function of the
//! plan's people, the config's campaigns, the ledger's rows, the sign-in evidence, the
//! submissions log and `now`; `text`, `chart` and `page` turn its answer into the formats.
//!
//! Two rules the ledger alone cannot give, stated here once:
//! - *Moved*: the newest move-state entry says `Success`; without an entry (no exports given,
//!   or none for this person) a post-move notice sent counts as moved, since `send` sends one
//!   only after the move (or when the admin asserts, by giving no exports, that all moved).
//! - *Signed in*: the first sign-in learnt after the move, that is after the export's
//!   timestamp of the `Success` entry, else after the post-move notice was sent; a sign-in
//!   with neither to compare with is not counted (it may be from before the move).

pub mod chart;
pub mod page;
pub mod text;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::campaign::{self, CampaignConfig, Kind, Rule};
use crate::inputs::move_state::{MoveEntry, MoveState};
use crate::ledger::deliveries::{DeliveryRow, DeliveryState};
use crate::ledger::journey::LoggedSubmission;
use crate::ledger::sign_ins::{SignInImport, SignIns};
use crate::plan::{self, Hold};

pub use chart::Chart;

/// One mapped person as the plan knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub source_upn: String,
    pub target_upn: String,
    /// Their newest move-state entry, when an export has one.
    pub moved: Option<Moved>,
    /// Why `send` would hold them back, with the plan's reason (`None`: it would notify them).
    pub held: Option<(Hold, String)>,
}

impl Person {
    /// Everyone of the plan, those `send` would notify and those it holds back, in the
    /// mapping's order.
    pub fn of_plan(plan: &plan::Plan) -> Vec<Person> {
        let ready = plan.recipients.iter().map(|r| {
            let person = Person {
                source_upn: r.user.source_upn.clone(),
                target_upn: r.user.target_upn.clone(),
                moved: r.move_state.as_ref().map(Moved::of_entry),
                held: None,
            };
            (r.user.line, person)
        });
        let held = plan.held_back.iter().map(|h| {
            let person = Person {
                source_upn: h.user.source_upn.clone(),
                target_upn: h.user.target_upn.clone(),
                moved: h.move_state.as_ref().map(Moved::of_entry),
                held: Some((h.hold.clone(), h.reason.clone())),
            };
            (h.user.line, person)
        });
        let mut people: Vec<(u64, Person)> = ready.chain(held).collect();
        people.sort_by_key(|(line, _)| *line);
        people.into_iter().map(|(_, p)| p).collect()
    }
}

/// A person's move as the newest export entry gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    /// The state's name, or `unknown state `X`` as written.
    pub state: String,
    pub batch: String,
    pub at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub success: bool,
}

impl Moved {
    pub fn of_entry(e: &MoveEntry) -> Moved {
        Moved {
            state: e.state_label(),
            batch: e.batch.clone(),
            at: e.timestamp,
            success: e.state == Some(MoveState::Success),
        }
    }
}

/// The config's campaigns as the journey reads the ledger: each campaign's kind (by name,
/// case-insensitive), and how many reminders a person gets at most.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Campaigns {
    kinds: HashMap<String, Kind>,
    /// The largest `max_reminders` of the reminder campaigns; `None` without one.
    pub max_reminders: Option<u32>,
}

impl Campaigns {
    /// The kinds and reminder limits of a config's `[[campaign]]` tables (checked at load).
    pub fn of_config(tables: &[CampaignConfig]) -> Campaigns {
        let mut out = Campaigns::default();
        for c in tables {
            out.kinds.insert(c.name.to_lowercase(), c.kind);
            if let Ok(campaign::Campaign {
                rule: Rule::Reminder(r),
                ..
            }) = campaign::select(tables, Some(&c.name))
            {
                out.max_reminders = out.max_reminders.max(Some(r.max_reminders));
            }
        }
        out
    }

    /// A ledger row's campaign kind: campaigns not in the config (or a config without
    /// `[[campaign]]`) are post-move, as they were before campaigns existed.
    pub fn kind(&self, campaign: &str) -> Kind {
        self.kinds
            .get(&campaign.to_lowercase())
            .copied()
            .unwrap_or(Kind::PostMove)
    }
}

/// Why a person needs someone to act.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Attention {
    /// The move will not finish by itself (`Failed`, `Stopped`, `NotSupported`, or a state
    /// t2t-notify does not know).
    Move { state: String, reason: String },
    /// A message that failed, may have been delivered, or waits for the next run.
    Message {
        campaign: String,
        /// Which reminder, for a reminder campaign's row.
        reminder: Option<u32>,
        state: DeliveryState,
        last_reply: Option<String>,
    },
    /// A guest with no address a notice could go to.
    GuestWithoutAddress { reason: String },
    /// Moved and notified, every reminder sent, and still no sign-in learnt.
    NotSignedIn { reminders: u32 },
}

impl Attention {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Attention::Move { reason, .. } | Attention::GuestWithoutAddress { reason } => {
                reason.clone()
            }
            Attention::Message {
                campaign,
                reminder,
                state,
                last_reply,
            } => {
                let which = reminder
                    .map(|n| format!(" (reminder {n})"))
                    .unwrap_or_default();
                let reply = last_reply
                    .as_deref()
                    .map(|r| format!(": {}", crate::diag::one_line(r)))
                    .unwrap_or_default();
                format!("message {state} in campaign {campaign}{which}{reply}")
            }
            Attention::NotSignedIn { reminders } => format!(
                "moved and notified, {} sent, and no sign-in to the target tenant since the move",
                crate::diag::count(*reminders, "reminder")
            ),
        }
    }
}

/// One person's journey.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Journey {
    pub source_upn: String,
    pub target_upn: String,
    /// When the first pre-move warning was sent.
    pub warned_at: Option<DateTime<Utc>>,
    pub moved: Option<Moved>,
    /// When the first post-move notice was sent.
    pub notified_at: Option<DateTime<Utc>>,
    /// The first sign-in learnt after the move.
    pub signed_in_at: Option<DateTime<Utc>>,
    /// Reminders sent, and when the last one was.
    pub reminders: u32,
    pub last_reminder_at: Option<DateTime<Utc>>,
    pub attention: Vec<Attention>,
}

impl Journey {
    /// Moved by the rule of the module doc.
    pub fn has_moved(&self) -> bool {
        match &self.moved {
            Some(m) => m.success,
            None => self.notified_at.is_some(),
        }
    }
}

/// One step of the funnel: how many people reached it, as a share (0 to 1) of the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Step {
    pub count: u64,
    pub share: f64,
}

/// How far the mapping's people got.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Funnel {
    pub mapping: Step,
    pub warned: Step,
    pub moved: Step,
    pub notified: Step,
    pub signed_in: Step,
}

impl Funnel {
    pub fn of(people: &[Journey]) -> Funnel {
        let total = people.len() as u64;
        let step = |reached: &dyn Fn(&Journey) -> bool| {
            let count = people.iter().filter(|j| reached(j)).count() as u64;
            Step {
                count,
                share: if total == 0 {
                    0.0
                } else {
                    count as f64 / total as f64
                },
            }
        };
        Funnel {
            mapping: step(&|_| true),
            warned: step(&|j| j.warned_at.is_some()),
            moved: step(&Journey::has_moved),
            notified: step(&|j| j.notified_at.is_some()),
            signed_in: step(&|j| j.signed_in_at.is_some()),
        }
    }

    /// The steps in order, each with its key (as in the JSON) and label.
    pub fn steps(&self) -> [(&'static str, &'static str, Step); 5] {
        [
            ("mapping", "in the mapping", self.mapping),
            ("warned", "warned before the move", self.warned),
            ("moved", "moved", self.moved),
            ("notified", "notified after the move", self.notified),
            ("signed_in", "signed in since the move", self.signed_in),
        ]
    }
}

/// What the journey is built from.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub people: &'a [Person],
    pub campaigns: &'a Campaigns,
    pub deliveries: &'a [DeliveryRow],
    pub sign_ins: &'a SignIns,
    pub submissions: &'a [LoggedSubmission],
    /// `[pacing] per_day` (0: no day budget).
    pub per_day: u32,
    pub now: DateTime<Utc>,
}

/// The journey report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JourneyReport {
    pub funnel: Funnel,
    /// In mapping order.
    pub people: Vec<Journey>,
    pub chart: Chart,
    /// The newest sign-in import (`None`: no evidence yet, nobody counts as signed in).
    pub sign_in_evidence: Option<SignInImport>,
    /// Ledger rows of people not in this mapping (not part of any journey).
    pub rows_outside_mapping: u64,
}

impl JourneyReport {
    /// The people who need attention, in mapping order.
    pub fn needing_attention(&self) -> impl Iterator<Item = &Journey> {
        self.people.iter().filter(|j| !j.attention.is_empty())
    }
}

/// A ledger row with its kind, person and reminder number.
struct Keyed<'a> {
    row: &'a DeliveryRow,
    kind: Kind,
    reminder: Option<u32>,
}

/// Builds the journey of every person and the funnel and chart of them all.
pub fn build(s: Sources<'_>) -> JourneyReport {
    let mut by_person: HashMap<String, Vec<Keyed>> = HashMap::new();
    for row in s.deliveries {
        let kind = s.campaigns.kind(&row.campaign);
        let (person, reminder) = match kind {
            Kind::Reminder => campaign::split_key(&row.user_key),
            _ => (row.user_key.as_str(), None),
        };
        by_person
            .entry(person.to_lowercase())
            .or_default()
            .push(Keyed {
                row,
                kind,
                reminder,
            });
    }
    let mut used = 0u64;
    let people: Vec<Journey> = s
        .people
        .iter()
        .map(|p| {
            let rows = by_person
                .get(&p.source_upn.to_lowercase())
                .map_or(&[][..], Vec::as_slice);
            used += rows.len() as u64;
            journey(p, rows, &s)
        })
        .collect();
    let signed_in: Vec<DateTime<Utc>> = people.iter().filter_map(|j| j.signed_in_at).collect();
    let chart = chart::series(
        s.submissions,
        &signed_in,
        people.len() as u64,
        s.per_day,
        s.now,
    );
    JourneyReport {
        funnel: Funnel::of(&people),
        people,
        chart,
        sign_in_evidence: s.sign_ins.newest_import.clone(),
        rows_outside_mapping: (s.deliveries.len() as u64).saturating_sub(used),
    }
}

fn journey(p: &Person, rows: &[Keyed], s: &Sources<'_>) -> Journey {
    let sent = |kind: Kind| {
        rows.iter()
            .filter(move |k| k.kind == kind && k.row.state == DeliveryState::Sent)
            .filter_map(|k| parse_time(k.row.sent_at.as_deref()))
    };
    let notified_at = sent(Kind::PostMove).min();
    let since = match &p.moved {
        Some(m) if m.success => m.at.or(notified_at),
        Some(_) => None,
        None => notified_at,
    };
    let mut j = Journey {
        source_upn: p.source_upn.clone(),
        target_upn: p.target_upn.clone(),
        warned_at: sent(Kind::PreMove).min(),
        moved: p.moved.clone(),
        notified_at,
        signed_in_at: since.and_then(|t| s.sign_ins.first_after(&p.target_upn, t)),
        reminders: sent(Kind::Reminder).count() as u32,
        last_reminder_at: sent(Kind::Reminder).max(),
        attention: Vec::new(),
    };
    j.attention = attention(p, rows, &j, s);
    j
}

fn attention(p: &Person, rows: &[Keyed], j: &Journey, s: &Sources<'_>) -> Vec<Attention> {
    let mut out = Vec::new();
    match &p.held {
        Some((Hold::GuestWithoutAddress, reason)) => out.push(Attention::GuestWithoutAddress {
            reason: reason.clone(),
        }),
        Some((hold, reason)) if hold.needs_action() => out.push(Attention::Move {
            state: hold.to_string(),
            reason: reason.clone(),
        }),
        _ => {}
    }
    let troubled = [
        DeliveryState::Failed,
        DeliveryState::Uncertain,
        DeliveryState::Deferred,
    ];
    let mut messages: Vec<&Keyed> = rows
        .iter()
        .filter(|k| troubled.contains(&k.row.state))
        .collect();
    messages.sort_by_key(|k| (k.kind, k.reminder, k.row.campaign.clone()));
    out.extend(messages.into_iter().map(|k| Attention::Message {
        campaign: k.row.campaign.clone(),
        reminder: k.reminder,
        state: k.row.state,
        last_reply: k.row.last_reply.clone(),
    }));
    let all_reminded = s
        .campaigns
        .max_reminders
        .is_some_and(|max| j.reminders >= max);
    let evidence = s.sign_ins.newest_import.is_some();
    if evidence
        && all_reminded
        && j.has_moved()
        && j.notified_at.is_some()
        && j.signed_in_at.is_none()
    {
        out.push(Attention::NotSignedIn {
            reminders: j.reminders,
        });
    }
    out
}

/// A ledger time (RFC 3339); `None` when absent or not a time.
fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?).ok().map(|t| t.to_utc())
}

/// `2026-12-05 14:03 UTC`.
pub fn short_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests;
