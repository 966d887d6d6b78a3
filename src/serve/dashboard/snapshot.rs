//! What `GET /api/status` answers: the service's [`Status`], each campaign's counts from the
//! ledger, each sending mailbox's day budget, messages per hour, the trust gate per host pair,
//! and the journey's funnel and the people who need attention (computed less often: it reads
//! the whole plan). [`snapshot`] reads the ledger; [`shape`] and the rest are pure.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cmd::report::journey::{Funnel, Journey, JourneyReport};
use crate::config::Config;
use crate::exit::Outcome;
use crate::ledger::deliveries::DeliveryState;
use crate::ledger::{Ledger, LedgerError};
use crate::serve::control::Paused;
use crate::serve::{CampaignStatus, State, Status};

/// How many people who need attention the status lists (`attention_total` counts them all).
pub const ATTENTION_SHOWN: usize = 100;
/// How many hours the chart covers.
pub const HOURS_SHOWN: i64 = 48;

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub now: DateTime<Utc>,
    pub started: DateTime<Utc>,
    pub ledger: String,
    pub paused: Option<Paused>,
    pub campaigns: Vec<CampaignView>,
    pub budgets: Vec<Budget>,
    pub hours: Vec<HourSent>,
    pub gate: Option<GateView>,
    pub funnel: Option<Funnel>,
    pub attention: Vec<PersonView>,
    pub attention_total: usize,
    pub journey_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignView {
    pub name: String,
    pub kind: &'static str,
    pub state: StateView,
    pub last_outcome: Option<&'static str>,
    pub last_pass: Option<DateTime<Utc>>,
    pub counts: Counts,
    pub audience: Option<u64>,
}

/// A campaign's state as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StateView {
    Idle,
    Sending,
    Waiting { until: DateTime<Utc>, why: String },
    BackingOff { until: DateTime<Utc>, failures: u32 },
    Held { why: String },
    Paused { why: String },
}

/// A campaign's ledger rows per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub sent: u64,
    pub failed: u64,
    pub uncertain: u64,
    pub deferred: u64,
    pub in_flight: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub mailbox: String,
    pub per_day: u32,
    /// Recipients in the past 24 hours.
    pub used: u64,
    /// When there is room again (`None`: there is room now).
    pub frees_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HourSent {
    pub start: DateTime<Utc>,
    pub sent: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateView {
    pub open: bool,
    pub pairs: Vec<PairView>,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairView {
    pub side: crate::config::Side,
    pub host_url: String,
    pub partner_url: String,
    /// When the evidence of the removal was checked (`None`: no evidence).
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// A person's journey with its reasons in words.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    #[serde(flatten)]
    pub journey: Journey,
    pub reasons: Vec<String>,
}

impl PersonView {
    pub fn of(j: &Journey) -> PersonView {
        PersonView {
            journey: j.clone(),
            reasons: j.attention.iter().map(|a| a.describe()).collect(),
        }
    }
}

/// The status now, from `status`, the ledger of `config` (`None` when there is none yet) and
/// the last journey computed.
pub fn snapshot(
    config: &Config,
    ledger: Option<&Ledger>,
    status: &Status,
    paused: Option<Paused>,
    journey: Option<(DateTime<Utc>, &JourneyReport)>,
    now: DateTime<Utc>,
) -> Result<Snapshot, LedgerError> {
    let path = &config.ledger.path;
    let mut campaigns = Vec::new();
    let mut mailboxes: BTreeMap<String, u32> = BTreeMap::new();
    // Whether any campaign waits for the trust gate: only then does the page show it.
    let mut gated = false;
    for c in &status.campaigns {
        let active = config.for_campaign(c.name.as_deref()).ok();
        let name = c.name.clone().unwrap_or_else(|| config.active.name.clone());
        let counts = match ledger {
            Some(l) => counts(&l.state_counts(&name)?),
            None => Counts::default(),
        };
        if let Some(a) = &active {
            mailboxes.insert(a.sending_mailbox(), a.pacing.per_day);
        }
        let kind = active
            .as_ref()
            .map_or(config.active.kind(), |a| a.active.kind());
        gated |= kind.gated();
        campaigns.push(view(c, name, kind.as_str(), counts));
    }
    let budgets = match ledger {
        Some(l) => budgets(l, &mailboxes, now)?,
        None => Vec::new(),
    };
    let hours = match ledger {
        Some(l) => {
            let since = now - chrono::Duration::hours(HOURS_SHOWN);
            let per_hour: Vec<HourSent> = l
                .sent_per_hour(since)?
                .into_iter()
                .map(|(start, sent)| HourSent { start, sent })
                .collect();
            hours(&per_hour, now)
        }
        None => Vec::new(),
    };
    let gate = match ledger {
        Some(l) if gated => Some(gate(config, l)?),
        _ => None,
    };
    let (funnel, attention, attention_total, journey_at) = match journey {
        Some((at, report)) => {
            let needing: Vec<&Journey> = report.needing_attention().collect();
            let shown = needing
                .iter()
                .take(ATTENTION_SHOWN)
                .map(|j| PersonView::of(j));
            (
                Some(report.funnel),
                shown.collect(),
                needing.len(),
                Some(at),
            )
        }
        None => (None, Vec::new(), 0, None),
    };
    Ok(Snapshot {
        now,
        started: status.started,
        ledger: path.display().to_string(),
        paused,
        campaigns,
        budgets,
        hours,
        gate,
        funnel,
        attention,
        attention_total,
        journey_at,
    })
}

fn view(c: &CampaignStatus, name: String, kind: &'static str, counts: Counts) -> CampaignView {
    CampaignView {
        name,
        kind,
        state: state_view(&c.state),
        last_outcome: c.last_outcome.map(outcome_name),
        last_pass: c.last_pass,
        counts,
        audience: c.audience,
    }
}

/// The page's words for a [`State`].
pub fn state_view(state: &State) -> StateView {
    match state {
        State::Idle => StateView::Idle,
        State::Sending => StateView::Sending,
        State::Waiting { until, why } => StateView::Waiting {
            until: *until,
            why: why.clone(),
        },
        State::BackingOff { until, failures } => StateView::BackingOff {
            until: *until,
            failures: *failures,
        },
        State::Held { why } => StateView::Held { why: why.clone() },
        State::Paused { by } => StateView::Paused {
            why: format!("paused by {by}"),
        },
    }
}

/// An outcome's name in the API.
pub fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
        Outcome::Invalid => "invalid",
        Outcome::GateClosed => "gate-closed",
        Outcome::SomeFailed => "some-failed",
        Outcome::Paused => "paused",
        Outcome::Interrupted => "interrupted",
    }
}

