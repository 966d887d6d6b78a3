//! Parses the command line, sets up logging, runs the subcommand and maps its outcome or
//! error to an exit status. Errors print with their whole chain of causes.

use std::ffi::OsString;

use crate::cli::{Cli, Command};
use crate::cmd;
use crate::config::ConfigError;
use crate::exit::{InvalidBecause, InvalidInput, Outcome};

/// Runs t2t-notify with these arguments and returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let mut cli = match crate::cli::parse(args) {
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
    init_logging(cli.verbose, cli.quiet);
    match cmd::inputs::fill(&mut cli).and_then(|()| dispatch(&cli)) {
        Ok(outcome) => outcome.code(),
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            error_outcome(&err).code()
        }
    }
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

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter =
        std::env::var("T2T_NOTIFY_LOG").unwrap_or_else(|_| format!("t2t_notify={default},warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .try_init();
}
