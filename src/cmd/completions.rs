//! `t2t-notify completions SHELL`: prints the completion script clap_complete builds from the
//! command line, for bash, zsh, fish, PowerShell or elvish.

use crate::cli::CompletionsArgs;
use crate::exit::Outcome;

pub fn execute(args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    crate::output::bytes(&script(args.shell));
    Ok(Outcome::Success)
}

/// The completion script, built in memory to be printed through `output`: clap_complete
/// panics when a write to standard output fails, and `completions bash | head` closes it early.
fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), "t2t-notify", &mut script);
    script
}

#[cfg(test)]
mod tests {
    use clap_complete::Shell;

    fn script(shell: Shell) -> String {
        String::from_utf8(super::script(shell)).unwrap()
    }

    #[test]
    fn powershell_completes_subcommands_and_their_options() {
        let ps = script(Shell::PowerShell);
        assert!(ps.contains("Register-ArgumentCompleter"), "{ps}");
        for word in [
            "'send'",
            "'--move-state'",
            "'--resend-uncertain'",
            "'confirm'",
        ] {
            assert!(ps.contains(word), "{word} missing");
        }
    }

    #[test]
    fn bash_completes_the_trust_subcommands() {
        let bash = script(Shell::Bash);
        assert!(bash.contains("complete -F _t2t__notify"), "{bash}");
        assert!(
            bash.contains("t2t__notify__subcmd__trust__subcmd__confirm"),
            "{bash}"
        );
    }
}
