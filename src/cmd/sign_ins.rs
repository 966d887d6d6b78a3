//! `t2t-notify sign-ins`: records who has signed in to the target tenant, the evidence
//! `reminder` campaigns go by. From sign-in exports (`Get-MgUser ... | Export-Csv`; every error
//! of every file is reported and nothing is recorded until all read cleanly), or with `--graph`
//! straight from Microsoft Graph with `[transport]`'s app registration. The ledger keeps every
//! sign-in learnt and when (see `ledger::sign_ins`).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;

use crate::cli::{Cli, SignInsArgs};
use crate::config::Config;
use crate::exit::{InvalidInput, Outcome};
use crate::ledger::sign_ins::{SignInFact, SignInImport};
use crate::ledger::Ledger;
use crate::output::outln;
use crate::sign_ins::SignInFetch;

pub fn execute(cli: &Cli, args: &SignInsArgs) -> anyhow::Result<Outcome> {
    let config = Config::load(&cli.config)?;
    let evidence = if args.graph {
        vec![("graph".to_string(), fetch(&config, cli.quiet)?)]
    } else {
        match read_files(&args.files)? {
            Some(evidence) => evidence,
            None => return Ok(Outcome::Invalid),
        }
    };
    let mut ledger = Ledger::open(&config.ledger.path)?;
    for (source, facts) in &evidence {
        let import = ledger.record_sign_ins(source, facts, Utc::now())?;
        outln!("{}", describe(&import));
    }
    Ok(Outcome::Success)
}

/// One source's sign-ins: its name (a file name, or `graph`) and what it says.
type Evidence = (String, Vec<SignInFact>);

/// `sign-ins.csv: 30 users, 12 with a successful sign-in, recorded 2026-12-06 09:00 UTC`.
fn describe(import: &SignInImport) -> String {
    format!(
        "{}: {}, {} with a successful sign-in, recorded {}",
        import.source,
        crate::diag::count(import.users, "user"),
        import.signed_in,
        import.learnt_at.format("%Y-%m-%d %H:%M UTC")
    )
}

/// Every file's rows, or `None` after printing every file's errors (warnings are printed too).
fn read_files(paths: &[std::path::PathBuf]) -> anyhow::Result<Option<Vec<Evidence>>> {
    let mut evidence = Vec::new();
    let mut errors = 0;
    for path in paths {
        crate::inputs::path::check_file("the sign-in export", path)?;
        let (rows, diags) = crate::inputs::sign_ins::read(path)
            .with_context(|| format!("cannot read the sign-in export {}", path.display()))?;
        for d in diags.sorted() {
            eprintln!("{d}");
        }
        errors += diags.errors().count();
        let facts = rows
            .into_iter()
            .map(|r| SignInFact {
                upn: r.upn,
                last_success: r.last_success,
            })
            .collect();
        evidence.push((file_name(path), facts));
    }
    if errors > 0 {
        eprintln!(
            "error: the sign-in exports have {}; nothing was recorded",
            crate::diag::count(errors as u64, "error")
        );
        return Ok(None);
    }
    Ok(Some(evidence))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Every user's last successful sign-in, from Graph (`serve` fetches them the same way).
pub fn fetch(config: &Config, quiet: bool) -> anyhow::Result<Vec<SignInFact>> {
    let t = &config.transport;
    let scope = crate::transport::graph::graph_scope(&t.graph_url);
    let oauth = crate::oauth::OAuthSettings::from_config(t, &scope).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        InvalidInput(format!(
            "`sign-ins --graph` uses the app registration of [transport]:\n  {}",
            lines.join("\n  ")
        ))
    })?;
    let timeout = Duration::from_secs(t.timeout_secs.max(1));
    let fetcher = SignInFetch::new(oauth, &t.graph_url, timeout)
        .map_err(|e| InvalidInput(format!("[transport] {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let fetched = runtime.block_on(fetcher.fetch_all(|users| {
        if !quiet {
            eprintln!("read {users} users from Microsoft Graph");
        }
    }))?;
    Ok(fetched
        .into_iter()
        .map(|f| SignInFact {
            upn: f.upn,
            last_success: f.last_success,
        })
        .collect())
}
