//! Campaigns: the messages of one migration's conversation with its people. A campaign is
//! data, not code: a name (part of every Message-ID and ledger key), a kind that picks the
//! audience rule and the templates, and optionally its own sender, recipient rule, transport
//! and pacing. The engine, ledger, pacing and gate stay one of each.
//!
//! - `pre-move`: a warning before the move, to people whose move has not happened yet, no
//!   earlier than `days_before` their planned start. Not gated on the trust removal (the trust
//!   must still exist then).
//! - `post-move`: the notice after the move (what a config without `[[campaign]]` sends).
//! - `reminder`: to people who got the post-move notice at least `after_days` ago and have not
//!   signed in to the target tenant since their move; at most `max_reminders`, `every_days`
//!   apart. Reminder n of a person is its own ledger row (`<upn>#<n>`), so each is sent once.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::{Pacing, RecipientMode, Transport};

/// The campaign a config without `[[campaign]]` sends (and `--campaign`'s old default).
pub const DEFAULT_NAME: &str = "post-migration";

/// What a campaign says, and so whom it goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    PreMove,
    #[default]
    PostMove,
    Reminder,
}

impl Kind {
    /// As written in the config: `pre-move`, `post-move`, `reminder`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PreMove => "pre-move",
            Kind::PostMove => "post-move",
            Kind::Reminder => "reminder",
        }
    }

    /// Whether a send of this kind waits for the trust removal on both tenants.
    pub fn gated(self) -> bool {
        self != Kind::PreMove
    }

    /// The folder of a templates folder that holds this kind's locales (`<templates>/pre-move/en/`);
    /// `None` for `post-move`, whose locales sit at the top (`<templates>/en/`), as before
    /// campaigns existed.
    pub fn templates_folder(self) -> Option<&'static str> {
        match self {
            Kind::PostMove => None,
            kind => Some(kind.as_str()),
        }
    }

    pub const ALL: [Kind; 3] = [Kind::PreMove, Kind::PostMove, Kind::Reminder];
}

/// One `[[campaign]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignConfig {
    pub name: String,
    pub kind: Kind,
    /// A templates folder of the same layout as `[message].templates` (default: that one).
    pub templates: Option<PathBuf>,
    /// Default: `source-upn` for `pre-move` (people still read mail in the source tenant before
    /// their move), `[message].recipient` for the others.
    pub recipient: Option<RecipientMode>,
    /// Default: `[message].from` and `[message].reply_to`.
    pub from: Option<String>,
    pub reply_to: Option<String>,
    /// The whole transport of this campaign (default: `[transport]`).
    pub transport: Option<Transport>,
    /// The whole pacing of this campaign (default: `[pacing]`).
    pub pacing: Option<Pacing>,
    // pre-move
    pub days_before: Option<u32>,
    pub scheduled_only: Option<bool>,
    // reminder
    pub follows: Option<String>,
    pub after_days: Option<u32>,
    pub every_days: Option<u32>,
    pub max_reminders: Option<u32>,
    pub max_evidence_age_hours: Option<u32>,
}

/// The campaign a command runs, with its audience rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub name: String,
    pub rule: Rule,
}

impl Default for Campaign {
    fn default() -> Self {
        Campaign {
            name: DEFAULT_NAME.into(),
            rule: Rule::PostMove,
        }
    }
}

impl Campaign {
    pub fn kind(&self) -> Kind {
        match self.rule {
            Rule::PreMove(_) => Kind::PreMove,
            Rule::PostMove => Kind::PostMove,
            Rule::Reminder(_) => Kind::Reminder,
        }
    }
}

/// Whom a campaign goes to, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    PreMove(PreMoveRule),
    PostMove,
    Reminder(ReminderRule),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreMoveRule {
    /// Sent no earlier than this many days before the planned start.
    pub days_before: u32,
    /// Only people with a planned start in the schedule (else also those without one).
    pub scheduled_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRule {
    /// The post-move campaign whose notice this reminds of.
    pub follows: String,
    pub after_days: u32,
    pub every_days: u32,
    pub max_reminders: u32,
    /// Reminders are refused when the newest sign-in evidence is older than this: people who
    /// signed in since would be reminded.
    pub max_evidence_age_hours: u32,
}

/// Defaults of the kind-specific keys.
pub const DAYS_BEFORE: u32 = 3;
pub const AFTER_DAYS: u32 = 3;
pub const EVERY_DAYS: u32 = 4;
pub const MAX_REMINDERS: u32 = 2;
pub const MAX_EVIDENCE_AGE_HOURS: u32 = 24;

/// The ledger key of a person's message: the lower-case source UPN, with `#n` for reminder n.
pub fn user_key(source_upn: &str, reminder: Option<u32>) -> String {
    match reminder {
        None => source_upn.to_lowercase(),
        Some(n) => format!("{}#{n}", source_upn.to_lowercase()),
    }
}

/// The person and reminder number of a ledger key (`a@x.com#2` is `("a@x.com", Some(2))`).
pub fn split_key(key: &str) -> (&str, Option<u32>) {
    match key.rsplit_once('#') {
        Some((upn, n)) => match n.parse() {
            Ok(n) => (upn, Some(n)),
            Err(_) => (key, None),
        },
        None => (key, None),
    }
}

/// Why the config's campaigns cannot be used, or the one asked for is not there.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CampaignError {
    #[error("name the campaign with --campaign (the config has no single post-move campaign to default to); its campaigns are {}", names.join(", "))]
    Unnamed { names: Vec<String> },
    #[error("--campaign `{name}` is not in the config; its campaigns are {}", names.join(", "))]
    Unknown { name: String, names: Vec<String> },
}

