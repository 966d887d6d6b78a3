//! The command line as clap sees it. Only shapes and help texts live here; `run` turns them
//! into validated settings and each `cmd::*::execute` does the work.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// The help heading of the options every subcommand takes.
const GLOBAL: &str = "Global options";

/// Subcommands that read no configuration file: `--config` is hidden from their help and
/// refused on their command line.
pub const WITHOUT_CONFIG: [&str; 3] = ["sample", "completions", "man"];

/// Tell users their OneDrive has moved to the new tenant: validate the identity map, preview
/// every notice, confirm the trust is removed on both tenants, and send each notice once.
#[derive(Debug, Parser)]
#[command(name = "t2t-notify", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 done, 1 runtime failure, 2 invalid input or usage, 3 trust gate closed, 4 some recipients failed, 5 paused (run again to resume), 130 interrupted.\n\nExample:\n  t2t-notify --config sample-data/t2t-notify.toml preview --mapping sample-data/identity-map.csv --directory sample-data/directory.csv --out preview/"
)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        long,
        global = true,
        env = "T2T_NOTIFY_CONFIG",
        default_value = "t2t-notify.toml",
        value_name = "FILE",
        help_heading = GLOBAL
    )]
    pub config: PathBuf,
    /// More detail in the logs (-v: each step, and the mail server's replies when sending;
    /// -vv: everything).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    /// Only errors in the logs.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,
    /// Append the log and everything else written to standard error to this file (created
    /// owner-only), each log line with its time: for a Windows service or a scheduled task,
    /// which have no console.
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub log_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the identity mapping file (and directory and move-state exports) and report every
    /// problem.
    #[command(
        after_help = "Example:\n  t2t-notify --config sample-data/t2t-notify.toml validate --mapping sample-data/identity-map.csv --directory sample-data/directory.csv\n  t2t-notify validate --mapping map.csv --move-state batch-1.csv --move-state batch-2.json\n\nExit status 0 when valid (warnings allowed), 2 when not."
    )]
    Validate(ValidateArgs),
    /// Write a large synthetic identity map and directory for tests and benchmarks.
    #[command(after_help = "Example:\n  t2t-notify sample --users 100000 --out /tmp/big")]
    Sample(SampleArgs),
    /// Show every user's delivery state, attempts, last reply, Message-ID and times, with totals.
    #[command(
        after_help = "Examples:\n  t2t-notify --config sample-data/t2t-notify.toml report --format csv > report.csv\n  t2t-notify report --format html --out report.html --mapping identity-map.csv --move-state batch-1.csv --move-state batch-2.csv\n  t2t-notify report --batch batch-2\n\nExit status 0."
    )]
    Report(ReportArgs),
    /// Send each user's notice once per campaign (after the input, the link check and the trust gate pass).
    #[command(
        after_help = "Examples:\n  t2t-notify --config t2t-notify.toml send --mapping identity-map.csv --directory directory.csv --test-to me@fabrikam.com\n  t2t-notify --config t2t-notify.toml send --mapping identity-map.csv --directory directory.csv --move-state batch-1.csv --move-state batch-2.csv\n\nAfter every run a JSON summary is written next to the ledger (or to [notify] summary_dir), posted to [notify] webhook_url and mailed to [notify] admin_email when set.\n\nExit status 0 when everyone has their notice, 1 on a runtime failure (server, authentication, ledger), 2 on invalid input or a link-check error (nothing sent), 3 when the trust gate is closed (nothing sent), 4 when users failed or are uncertain, 5 when paused (quota, day budget, deferred users: run again), 130 after Ctrl-C or SIGTERM."
    )]
    Send(SendArgs),
    /// Run as the notice service until stopped: every [serve] poll_seconds, send each campaign to
    /// the people due, and wait out a spent day budget or a quota instead of exiting.
    #[command(
        after_help = "Example:\n  t2t-notify --config sample-data/t2t-notify.toml serve --mapping sample-data/identity-map.csv --directory sample-data/directory.csv\n\nThe inputs are the config's [inputs] unless the command line names others; each campaign's pass is a `send --campaign NAME` (same checks, trust gate, ledger and summary). Holds the ledger's lock while it runs.\n\nExit status 0 when stopped with Ctrl-C or SIGTERM between passes, 130 when stopped during a send (after the messages in flight are recorded), 1 when the ledger lock is held by another run, 2 on invalid configuration."
    )]
    Serve(ServeArgs),
    /// Render every notice without sending: one .eml and HTML per person and a searchable index.html.
    #[command(
        after_help = "Example:\n  t2t-notify --config sample-data/t2t-notify.toml preview --mapping sample-data/identity-map.csv --directory sample-data/directory.csv --out preview/\n  t2t-notify --config sample-data/t2t-notify.toml preview --mapping sample-data/identity-map.csv --user ana.martinez0@contoso.com\n\nExit status 0 when every notice rendered and passed the link check, 2 when not (everything that rendered is still written)."
    )]
    Preview(PreviewArgs),
    /// The trust-removal gate: print the removal script, confirm its evidence files, show status.
    #[command(
        after_help = "Example (the gate opens when both tenants' evidence is confirmed):\n  t2t-notify trust script --tenant source --out remove-trust-source.ps1\n  t2t-notify trust script --tenant target --out remove-trust-target.ps1\n  t2t-notify trust confirm trust-evidence-*.json\n  t2t-notify trust status"
    )]
    Trust {
        #[command(subcommand)]
        command: crate::cmd::trust::TrustCommand,
    },
    /// Record who has signed in to the target tenant (reminders go by it): from sign-in exports,
    /// or with --graph from Microsoft Graph.
    #[command(
        name = "sign-ins",
        after_help = "Examples:\n  t2t-notify --config t2t-notify.toml sign-ins sign-ins.csv\n  t2t-notify --config t2t-notify.toml sign-ins --graph\n\nThe export: Get-MgUser -All -Property UserPrincipalName,SignInActivity | Select-Object UserPrincipalName, @{n='LastSuccessfulSignIn';e={$_.SignInActivity.LastSuccessfulSignInDateTime}} | Export-Csv -NoTypeInformation -Encoding UTF8 sign-ins.csv\n\nExit status 0 when recorded, 1 when Graph or the ledger fails, 2 when an export has errors (nothing recorded)."
    )]
    SignIns(SignInsArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Examples:\n  t2t-notify completions bash > ~/.local/share/bash-completion/completions/t2t-notify\n  t2t-notify completions powershell | Out-String | Invoke-Expression    # in $PROFILE"
    )]
    Completions(CompletionsArgs),
    /// Write the manual pages (t2t-notify.1 and one per subcommand) into a folder.
    #[command(after_help = "Example:\n  t2t-notify man --out man/\n  man man/t2t-notify.1")]
    Man(ManArgs),
}

