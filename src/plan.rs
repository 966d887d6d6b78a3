//! Joins the inputs into the list of people to notify, each with what their notice needs,
//! and the list of people held back with the reason. No IO beyond what the inputs gave it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde::Serialize;

use crate::config::{Config, RecipientMode};
use crate::diag::Diagnostics;
use crate::inputs::directory::{self, Directory, DirectoryEntry};
use crate::inputs::mapping::{self, MappingRow, UserMapping};
use crate::inputs::move_state::{MoveEntry, MoveStates};
use crate::inputs::schedule::Schedule;

mod audience;
mod hold;
pub use audience::{Facts, ReminderFacts};
pub use hold::Hold;

/// One person to notify and everything their notice is built from.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    pub user: UserMapping,
    pub directory: Option<Arc<DirectoryEntry>>,
    /// A guest in the source tenant (gets guest wording).
    pub guest: bool,
    /// Their new OneDrive: the directory's OneDriveUrl, or computed from the target host URL.
    pub onedrive_url: String,
    /// The addresses the notice goes to, per `[message].recipient`.
    pub to: Vec<String>,
    /// The user's newest move-state entry (state `Success`, with its batch), when exports
    /// were given.
    pub move_state: Option<MoveEntry>,
    /// `pre-move`: the planned start of their move, from the schedule.
    pub planned_start: Option<chrono::NaiveDate>,
    /// `reminder`: which reminder this is (1 for the first).
    pub reminder: Option<u32>,
}

impl Recipient {
    /// The name to greet them with: DisplayName, else GivenName, else none.
    pub fn display_name(&self) -> Option<&str> {
        let d = self.directory.as_ref()?;
        d.display_name.as_deref().or(d.given_name.as_deref())
    }

    /// The ledger's key of this person's message: see [`crate::campaign::user_key`].
    pub fn ledger_key(&self) -> String {
        crate::campaign::user_key(&self.user.source_upn, self.reminder)
    }

    /// The directory's PreferredLanguage, if any.
    pub fn preferred_language(&self) -> Option<&str> {
        self.directory.as_ref()?.preferred_language.as_deref()
    }
}

/// A mapped user who gets no notice in this run, and why.
#[derive(Debug, Clone, Serialize)]
pub struct HeldBack {
    pub user: UserMapping,
    /// For the admin: the state, batch, place in the export, and what to do.
    pub reason: String,
    pub hold: Hold,
    /// The user's newest move-state entry, when an export has one.
    pub move_state: Option<MoveEntry>,
}

/// Who gets what, and the problems found on the way.
#[derive(Debug, Default)]
pub struct Plan {
    pub recipients: Vec<Recipient>,
    /// Kept, like `recipients`, only with `keep_recipients`; `held_back_counts` always.
    pub held_back: Vec<HeldBack>,
    pub users: u64,
    pub groups: u64,
    /// Valid user rows that pass the move-state filter (all of them without exports).
    pub ready: u64,
    /// Held-back users per reason, `Failed` first.
    pub held_back_counts: BTreeMap<Hold, u64>,
    /// The merged move-state exports, when any were given.
    pub move_states: Option<MoveStates>,
    pub diagnostics: Diagnostics,
}

/// What to read.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub mapping: &'a Path,
    pub directory: Option<&'a Path>,
    /// Move-state exports, one per batch. Empty: every mapped user is a candidate.
    pub move_states: &'a [PathBuf],
    /// The batch label for their entries (default: each export's file name).
    pub batch: Option<&'a str>,
    /// Migration schedules (planned starts), for pre-move campaigns.
    pub schedules: &'a [PathBuf],
    /// The clock and the ledger's facts the campaign's audience rule goes by (default: now,
    /// and no notice or reminder sent).
    pub facts: Option<&'a Facts>,
}

impl<'a> Sources<'a> {
    /// Only a mapping file: no directory, no move-state exports.
    pub fn new(mapping: &'a Path) -> Self {
        Sources {
            mapping,
            directory: None,
            move_states: &[],
            batch: None,
            schedules: &[],
            facts: None,
        }
    }
}

