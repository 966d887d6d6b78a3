//! The Unix side of [`super`]: mode bits, `flock`, SIGINT and SIGTERM, `dup2` onto standard
//! error; no service control manager (systemd runs `serve` as it is).

use std::fs::{File, OpenOptions, Permissions, TryLockError};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use tokio::signal::unix::{signal, Signal, SignalKind};

pub fn open_private(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    let file = options.mode(0o600).open(path)?;
    // A file that existed keeps its mode through open; set it again.
    if file.metadata()?.permissions().mode() & 0o777 != 0o600 {
        file.set_permissions(Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true).mode(0o700);
    builder.create(dir)
}

pub fn try_lock(file: &File) -> Result<(), TryLockError> {
    file.try_lock()
}

pub fn loose_permissions(path: &Path) -> Option<u32> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

pub fn redirect_stderr(file: File) -> io::Result<()> {
    // SAFETY: both descriptors are open; dup2 replaces descriptor 2 atomically, and `file` may
    // be closed after it (descriptor 2 keeps its own reference to the open file).
    if unsafe { libc::dup2(file.as_raw_fd(), libc::STDERR_FILENO) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub fn serve_as_service(
    _serve: Box<dyn FnOnce() -> i32 + Send>,
) -> Result<i32, super::ServiceError> {
    Err(super::ServiceError::NotWindows)
}

pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    pub fn new() -> io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    pub async fn next(&mut self) -> Option<&'static str> {
        tokio::select! {
            got = self.interrupt.recv() => got.map(|()| "Ctrl-C"),
            got = self.terminate.recv() => got.map(|()| "SIGTERM"),
        }
    }
}
