//! Everything that differs between Unix and Windows, in one place: files and folders only
//! their owner can open (0600/0700 on Unix, a protected access-control list that grants only
//! the current user on Windows), the exclusive lock on the ledger's lock file, the signals
//! that stop a run (on Windows also the service control manager's stop), running `serve` as a
//! Windows service, sending standard error to a log file, and the check for a key file others
//! can read. Callers use these functions and never `std::os::*` themselves.

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

/// Sends everything the process writes to standard error from now on (the log, warnings, the
/// final error, a panic) to `file` instead: a Windows service has no console, and a scheduled
/// task's is never seen.
pub fn redirect_stderr(file: File) -> io::Result<()> {
    imp::redirect_stderr(file)
}

/// Why [`serve_as_service`] could not run the service.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// `--windows-service` on a system without the Windows service control manager.
    #[error("--windows-service is only for the Windows service control manager; on Linux use the systemd unit in packaging/ (README: Running as a service)")]
    NotWindows,
    /// The process was started from a console or a task, not by the service control manager.
    #[error("--windows-service: this process was not started by the Windows service control manager; install it as a service (README: Running as a service, Windows) or leave out --windows-service to serve in this console")]
    NotStartedAsService,
    /// The service control manager refused the connection for another reason.
    #[error("--windows-service: cannot connect to the Windows service control manager")]
    Dispatcher(#[source] io::Error),
}

impl ServiceError {
    /// Whether the command line was wrong (exit 2) rather than the system (exit 1).
    pub fn is_usage(&self) -> bool {
        !matches!(self, ServiceError::Dispatcher(_))
    }
}

/// Runs `serve` (a whole `t2t-notify serve`, returning its exit status) as the Windows service
/// the service control manager started this process for, and returns that status once the
/// service has stopped. The service reports running once `serve` listens for [`Signals`]
/// (after it took the ledger's lock); the manager's stop, or the system's shutdown, then
/// reaches `serve` as the signal "service stop" ("system shutdown"), which stops it as Ctrl-C
/// does: no new message starts, the ones in flight are recorded. A stop the manager asked for
/// ends with the service exit code 0 (whatever a pass in progress made of it); any other end
/// reports `serve`'s exit status as the service-specific code.
pub fn serve_as_service(serve: impl FnOnce() -> i32 + Send + 'static) -> Result<i32, ServiceError> {
    imp::serve_as_service(Box::new(serve))
}

/// The signals that stop a run: Ctrl-C and SIGTERM on Unix; Ctrl-C, Ctrl-Break, closing the
/// console window and the service control manager's stop ([`serve_as_service`]) on Windows.
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
