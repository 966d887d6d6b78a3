//! `t2t-notify man --out DIR`: writes the manual pages clap_mangen builds from the command
//! line: `t2t-notify.1` and one `t2t-notify-<subcommand>.1` per subcommand.

use std::path::Path;

use anyhow::Context;

use crate::cli::ManArgs;
use crate::exit::Outcome;

pub fn execute(args: &ManArgs) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the folder {}", args.out.display()))?;
    write_pages(&crate::cli::command(), &args.out)
        .with_context(|| format!("cannot write the manual pages into {}", args.out.display()))?;
    eprintln!(
        "Wrote t2t-notify.1 and a page per subcommand into {} (read one with `man {}`).",
        args.out.display(),
        args.out.join("t2t-notify.1").display()
    );
    Ok(Outcome::Success)
}

/// A page for `cmd` and, recursively, for each of its subcommands except clap's `help` (whose
/// page would repeat the one it points to).
fn write_pages(cmd: &clap::Command, dir: &Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands() {
        if sub.get_name() != "help" && !sub.is_hide_set() {
            write_pages(sub, dir)?;
        }
    }
    clap_mangen::Man::new(cmd.clone()).generate_to(dir)?;
    Ok(())
}
