//! One `send` per ledger at a time: an exclusive lock on `<ledger>.lock`, held for the whole
//! run. The operating system drops it when the process ends, however it ends (a killed run
//! leaves no stale lock behind).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another t2t-notify send is already using the ledger {ledger}{holder} (lock file {lock}); wait for it to finish, or stop it with Ctrl-C")]
    Busy {
        ledger: PathBuf,
        lock: PathBuf,
        holder: String,
    },
    #[error("cannot create the lock file {lock}: {source}; check the permissions of the ledger's folder")]
    Io {
        lock: PathBuf,
        source: std::io::Error,
    },
}

/// Held while a `send` runs; released on drop.
#[derive(Debug)]
pub struct SendLock {
    _file: File,
    path: PathBuf,
}

impl SendLock {
    /// Takes the lock that belongs to the ledger at `ledger`, without waiting.
    pub fn acquire(ledger: &Path) -> Result<SendLock, LockError> {
        let path = lock_path(ledger);
        let io = |source| LockError::Io {
            lock: path.clone(),
            source,
        };
        let mut file = crate::platform::open_private(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
            &path,
        )
        .map_err(io)?;
        match crate::platform::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = holder(&path)
                    .map(|pid| format!(" (process {pid})"))
                    .unwrap_or_default();
                return Err(LockError::Busy {
                    ledger: ledger.to_path_buf(),
                    lock: path,
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(SendLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The PID the holder wrote into the lock file. A holder that has only just taken the lock may
/// not have written it yet, so an empty file is read again for a moment.
fn holder(path: &Path) -> Option<String> {
    for _ in 0..25 {
        let pid = std::fs::read_to_string(path).ok()?.trim().to_string();
        if !pid.is_empty() {
            return Some(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

/// `<ledger>.lock`, next to the ledger.
pub fn lock_path(ledger: &Path) -> PathBuf {
    let mut name = ledger.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    ledger.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_the_same_ledger_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("t2t.db");
        let first = SendLock::acquire(&ledger).unwrap();
        assert_eq!(first.path(), dir.path().join("t2t.db.lock"));
        let err = SendLock::acquire(&ledger).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LockError::Busy { .. }), "{text}");
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        drop(first);
        SendLock::acquire(&ledger).unwrap();
    }

    #[test]
    fn a_holder_that_writes_its_pid_a_moment_late_is_still_named() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("t2t.db");
        let lock = lock_path(&ledger);
        let file = File::create(&lock).unwrap();
        crate::platform::try_lock(&file).unwrap();
        let late = std::thread::spawn({
            let lock = lock.clone();
            move || {
                std::thread::sleep(std::time::Duration::from_millis(100));
                std::fs::write(lock, "4242\n").unwrap();
            }
        });
        let err = SendLock::acquire(&ledger).unwrap_err();
        late.join().unwrap();
        assert!(err.to_string().contains("(process 4242)"), "{err}");
    }
}