/// Reads the mapping (and directory and move-state exports) and builds the plan. With
/// `keep_recipients` false, rows are checked and counted but not kept (`validate` on a million
/// rows). With move-state exports, only users whose newest entry is `Success` become
/// recipients; the others are held back with the reason.
pub fn load(
    config: Option<&Config>,
    sources: Sources<'_>,
    keep_recipients: bool,
) -> anyhow::Result<Plan> {
    let mut plan = Plan::default();
    crate::inputs::path::check_file("the mapping file", sources.mapping)?;
    if let Some(path) = sources.directory {
        crate::inputs::path::check_file("the directory file", path)?;
    }
    for path in sources.move_states {
        crate::inputs::path::check_file("the move-state export", path)?;
    }
    for path in sources.schedules {
        crate::inputs::path::check_file("the migration schedule", path)?;
    }
    let directory = match sources.directory {
        Some(path) => {
            let (dir, diags) = directory::read(path)
                .with_context(|| format!("cannot read the directory file {}", path.display()))?;
            plan.diagnostics.extend(diags);
            Some(dir)
        }
        None => None,
    };
    let states = if sources.move_states.is_empty() {
        None
    } else {
        let (states, diags) = MoveStates::load(sources.move_states, sources.batch)?;
        plan.diagnostics.extend(diags);
        Some(states)
    };
    let schedule = if sources.schedules.is_empty() {
        None
    } else {
        let (schedule, diags) = Schedule::load(sources.schedules)?;
        plan.diagnostics.extend(diags);
        Some(schedule)
    };
    let mapping_file: Arc<str> = sources.mapping.display().to_string().into();
    let allowed = config.map(crate::render::allowed_hosts);
    let now = Facts::at(chrono::Utc::now());
    let facts = sources.facts.unwrap_or(&now);
    let mut join = Join::new(mapping_file, directory.as_ref(), states.as_ref(), allowed);
    join.schedule = schedule.as_ref().map(|s| (s, vec![false; s.len()]));
    let options = mapping::Options {
        expected_tenant: config.map(|c| c.source.tenant_id.clone()),
    };
    let summary = mapping::read(sources.mapping, &options, |row| {
        let MappingRow::User(user) = row else { return };
        join.user(config, facts, user, keep_recipients, &mut plan);
    })
    .with_context(|| format!("cannot read the mapping file {}", sources.mapping.display()))?;
    plan.users = summary.users;
    plan.groups = summary.groups;
    plan.diagnostics.extend(summary.diagnostics);
    let unmatched = join.finish();
    plan.diagnostics.extend(unmatched);
    plan.move_states = states;
    Ok(plan)
}

/// Joins each mapped user with their directory row and move-state entry, remembering which
/// rows and entries were used so that the unused ones can be reported.
struct Join<'a> {
    mapping_file: Arc<str>,
    directory: Option<&'a Directory>,
    states: Option<&'a MoveStates>,
    directory_used: Vec<bool>,
    states_used: Vec<bool>,
    /// The schedule, and which of its entries were used.
    schedule: Option<(&'a Schedule, Vec<bool>)>,
    /// The campaign of a join without a config (`validate`): the post-move notice.
    default_campaign: crate::campaign::Campaign,
    diags: Diagnostics,
    /// The link check of `send`, when there is a config: a directory OneDriveUrl it refuses
    /// is an input error at the directory's line, in `validate` as in `send`.
    allowed: Option<crate::render::links::AllowedHosts>,
}

impl<'a> Join<'a> {
    fn new(
        mapping_file: Arc<str>,
        directory: Option<&'a Directory>,
        states: Option<&'a MoveStates>,
        allowed: Option<crate::render::links::AllowedHosts>,
    ) -> Self {
        Join {
            mapping_file,
            directory,
            states,
            directory_used: vec![false; directory.map_or(0, |d| d.entries.len())],
            states_used: vec![false; states.map_or(0, MoveStates::len)],
            schedule: None,
            default_campaign: crate::campaign::Campaign::default(),
            diags: Diagnostics::default(),
            allowed,
        }
    }

