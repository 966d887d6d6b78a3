//! What `preview` and `send` need to run one campaign: the config as the campaign sees it
//! (`--campaign`), and the facts its audience rule goes by (the clock; for a reminder, the
//! notices and reminders the ledger recorded and the sign-ins it learnt, which must be fresh).

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use crate::campaign::{split_key, Rule};
use crate::config::Config;
use crate::exit::InvalidInput;
use crate::ledger::deliveries::{DeliveryRow, DeliveryState};
use crate::ledger::Ledger;
use crate::plan::{Facts, ReminderFacts};

/// The config at `path` as campaign `name` sees it.
pub fn config(path: &Path, name: Option<&str>) -> anyhow::Result<Config> {
    let config = Config::load(path)?;
    Ok(config.for_campaign(name).map_err(InvalidInput::because)?)
}

/// Refuses a pre-move campaign that warns only people with a planned start when no schedule
/// was given: it would warn nobody, without saying why.
pub fn check_schedule(
    config: &Config,
    schedules: &[std::path::PathBuf],
) -> Result<(), InvalidInput> {
    match &config.active.rule {
        Rule::PreMove(rule) if rule.scheduled_only && schedules.is_empty() => Err(InvalidInput(format!(
            "campaign {} warns people before their planned start, and no schedule was given: pass --schedule FILE (source UPN, planned start) or name it in the config as [inputs] schedule = [\"schedule.csv\"]; or set scheduled_only = false in the campaign to warn everyone not moved yet",
            config.active.name
        ))),
        _ => Ok(()),
    }
}

/// The facts of `config`'s campaign at `now`; a reminder reads them from `ledger` (none yet:
/// nobody was notified). A reminder whose sign-in evidence is missing or older than
/// `max_evidence_age_hours` gets the reason as `Err` with the facts, so that `send` can refuse
/// and `preview` warn.
pub fn facts(
    config: &Config,
    ledger: Option<&Ledger>,
    now: DateTime<Utc>,
) -> anyhow::Result<(Facts, Option<String>)> {
    let Rule::Reminder(rule) = &config.active.rule else {
        return Ok((Facts::at(now), None));
    };
    let Some(ledger) = ledger else {
        let facts = Facts {
            now,
            reminders: Some(ReminderFacts::default()),
        };
        return Ok((facts, None));
    };
    let notices = sent_at(&ledger.deliveries(Some(&rule.follows))?)
        .map(|(key, _, at)| (key.to_string(), at))
        .collect();
    let mut reminders: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
    let mut numbered: Vec<(String, u32, DateTime<Utc>)> =
        sent_at(&ledger.deliveries(Some(&config.active.name))?)
            .filter_map(|(upn, n, at)| Some((upn.to_string(), n?, at)))
            .collect();
    numbered.sort();
    for (upn, _, at) in numbered {
        reminders.entry(upn).or_default().push(at);
    }
    let sign_ins = ledger.sign_ins()?;
    let stale = stale_evidence(
        &config.active.name,
        rule.max_evidence_age_hours,
        &sign_ins,
        now,
    );
    let known = ReminderFacts {
        notices,
        reminders,
        sign_ins,
    };
    let facts = Facts {
        now,
        reminders: Some(known),
    };
    Ok((facts, stale))
}

/// `(person, reminder number, sent at)` of every `sent` row.
fn sent_at(rows: &[DeliveryRow]) -> impl Iterator<Item = (&str, Option<u32>, DateTime<Utc>)> {
    rows.iter()
        .filter(|r| r.state == DeliveryState::Sent)
        .filter_map(|r| {
            let at = DateTime::parse_from_rfc3339(r.sent_at.as_deref()?).ok()?;
            let (upn, n) = split_key(&r.user_key);
            Some((upn, n, at.to_utc()))
        })
}

/// Why the sign-in evidence cannot decide who is reminded: none, or too old.
fn stale_evidence(
    campaign: &str,
    max_hours: u32,
    known: &crate::ledger::sign_ins::SignIns,
    now: DateTime<Utc>,
) -> Option<String> {
    let fix = "record a fresh export with `t2t-notify sign-ins FILE` (README: Sign-in evidence), or fetch it with `t2t-notify sign-ins --graph`";
    let Some(import) = &known.newest_import else {
        return Some(format!("campaign {campaign} reminds people who have not signed in since their move, and the ledger has no sign-in evidence yet: {fix}"));
    };
    let age = now - import.learnt_at;
    (age > Duration::hours(i64::from(max_hours))).then(|| {
        format!(
            "campaign {campaign}: the newest sign-in evidence ({}, recorded {}) is {} hours old, older than max_evidence_age_hours = {max_hours}; people who signed in since would be reminded: {fix}",
            import.source,
            import.learnt_at.format("%Y-%m-%d %H:%M UTC"),
            age.num_hours()
        )
    })
}
