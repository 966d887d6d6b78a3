//! Standard output that a reader may close early (`t2t-notify trust script | head -1`).
//!
//! Every command prints its results through `out!`/`outln!` (or [`bytes`]) instead of
//! `print!`/`println!`, which panic when the pipe is closed. A closed pipe is not a failure of
//! the run: the rest of the output is dropped, this is said once on stderr, and the command
//! goes on (a `send` still records its outcomes and writes its summary file) and exits as the
//! run deserves.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once standard output could not be written to; later writes are dropped quietly.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes formatted text to standard output (see the module doc for a closed pipe).
pub fn write(args: std::fmt::Arguments<'_>) {
    bytes(std::fmt::format(args).as_bytes());
}

/// Writes raw bytes to standard output (see the module doc for a closed pipe).
pub fn bytes(data: &[u8]) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(data).and_then(|()| stdout.flush()) {
        closed(&e);
    }
}

fn closed(error: &std::io::Error) {
    if CLOSED.swap(true, Ordering::Relaxed) {
        return;
    }
    if error.kind() == ErrorKind::BrokenPipe {
        eprintln!("note: standard output was closed before everything was printed; the rest of it was dropped");
    } else {
        eprintln!("warning: cannot write to standard output ({error}); the rest of it was dropped");
    }
}

/// `print!` that survives a closed standard output.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*)) };
}

/// `println!` that survives a closed standard output.
macro_rules! outln {
    () => { $crate::output::write(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
