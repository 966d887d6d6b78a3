//! The config's `[inputs]` as the default `--mapping`, `--directory`, `--move-state` and `--schedule` of
//! `validate`, `preview`, `send`, `serve` and `report`, so that every command reads the same files unless the
//! command line names others (a flag replaces the config's value; `--move-state` replaces the
//! whole list).

use crate::cli::{Cli, Command, InputArgs, MoveStateArgs, ReportArgs};
use crate::config::Config;
use crate::exit::InvalidInput;
use crate::plan::Sources;

/// Fills the input flags the command line left out from the config's `[inputs]`.
pub fn fill(cli: &mut Cli) -> anyhow::Result<()> {
    let (input, moves) = match &mut cli.command {
        Command::Validate(a) => (&mut a.input, &mut a.moves),
        Command::Preview(a) => (&mut a.input, &mut a.moves),
        Command::Send(a) => (&mut a.input, &mut a.moves),
        Command::Serve(a) => (&mut a.input, &mut a.moves),
        Command::Report(a) => return fill_report(&cli.config, a),
        _ => return Ok(()),
    };
    let complete = !input.mapping.as_os_str().is_empty()
        && input.directory.is_some()
        && !moves.move_states.is_empty()
        && !moves.schedules.is_empty();
    if complete {
        return Ok(());
    }
    let config = if input.mapping.as_os_str().is_empty() {
        // Without a mapping there is nothing to do: a config that cannot be read is the error.
        Some(Config::load(&cli.config)?)
    } else {
        Config::load(&cli.config).ok()
    };
    let Some(config) = config else {
        return Ok(());
    };
    apply(config, input, moves);
    if input.mapping.as_os_str().is_empty() {
        return Err(InvalidInput(format!(
            "no identity mapping file: pass --mapping FILE, or name it in {} as [inputs] mapping = \"identity-map.csv\"",
            cli.config.display()
        ))
        .into());
    }
    Ok(())
}

fn apply(config: Config, input: &mut InputArgs, moves: &mut MoveStateArgs) {
    let inputs = config.inputs;
    if let (true, Some(mapping)) = (input.mapping.as_os_str().is_empty(), inputs.mapping) {
        input.mapping = mapping;
    }
    input.directory = input.directory.take().or(inputs.directory);
    if moves.move_states.is_empty() {
        moves.move_states = inputs.move_state;
    }
    if moves.schedules.is_empty() {
        moves.schedules = inputs.schedule;
    }
}

/// `report` reads the mapping only when there is one: without `[inputs]` (or a config that
/// `report` will refuse anyway) it reports the ledger alone.
fn fill_report(config: &std::path::Path, args: &mut ReportArgs) -> anyhow::Result<()> {
    if let Ok(config) = Config::load(config) {
        let inputs = config.inputs;
        args.mapping = args.mapping.take().or(inputs.mapping);
        args.directory = args.directory.take().or(inputs.directory);
        if args.move_states.is_empty() {
            args.move_states = inputs.move_state;
        }
    }
    if args.mapping.is_none() && (args.directory.is_some() || !args.move_states.is_empty()) {
        return Err(InvalidInput(
            "--directory and --move-state need the identity mapping: pass --mapping FILE, or name it in the config as [inputs] mapping = \"identity-map.csv\"".into(),
        )
        .into());
    }
    Ok(())
}

/// What `validate`, `preview` and `send` read: the files their (filled) flags name.
pub fn sources<'a>(input: &'a InputArgs, moves: &'a MoveStateArgs) -> Sources<'a> {
    Sources {
        mapping: &input.mapping,
        directory: input.directory.as_deref(),
        move_states: &moves.move_states,
        batch: moves.batch.as_deref(),
        schedules: &moves.schedules,
        facts: None,
    }
}