/// The command line as clap builds it, with `--config` hidden from the subcommands that read
/// no configuration (clap copies a global option into every subcommand).
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    for name in WITHOUT_CONFIG {
        // In place: after build, clap finds arguments by their position.
        cmd = cmd.mut_subcommand(name, |s| {
            s.mut_args(|a| {
                let config = a.get_id() == "config";
                a.hide(config)
            })
        });
    }
    cmd
}

/// Parses the command line as [`command`] describes it; `--config` given to a subcommand that
/// reads no configuration is a usage error rather than silently ignored.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    if let Some((name, sub)) = matches.subcommand() {
        let given = sub.value_source("config") == Some(ValueSource::CommandLine);
        if given && WITHOUT_CONFIG.contains(&name) {
            let why = format!("`{name}` reads no configuration file; leave out --config");
            return Err(cmd.error(ErrorKind::ArgumentConflict, why));
        }
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Folder for the pages (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Where the users come from; shared by every command that reads them.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// The identity mapping CSV of Step 5 (six columns, no header). Default: the config's
    /// `[inputs] mapping`.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "",
        hide_default_value = true,
        value_parser = clap::builder::TypedValueParser::map(clap::builder::OsStringValueParser::new(), PathBuf::from)
    )]
    pub mapping: PathBuf,
    /// A user directory CSV with a header row (UserPrincipalName, DisplayName, GivenName,
    /// PreferredLanguage, OneDriveUrl, ...). Default: the config's `[inputs] directory`.
    #[arg(long, value_name = "FILE")]
    pub directory: Option<PathBuf>,
}

/// Which users' OneDrive moves finished; shared by validate, preview, send and report.
#[derive(Debug, Clone, Default, Args)]
pub struct MoveStateArgs {
    /// An export of Get-SPOCrossTenantUserContentMoveState (Export-Csv or ConvertTo-Json), one
    /// per batch; repeat for several. With it, only users whose newest state is Success are
    /// notified; the others are held back with the reason.
    #[arg(long = "move-state", value_name = "FILE")]
    pub move_states: Vec<PathBuf>,
    /// The batch label for the users of these exports (default: each export's file name
    /// without extension).
    #[arg(long, value_name = "NAME", requires = "move_states", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub batch: Option<String>,
    /// The migration schedule (source UPN, planned start: the -PreferredMoveBeginDate of each
    /// move), one file per wave; repeat for several. Pre-move warnings go by it. Default: the
    /// config's `[inputs] schedule`.
    #[arg(long = "schedule", value_name = "FILE")]
    pub schedules: Vec<PathBuf>,
}

