//! `send` uses the directory file the campaign was sent with before: without it the notices
//! lose names and languages, and with another file they differ from what was previewed. A run
//! without `--directory` (or with a file of other content) after one with it is refused unless
//! `--directory-changed` says that is intended; the file used is recorded per campaign.

use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::exit::InvalidInput;
use crate::ledger::directories::{self, UsedDirectory};
use crate::ledger::Ledger;

/// Refuses a change of directory file for `campaign` (unless `changed` allows it), then
/// records the one this run uses.
pub fn check(
    ledger: &Ledger,
    campaign: &str,
    directory: Option<&Path>,
    changed: bool,
) -> anyhow::Result<()> {
    let now = match directory {
        Some(path) => Some((absolute(path), sha256_of(path)?)),
        None => None,
    };
    let before = directories::get(ledger, campaign)?;
    if let (Some(before), false) = (&before, changed) {
        let same = now.as_ref().is_some_and(|(_, hash)| *hash == before.sha256);
        if !same {
            return Err(InvalidInput(refusal(campaign, before, now.as_ref())).into());
        }
    }
    if let Some((path, hash)) = now {
        directories::set(ledger, campaign, &path, &hash)?;
    }
    Ok(())
}

fn refusal(campaign: &str, before: &UsedDirectory, now: Option<&(String, String)>) -> String {
    let this = match now {
        None => "this run has no --directory, so its notices would go out without names and in the default language".to_string(),
        Some((path, _)) if *path == before.path => format!("{path} has changed since then"),
        Some((path, _)) => format!("this run gives another one ({path})"),
    };
    format!(
        "campaign {campaign} was sent with the directory {} (recorded {}, sha256 {}); {this}. Nothing was sent. Pass the same file with --directory, or add --directory-changed if the change is intended (the new file is then recorded)",
        before.path,
        before.recorded_at,
        &before.sha256[..12.min(before.sha256.len())]
    )
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn sha256_of(path: &Path) -> anyhow::Result<String> {
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the directory {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}