    fn user(
        &mut self,
        config: Option<&Config>,
        facts: &Facts,
        user: UserMapping,
        keep: bool,
        plan: &mut Plan,
    ) {
        let entry = self.directory_entry(&user);
        let moved = self.move_entry(&user);
        let person = audience::Person {
            source_upn: &user.source_upn,
            target_upn: &user.target_upn,
            moved,
            exports_given: self.states.is_some(),
            planned_start: self.planned_start(&user),
        };
        let campaign = config.map_or(&self.default_campaign, |c| &c.active);
        let planned_start = person.planned_start;
        let verdict = audience::decide(campaign, &person, facts).and_then(|n| {
            let unreachable = config.is_some_and(|c| {
                user.is_guest()
                    && c.message.recipient != RecipientMode::TargetEmail
                    && guest_address(&user, entry.as_deref()).is_none()
            });
            match unreachable {
                false => Ok(n),
                true => Err((
                    Hold::GuestWithoutAddress,
                    hold::reason(&Hold::GuestWithoutAddress, moved),
                )),
            }
        });
        match verdict {
            Ok(reminder) => {
                plan.ready += 1;
                if let (true, Some(config)) = (keep, config) {
                    let mut r = recipient(config, user, entry);
                    r.move_state = moved.cloned();
                    r.planned_start = planned_start;
                    r.reminder = reminder;
                    plan.recipients.push(r);
                }
            }
            Err((hold, reason)) => {
                *plan.held_back_counts.entry(hold.clone()).or_default() += 1;
                if keep {
                    plan.held_back.push(HeldBack {
                        reason,
                        move_state: moved.cloned(),
                        user,
                        hold,
                    });
                }
            }
        }
    }

    fn directory_entry(&mut self, user: &UserMapping) -> Option<Arc<DirectoryEntry>> {
        let d = self.directory.filter(|d| d.usable)?;
        let found = d.lookup(&user.source_upn, &user.target_upn);
        // A row for the other UPN of the same person is theirs too, not an unknown user.
        for i in d.rows_of(&user.source_upn, &user.target_upn) {
            self.directory_used[i] = true;
        }
        if found.is_none() {
            self.diags.warning(&self.mapping_file, Some(user.line), format!(
                "no row in the directory {} for source {} or target {}; the notice greets without a name and uses the default locale",
                d.file, user.source_upn, user.target_upn
            ));
        }
        found.map(|i| {
            self.check_onedrive_url(d, &d.entries[i], user);
            Arc::clone(&d.entries[i])
        })
    }

    fn check_onedrive_url(&mut self, d: &Directory, e: &DirectoryEntry, user: &UserMapping) {
        let (Some(allowed), Some(url)) = (&self.allowed, &e.onedrive_url) else {
            return;
        };
        if let Err(why) = allowed.check(url) {
            self.diags.push(crate::diag::Diagnostic {
                severity: crate::diag::Severity::Error,
                file: d.file.clone(),
                line: Some(e.line),
                column: d.onedrive_column.clone(),
                message: format!("{} (the new OneDrive of {}): {why}; `send` refuses a notice with this link: write the address on the tenants' host URLs or on [message].allowed_link_domains", crate::diag::quote(url), user.source_upn),
            });
        }
    }

    fn planned_start(&mut self, user: &UserMapping) -> Option<chrono::NaiveDate> {
        let (schedule, used) = self.schedule.as_mut()?;
        let i = schedule.index_of(&user.source_upn)?;
        used[i] = true;
        Some(schedule.entries()[i].planned_start)
    }

    fn move_entry(&mut self, user: &UserMapping) -> Option<&'a MoveEntry> {
        let states = self.states?;
        let i = states.index_of(&user.source_upn)?;
        self.states_used[i] = true;
        let e = &states.entries()[i];
        if let Some(target) = e
            .target_upn
            .as_deref()
            .filter(|t| !t.eq_ignore_ascii_case(&user.target_upn))
        {
            self.diags.warning(&e.file, Some(e.line), format!(
                "{}the export moves {} to {target}, but the mapping file {} maps it to {} (line {}); check which one is right before notifying",
                item_prefix(e), user.source_upn, self.mapping_file, user.target_upn, user.line
            ));
        }
        Some(e)
    }

    /// The warnings of the join, with the directory rows and export entries nobody used.
    fn finish(mut self) -> Diagnostics {
        if let Some(dir) = self.directory {
            for (entry, _) in dir
                .entries
                .iter()
                .zip(&self.directory_used)
                .filter(|(_, m)| !**m)
            {
                self.diags.warning(&dir.file, Some(entry.line), format!(
                    "{} is not in the mapping file {} as a source or target UPN; the row is not used",
                    entry.upn, self.mapping_file
                ));
            }
        }
        if let Some((schedule, used)) = &self.schedule {
            for (e, _) in schedule.entries().iter().zip(used).filter(|(_, u)| !**u) {
                self.diags.warning(&e.file, Some(e.line), format!(
                    "{} (planned start {}) is not a source UPN in the mapping file {} (or its row there has errors); the entry is not used",
                    e.source_upn, e.planned_start, self.mapping_file
                ));
            }
        }
        if let Some(states) = self.states {
            for (e, _) in states
                .entries()
                .iter()
                .zip(&self.states_used)
                .filter(|(_, m)| !**m)
            {
                self.diags.warning(&e.file, Some(e.line), format!(
                    "{}{} ({}) is not a source UPN in the mapping file {} (or its row there has errors); the entry is not used",
                    item_prefix(e), e.source_upn, e.state_label(), self.mapping_file
                ));
            }
        }
        self.diags
    }
}