/// Output format of `validate` and `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub moves: MoveStateArgs,
    /// human (one line per problem) or json ({users, groups, warnings, errors}).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// How many users.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub users: u64,
    /// How many groups.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub groups: u64,
    /// Folder that receives identity-map.csv and directory.csv.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Output format of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    #[default]
    Human,
    Json,
    Csv,
    Html,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Only this campaign (default: every campaign in the ledger).
    #[arg(long, value_name = "NAME")]
    pub campaign: Option<String>,
    /// Only the users of this migration batch (the label `send` stored with them).
    #[arg(long, value_name = "NAME")]
    pub batch: Option<String>,
    /// human (a table per campaign), json ({campaigns, test_sends, held_back}), csv (one row per user) or
    /// html (a self-contained page with totals and a searchable, sortable table).
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    /// Write the report to this file (owner-only, 0600) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The identity map: its users that were never tried are listed as pending, and with
    /// --move-state the users the exports hold back. Default: the config's `[inputs] mapping`.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// The user directory CSV the notices were sent with (its Mail reaches guests), for the
    /// users held back. Needs a mapping. Default: the config's `[inputs] directory`.
    #[arg(long, value_name = "FILE")]
    pub directory: Option<PathBuf>,
    /// Move-state exports (repeatable): users whose move did not succeed are listed as held
    /// back, with the reason. Needs a mapping. Default: the config's `[inputs] move_state`.
    #[arg(long = "move-state", value_name = "FILE")]
    pub move_states: Vec<PathBuf>,
    /// Each person's whole journey instead: warned, moved, notified, signed in, reminded, and
    /// who needs attention, with the funnel (html: a chart of messages per hour against the
    /// day budget and of the share signed in). Needs the mapping; --campaign and --batch do not
    /// apply (every campaign of the config is part of the journey).
    #[arg(long, conflicts_with_all = ["campaign", "batch"])]
    pub journey: bool,
}

#[derive(Debug, Args)]
pub struct SignInsArgs {
    /// Sign-in exports of the target tenant (UserPrincipalName, LastSuccessfulSignIn).
    #[arg(value_name = "FILE", required_unless_present = "graph")]
    pub files: Vec<PathBuf>,
    /// Fetch every user's last successful sign-in from Microsoft Graph with [transport]'s app
    /// registration (application permissions User.Read.All and AuditLog.Read.All; the tenant
    /// needs Entra ID P1).
    #[arg(long, conflicts_with = "files")]
    pub graph: bool,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub moves: MoveStateArgs,
    /// Folder for index.html and messages/ (created private: folders 0700, files 0600). Without
    /// it, the notice of a single --user is printed to the terminal.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only this person (source UPN, target UPN or address); repeat for more.
    #[arg(long = "user", value_name = "UPN")]
    pub users: Vec<String>,
    /// At most this many people.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// The campaign: one of the config's [[campaign]] tables (required when it has them);
    /// without tables, any name (default post-migration). Part of every Message-ID, so use the
    /// same one as `send`.
    #[arg(long, value_name = "NAME")]
    pub campaign: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub moves: MoveStateArgs,
    /// Run under the Windows service control manager (the service's command line, never typed).
    #[arg(
        long,
        hide_short_help = true,
        long_help = "Run under the Windows service control manager: give it in the service's command line (New-Service -BinaryPathName, see README: Running as a service), never in a console. The service reports running once serve holds the ledger's lock; Stop-Service (or the system's shutdown) stops it as Ctrl-C does: no new message starts, the ones in flight are recorded, and the service stops with exit code 0. A service has no console: add the global --log-file to keep its log. Refused outside Windows."
    )]
    pub windows_service: bool,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub moves: MoveStateArgs,
    /// The campaign: one of the config's [[campaign]] tables (required when it has them);
    /// without tables, any name (default post-migration). Each person gets one message per
    /// campaign (and reminder number); part of every Message-ID, so use the same one as `preview`.
    #[arg(long, value_name = "NAME")]
    pub campaign: Option<String>,
    /// Only the first N users of the mapping (with --test-to: 3 unless given).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Send the first N users' notices to this address only, to check them in a real mailbox.
    /// Allowed before the trust gate opens; recorded apart, no user counts as notified.
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["retry_failed", "resend_uncertain"])]
    pub test_to: Option<String>,
    /// Also try users whose earlier attempt failed permanently.
    #[arg(long)]
    pub retry_failed: bool,
    /// Also send to users who may already have the notice (a run stopped while their message
    /// was in flight, or the connection dropped after it was sent).
    #[arg(long)]
    pub resend_uncertain: bool,
    /// Send although this campaign was sent before with another directory file, or with one
    /// and now without (the file used is recorded per campaign).
    #[arg(long)]
    pub directory_changed: bool,
}