/// The ledger's counts per state as the page shows them.
pub fn counts(by_state: &HashMap<DeliveryState, u64>) -> Counts {
    let n = |s| by_state.get(&s).copied().unwrap_or(0);
    Counts {
        sent: n(DeliveryState::Sent),
        failed: n(DeliveryState::Failed),
        uncertain: n(DeliveryState::Uncertain),
        deferred: n(DeliveryState::Deferred),
        in_flight: n(DeliveryState::InFlight),
    }
}

fn budgets(
    ledger: &Ledger,
    mailboxes: &BTreeMap<String, u32>,
    now: DateTime<Utc>,
) -> Result<Vec<Budget>, LedgerError> {
    let since = now - crate::serve::budget::window();
    mailboxes
        .iter()
        .map(|(mailbox, per_day)| {
            let used = ledger.recipients_since(since, mailbox)?;
            // The log's rows only when the budget is spent: they say when it frees.
            let frees_at = if *per_day > 0 && used >= u64::from(*per_day) {
                let log = ledger.submissions_since(since, mailbox)?;
                crate::serve::budget::frees_at(&log, *per_day, now)
            } else {
                None
            };
            Ok(Budget {
                mailbox: mailbox.clone(),
                per_day: *per_day,
                used,
                frees_at,
            })
        })
        .collect()
}

/// The last [`HOURS_SHOWN`] hours up to `now`, oldest first, each with the messages sent in it
/// (`per_hour`: the hours that have any); empty when none has.
pub fn hours(per_hour: &[HourSent], now: DateTime<Utc>) -> Vec<HourSent> {
    if per_hour.iter().all(|h| h.sent == 0) {
        return Vec::new();
    }
    let hour_ms = 3_600_000;
    let last = now.timestamp_millis().div_euclid(hour_ms);
    let by_hour: HashMap<i64, u64> = per_hour
        .iter()
        .map(|h| (h.start.timestamp_millis().div_euclid(hour_ms), h.sent))
        .collect();
    (last - HOURS_SHOWN + 1..=last)
        .filter_map(|h| {
            let start = DateTime::from_timestamp_millis(h * hour_ms)?;
            let sent = by_hour.get(&h).copied().unwrap_or(0);
            Some(HourSent { start, sent })
        })
        .collect()
}

fn gate(config: &Config, ledger: &Ledger) -> Result<GateView, LedgerError> {
    let states = crate::gate::pair_states(config, ledger)?;
    let status = crate::gate::check(config, ledger)?;
    let pairs = states
        .iter()
        .map(|s| PairView {
            side: s.pair.side,
            host_url: s.pair.host_url.clone(),
            partner_url: s.pair.partner_url.clone(),
            confirmed_at: s.confirmation.as_ref().map(|c| c.checked_at),
        })
        .collect();
    Ok(GateView {
        open: status.is_open(),
        pairs,
        summary: status.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_chart_has_every_hour_of_the_last_two_days_once_anything_was_sent() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 21, 30, 0).unwrap();
        assert!(hours(&[], now).is_empty());
        let at = |h| Utc.with_ymd_and_hms(2026, 12, 6, h, 0, 0).unwrap();
        let shown = hours(
            &[
                HourSent {
                    start: at(20),
                    sent: 30,
                },
                HourSent {
                    start: at(21),
                    sent: 12,
                },
            ],
            now,
        );
        assert_eq!(shown.len(), 48);
        assert_eq!(shown[0].start, at(21) - chrono::Duration::hours(47));
        assert_eq!(
            shown[46],
            HourSent {
                start: at(20),
                sent: 30
            }
        );
        assert_eq!(
            shown[47],
            HourSent {
                start: at(21),
                sent: 12
            }
        );
        assert_eq!(shown.iter().map(|h| h.sent).sum::<u64>(), 42);
    }

    #[test]
    fn states_and_counts_read_as_the_page_expects() {
        let json = serde_json::to_value(state_view(&State::Waiting {
            until: Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap(),
            why: "day budget of it@fabrikam.com spent".into(),
        }))
        .unwrap();
        assert_eq!(json["kind"], "waiting");
        assert_eq!(json["until"], "2026-12-07T09:00:00Z");
        let json = serde_json::to_value(state_view(&State::BackingOff {
            until: Utc::now(),
            failures: 3,
        }))
        .unwrap();
        assert_eq!(json["kind"], "backing-off");
        let by_state = HashMap::from([(DeliveryState::Sent, 28), (DeliveryState::InFlight, 2)]);
        assert_eq!(
            counts(&by_state),
            Counts {
                sent: 28,
                in_flight: 2,
                ..Counts::default()
            }
        );
        assert_eq!(outcome_name(Outcome::SomeFailed), "some-failed");
    }
}
