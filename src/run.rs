//! Parses the command line, sets up logging (to `--log-file` when given), runs the subcommand
//! (as a Windows service with `serve --windows-service`) and maps its outcome or error to an
//! exit status. Errors print with their whole chain of causes.

use std::ffi::OsString;

use anyhow::Context;

use crate::cli::{Cli, Command};
use crate::cmd;
use crate::config::ConfigError;
use crate::exit::{InvalidBecause, InvalidInput, Outcome};

/// Runs t2t-notify with these arguments and returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match crate::cli::parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Outcome::Invalid.code()
            } else {
                0
            };
        }
    };
    if let Err(err) = init_logging(&cli) {
        return failed(&err);
    }
    if matches!(&cli.command, Command::Serve(args) if args.windows_service) {
        // Everything, reading the inputs included, runs as the service, so that its errors end
        // up in the log and in the service's exit code.
        return match crate::platform::serve_as_service(move || execute(cli)) {
            Ok(code) => code,
            Err(e) if e.is_usage() => failed(&anyhow::Error::new(InvalidInput::because(e))),
            Err(e) => failed(&anyhow::Error::new(e)),
        };
    }
    execute(cli)
}

/// Runs the subcommand and returns its exit status, having printed its error.
fn execute(mut cli: Cli) -> i32 {
    match cmd::inputs::fill(&mut cli).and_then(|()| dispatch(&cli)) {
        Ok(outcome) => outcome.code(),
        Err(err) => failed(&err),
    }
}

/// Prints `err` with its whole chain of causes and returns the exit status it means.
fn failed(err: &anyhow::Error) -> i32 {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    error_outcome(err).code()
}

fn dispatch(cli: &Cli) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Validate(args) => cmd::validate::execute(cli, args),
        Command::Sample(args) => cmd::sample::execute(args),
        Command::Report(args) => cmd::report::execute(cli, args),
        Command::Send(args) => cmd::send::execute(cli, args),
        Command::Serve(args) => cmd::serve::execute(cli, args),
        Command::Preview(args) => cmd::preview::execute(cli, args),
        Command::SignIns(args) => cmd::sign_ins::execute(cli, args),
        Command::Trust { command } => cmd::trust::execute(cli, command),
        Command::Completions(args) => cmd::completions::execute(args),
        Command::Man(args) => cmd::man::execute(args),
    }
}

/// What an error means for the exit status: invalid input or usage (2), else a failure (1).
pub fn error_outcome(err: &anyhow::Error) -> Outcome {
    let invalid = err
        .chain()
        .any(|c| c.is::<ConfigError>() || c.is::<InvalidInput>() || c.is::<InvalidBecause>());
    if invalid {
        Outcome::Invalid
    } else {
        Outcome::Failure
    }
}

/// Logs to standard error, which `--log-file` first sends to that file (then with each
/// line's time: a terminal or journald adds its own).
fn init_logging(cli: &Cli) -> anyhow::Result<()> {
    if let Some(path) = &cli.log_file {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        let file = crate::platform::open_private(&mut options, path)
            .and_then(crate::platform::redirect_stderr);
        file.with_context(|| format!("cannot open the log file {} (--log-file)", path.display()))?;
    }
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter =
        std::env::var("T2T_NOTIFY_LOG").unwrap_or_else(|_| format!("t2t_notify={default},warn"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let _ = if cli.log_file.is_some() {
        subscriber.try_init()
    } else {
        subscriber.without_time().try_init()
    };
    Ok(())
}