/// The problems of the `[[campaign]]` tables, one line each.
pub fn check(campaigns: &[CampaignConfig]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, c) in campaigns.iter().enumerate() {
        let at = format!("[[campaign]] {} (`{}`)", i + 1, c.name);
        if let Err(why) = check_name(&c.name) {
            problems.push(format!("{at}: name {why}"));
        }
        let earlier = campaigns[..i]
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&c.name));
        if earlier {
            problems.push(format!("{at}: the name is used by an earlier campaign; every campaign needs its own (it keys the ledger)"));
        }
        for key in misplaced_keys(c) {
            problems.push(format!(
                "{at}: `{key}` is not a key of a {} campaign",
                c.kind.as_str()
            ));
        }
        if c.kind == Kind::Reminder {
            problems.extend(check_reminder(c, campaigns).map(|why| format!("{at}: {why}")));
        }
    }
    problems
}

/// A name that can be part of a Message-ID and a ledger key, and typed on a command line.
fn check_name(name: &str) -> Result<(), &'static str> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 {
        Err("must be 1 to 64 characters")
    } else if !name.chars().all(ok) {
        Err("may only have letters, digits, `-`, `_` and `.`")
    } else {
        Ok(())
    }
}

fn misplaced_keys(c: &CampaignConfig) -> Vec<&'static str> {
    let pre = [
        ("days_before", c.days_before.is_some()),
        ("scheduled_only", c.scheduled_only.is_some()),
    ];
    let reminder = [
        ("follows", c.follows.is_some()),
        ("after_days", c.after_days.is_some()),
        ("every_days", c.every_days.is_some()),
        ("max_reminders", c.max_reminders.is_some()),
        ("max_evidence_age_hours", c.max_evidence_age_hours.is_some()),
    ];
    let mut out = Vec::new();
    if c.kind != Kind::PreMove {
        out.extend(pre.iter().filter(|(_, set)| *set).map(|(k, _)| *k));
    }
    if c.kind != Kind::Reminder {
        out.extend(reminder.iter().filter(|(_, set)| *set).map(|(k, _)| *k));
    }
    out
}

fn check_reminder(c: &CampaignConfig, all: &[CampaignConfig]) -> Option<String> {
    if c.every_days == Some(0) {
        return Some("every_days must be at least 1".into());
    }
    if c.max_reminders == Some(0) {
        return Some("max_reminders must be at least 1".into());
    }
    if c.max_evidence_age_hours == Some(0) {
        return Some("max_evidence_age_hours must be at least 1".into());
    }
    follows(c, all).err()
}

/// The post-move campaign a reminder follows: `follows`, else the only post-move campaign.
fn follows(c: &CampaignConfig, all: &[CampaignConfig]) -> Result<String, String> {
    let post: Vec<&str> = all
        .iter()
        .filter(|o| o.kind == Kind::PostMove)
        .map(|o| o.name.as_str())
        .collect();
    match (&c.follows, post.as_slice()) {
        (Some(name), _) if post.contains(&name.as_str()) => Ok(name.clone()),
        (Some(name), _) => Err(format!(
            "follows `{name}`, which is not a post-move campaign of this config (post-move campaigns: {})",
            if post.is_empty() { "none".into() } else { post.join(", ") }
        )),
        (None, [one]) => Ok(one.to_string()),
        (None, []) => Err("a reminder follows a post-move campaign, and the config has none; add one (kind = \"post-move\")".into()),
        (None, _) => Err(format!(
            "there are several post-move campaigns ({}); say which one this reminds of with follows = \"NAME\"",
            post.join(", ")
        )),
    }
}

/// The campaign named `name` (or, without `[[campaign]]` tables, the post-move campaign of that
/// name, `post-migration` by default). Without a name, the config's only post-move campaign:
/// the notice after each batch is what a command without `--campaign` always sent; another kind
/// must be named. The tables must have passed [`check`].
pub fn select(campaigns: &[CampaignConfig], name: Option<&str>) -> Result<Campaign, CampaignError> {
    let names = || campaigns.iter().map(|c| c.name.clone()).collect();
    if campaigns.is_empty() {
        return Ok(Campaign {
            name: name.unwrap_or(DEFAULT_NAME).to_string(),
            rule: Rule::PostMove,
        });
    }
    let mut post = campaigns.iter().filter(|c| c.kind == Kind::PostMove);
    let only_post = match (post.next(), post.next()) {
        (Some(one), None) => Some(one.name.as_str()),
        _ => None,
    };
    let Some(name) = name.or(only_post) else {
        return Err(CampaignError::Unnamed { names: names() });
    };
    let Some(c) = campaigns.iter().find(|c| c.name.eq_ignore_ascii_case(name)) else {
        return Err(CampaignError::Unknown {
            name: name.to_string(),
            names: names(),
        });
    };
    Ok(Campaign {
        name: c.name.clone(),
        rule: rule(c, campaigns),
    })
}

fn rule(c: &CampaignConfig, all: &[CampaignConfig]) -> Rule {
    match c.kind {
        Kind::PreMove => Rule::PreMove(PreMoveRule {
            days_before: c.days_before.unwrap_or(DAYS_BEFORE),
            scheduled_only: c.scheduled_only.unwrap_or(true),
        }),
        Kind::PostMove => Rule::PostMove,
        Kind::Reminder => Rule::Reminder(ReminderRule {
            follows: follows(c, all).unwrap_or_default(),
            after_days: c.after_days.unwrap_or(AFTER_DAYS),
            every_days: c.every_days.unwrap_or(EVERY_DAYS),
            max_reminders: c.max_reminders.unwrap_or(MAX_REMINDERS),
            max_evidence_age_hours: c.max_evidence_age_hours.unwrap_or(MAX_EVIDENCE_AGE_HOURS),
        }),
    }
}

#[cfg(test)]
mod tests;
