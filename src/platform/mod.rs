//! Everything that differs between Unix and Windows, in one place: files and folders only
//! their owner can open (0600/0700 on Unix, a protected access-control list that grants only
//! the current user on Windows), the exclusive lock on the ledger's lock file, the signals
//! that stop a run, and the check for a key file others can read. Callers use these functions
//! and never `std::os::*` themselves.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::Path;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg(test)]
mod tests;
#[cfg(test)]
pub use tests::is_owner_only;

/// Opens `path` with `options` and makes the file readable and writable by its owner only,
/// also when it existed before. On Unix a new file is created 0600 (umask can only take bits
/// away); on Windows the access-control list is replaced before anything is written to it.
pub fn open_private(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    imp::open_private(options, path)
}

/// Creates `dir` and any missing parents, each one only its owner can enter (0700 whatever the
/// umask, or an owner-only list that files created inside inherit). Folders that already
/// exist are left as the admin made them.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    imp::create_private_dir_all(dir)
}

/// Takes an exclusive lock on `file` without waiting; the operating system drops it when the
/// file is closed or the process ends, however it ends. The lock leaves the file's first bytes
/// readable by other processes (on Windows it covers one byte far past them), so a holder can
/// write its PID there for the next one to name.
pub fn try_lock(file: &File) -> Result<(), TryLockError> {
    imp::try_lock(file)
}

/// The mode bits of a key file that lets group or others read it (`None` when only its owner
/// can, or where there are no mode bits).
pub fn loose_permissions(path: &Path) -> Option<u32> {
    imp::loose_permissions(path)
}

/// The signals that stop a run: Ctrl-C and SIGTERM on Unix; Ctrl-C, Ctrl-Break and closing
/// the console window on Windows.
pub struct Signals(imp::Signals);

impl Signals {
    /// Starts listening.
    pub fn new() -> io::Result<Signals> {
        imp::Signals::new().map(Signals)
    }

    /// The name of the next signal; `None` when signals can no longer be received.
    pub async fn next(&mut self) -> Option<&'static str> {
        self.0.next().await
    }
}
