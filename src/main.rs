//! Entry point: parse the command line, run it, turn the outcome into an exit status.

fn main() {
    std::process::exit(t2t_notify::run::run(std::env::args_os()));
}
