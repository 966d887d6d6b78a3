//! Joins the inputs into the list of people to notify, each with what their notice needs,
//! and the list of people held back with the reason. No IO beyond what the inputs gave it.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde::Serialize;

use crate::config::{Config, RecipientMode};
use crate::diag::Diagnostics;
use crate::inputs::directory::{self, DirectoryEntry};
use crate::inputs::mapping::{self, Row, UserMapping};

/// One person to notify and everything their notice is built from.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    pub user: UserMapping,
    pub directory: Option<DirectoryEntry>,
    /// A guest in the source tenant (gets guest wording).
    pub guest: bool,
    /// Their new OneDrive: the directory's OneDriveUrl, or computed from the target host URL.
    pub onedrive_url: String,
    /// The addresses the notice goes to, per `[message].recipient`.
    pub to: Vec<String>,
}

impl Recipient {
    /// The name to greet them with: DisplayName, else GivenName, else none.
    pub fn display_name(&self) -> Option<&str> {
        let d = self.directory.as_ref()?;
        d.display_name.as_deref().or(d.given_name.as_deref())
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
    pub reason: String,
}

/// Who gets what, and the problems found on the way.
#[derive(Debug, Default)]
pub struct Plan {
    pub recipients: Vec<Recipient>,
    pub held_back: Vec<HeldBack>,
    pub users: u64,
    pub groups: u64,
    pub diagnostics: Diagnostics,
}

/// What to read.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub mapping: &'a Path,
    pub directory: Option<&'a Path>,
}

/// Reads the mapping (and directory) and builds the plan. With `keep_recipients` false, rows
/// are checked and counted but not kept (`validate` on a million rows).
pub fn load(
    config: Option<&Config>,
    sources: Sources<'_>,
    keep_recipients: bool,
) -> anyhow::Result<Plan> {
    let mut plan = Plan::default();
    let directory = match sources.directory {
        Some(path) => {
            let (dir, diags) = directory::read(path)
                .with_context(|| format!("cannot read the directory file {}", path.display()))?;
            plan.diagnostics.extend(diags);
            Some(dir)
        }
        None => None,
    };
    let mut matched = vec![false; directory.as_ref().map_or(0, |d| d.entries.len())];
    let mut unmatched_users = Diagnostics::default();
    let options = mapping::Options {
        expected_tenant: config.map(|c| c.source.tenant_id.clone()),
    };
    let mapping_file: Arc<str> = sources.mapping.display().to_string().into();
    let summary = mapping::read(sources.mapping, &options, |row| {
        let Row::User(user) = row else { return };
        let entry = directory.as_ref().and_then(|d| {
            let found = d.lookup(&user.source_upn, &user.target_upn);
            if found.is_none() {
                unmatched_users.warning(&mapping_file, Some(user.line), format!(
                    "no row in the directory {} for source {} or target {}; the notice greets without a name and uses the default locale",
                    d.file, user.source_upn, user.target_upn
                ));
            }
            found.map(|i| {
                matched[i] = true;
                d.entries[i].clone()
            })
        });
        if keep_recipients {
            if let Some(config) = config {
                plan.recipients.push(recipient(config, user, entry));
            }
        }
    })
    .with_context(|| format!("cannot read the mapping file {}", sources.mapping.display()))?;
    plan.users = summary.users;
    plan.groups = summary.groups;
    plan.diagnostics.extend(summary.diagnostics);
    plan.diagnostics.extend(unmatched_users);
    if let Some(dir) = &directory {
        for (entry, _) in dir.entries.iter().zip(&matched).filter(|(_, m)| !**m) {
            plan.diagnostics.warning(
                &dir.file,
                Some(entry.line),
                format!(
                "{} is not in the mapping file {} as a source or target UPN; the row is not used",
                entry.upn, mapping_file
            ),
            );
        }
    }
    Ok(plan)
}

/// Builds one recipient from a mapping row and its directory entry.
pub fn recipient(config: &Config, user: UserMapping, entry: Option<DirectoryEntry>) -> Recipient {
    let onedrive_url = entry
        .as_ref()
        .and_then(|e| e.onedrive_url.clone())
        .unwrap_or_else(|| onedrive_url(&config.target.host_urls[0], &user.target_upn));
    let mut to = Vec::with_capacity(2);
    if matches!(
        config.message.recipient,
        RecipientMode::TargetEmail | RecipientMode::Both
    ) {
        to.push(user.target_email.clone());
    }
    if matches!(
        config.message.recipient,
        RecipientMode::SourceUpn | RecipientMode::Both
    ) && !to
        .iter()
        .any(|t: &String| t.eq_ignore_ascii_case(&user.source_upn))
    {
        to.push(user.source_upn.clone());
    }
    Recipient {
        guest: user.is_guest(),
        user,
        directory: entry,
        onedrive_url,
        to,
    }
}

/// The new OneDrive address: `https://<tenant>-my.sharepoint.com/personal/<UPN with . , space
/// and @ as _>`. SharePoint may add a number on a clash; the directory's OneDriveUrl overrides.
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
mod tests {
    use super::*;

    #[test]
    fn onedrive_url_follows_sharepoint_rule() {
        assert_eq!(
            onedrive_url(
                "https://contoso-my.sharepoint.com/",
                "rsimone@contoso.onmicrosoft.com"
            ),
            "https://contoso-my.sharepoint.com/personal/rsimone_contoso_onmicrosoft_com"
        );
        assert_eq!(
            onedrive_url(
                "https://fabrikam-my.sharepoint.com",
                "Ana.Lopez@Fabrikam.com"
            ),
            "https://fabrikam-my.sharepoint.com/personal/ana_lopez_fabrikam_com"
        );
    }
}