/// `item [3]: ` for an entry of a JSON export, nothing for CSV.
fn item_prefix(e: &MoveEntry) -> String {
    e.index.map(|i| format!("item [{i}]: ")).unwrap_or_default()
}

/// Builds one recipient from a mapping row and its directory entry.
pub fn recipient(
    config: &Config,
    user: UserMapping,
    entry: Option<Arc<DirectoryEntry>>,
) -> Recipient {
    let onedrive_url = entry
        .as_ref()
        .and_then(|e| e.onedrive_url.clone())
        .unwrap_or_else(|| onedrive_url(&config.target.host_urls[0], &user.target_upn));
    use RecipientMode::{Both, SourceUpn, TargetEmail};
    let mode = config.message.recipient;
    let mut to = Vec::with_capacity(2);
    if matches!(mode, TargetEmail | Both) {
        to.push(user.target_email.clone());
    }
    if matches!(mode, SourceUpn | Both) {
        // A guest's source UPN is no mailbox: their own address stands for it.
        let source = if user.is_guest() {
            guest_address(&user, entry.as_deref())
        } else {
            Some(user.source_upn.clone())
        };
        if let Some(source) = source.filter(|s| !to.iter().any(|t| t.eq_ignore_ascii_case(s))) {
            to.push(source);
        }
    }
    Recipient {
        guest: user.is_guest(),
        user,
        directory: entry,
        onedrive_url,
        to,
        move_state: None,
        planned_start: None,
        reminder: None,
    }
}

/// Where a guest of the source tenant reads mail: the directory's Mail, else the home address
/// spelled in their `#EXT#` UPN (`jane_fabrikam.com#EXT#@contoso.onmicrosoft.com` is
/// `jane@fabrikam.com`, the last `_` standing for the `@`); `None` when neither gives one.
pub fn guest_address(user: &UserMapping, entry: Option<&DirectoryEntry>) -> Option<String> {
    let mail = entry
        .and_then(|e| e.mail.as_deref())
        .map(str::trim)
        .filter(|m| !m.is_empty());
    mail.map(str::to_string)
        .or_else(|| home_address(&user.source_upn))
}

/// The home address in a `#EXT#` UPN, or `None` for any other UPN.
pub fn home_address(upn: &str) -> Option<String> {
    let ext = upn.to_ascii_uppercase().find("#EXT#@")?;
    let local = &upn[..ext];
    let i = local.rfind('_')?;
    (i > 0 && i + 1 < local.len()).then(|| format!("{}@{}", &local[..i], &local[i + 1..]))
}

/// The new OneDrive address: `https://<tenant>-my.sharepoint.com/personal/<UPN with . , space
/// and @ as _>`. SharePoint may add a number on a clash; the directory's OneDriveUrl overrides.
///
/// ```
/// assert_eq!(
///     t2t_notify::plan::onedrive_url("https://contoso-my.sharepoint.com/", "rsimone@contoso.onmicrosoft.com"),
///     "https://contoso-my.sharepoint.com/personal/rsimone_contoso_onmicrosoft_com"
/// );
/// ```
pub fn onedrive_url(host_url: &str, target_upn: &str) -> String {
    let host = host_url.trim().trim_end_matches('/');
    let site: String = target_upn
        .chars()
        .map(|c| {
            if matches!(c, '.' | ',' | ' ' | '@') {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    format!("{host}/personal/{site}")
}

#[cfg(test)]
mod tests;
