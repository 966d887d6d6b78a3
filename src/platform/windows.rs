//! The Windows side of [`super`]: a protected access-control list with one entry (the current
//! user, full control), `LockFileEx` on one byte past the PID, console control events and the
//! service control manager's stop ([`service`]), `SetStdHandle` for standard error.

mod service;

pub use service::serve_as_service;

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, IntoRawHandle};
use std::path::Path;
use std::ptr::{null, null_mut};

use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, CtrlBreak, CtrlC, CtrlClose};
use tokio::sync::watch;
use windows_sys::Win32::Foundation::{
    CloseHandle, LocalFree, ERROR_IO_PENDING, ERROR_LOCK_VIOLATION, ERROR_SUCCESS, HANDLE,
};
use windows_sys::Win32::Security::Authorization::{
    SetEntriesInAclW, SetNamedSecurityInfoW, EXPLICIT_ACCESS_W, NO_MULTIPLE_TRUSTEE, SET_ACCESS,
    SE_FILE_OBJECT, TRUSTEE_IS_SID, TRUSTEE_IS_USER, TRUSTEE_W,
};
use windows_sys::Win32::Security::{
    GetTokenInformation, TokenUser, ACE_FLAGS, ACL, DACL_SECURITY_INFORMATION, NO_INHERITANCE,
    PROTECTED_DACL_SECURITY_INFORMATION, PSID, SUB_CONTAINERS_AND_OBJECTS_INHERIT, TOKEN_QUERY,
    TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::{
    LockFileEx, FILE_ALL_ACCESS, LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY,
};
use windows_sys::Win32::System::Console::{SetStdHandle, STD_ERROR_HANDLE};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};
use windows_sys::Win32::System::IO::OVERLAPPED;

pub fn open_private(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    let file = options.open(path)?;
    restrict(path, NO_INHERITANCE)?;
    Ok(file)
}

pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|p| !p.exists()).collect();
    for folder in missing.into_iter().rev() {
        match std::fs::create_dir(folder) {
            Ok(()) => restrict(folder, SUB_CONTAINERS_AND_OBJECTS_INHERIT)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Locks the byte at 4 GiB, never the PID at the start: a whole-file lock would keep the next
/// `send` from reading whose lock it is.
pub fn try_lock(file: &File) -> Result<(), TryLockError> {
    // SAFETY: OVERLAPPED is plain data; all zeroes is its documented initial state.
    let mut overlapped: OVERLAPPED = unsafe { std::mem::zeroed() };
    overlapped.Anonymous.Anonymous.Offset = u32::MAX;
    let flags = LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY;
    // SAFETY: the handle is open for the duration of the call; `overlapped` outlives it.
    let ok = unsafe { LockFileEx(file.as_raw_handle(), flags, 0, 1, 0, &mut overlapped) };
    if ok != 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    let held = [ERROR_LOCK_VIOLATION, ERROR_IO_PENDING];
    match err.raw_os_error() {
        Some(code) if held.contains(&(code as u32)) => Err(TryLockError::WouldBlock),
        _ => Err(TryLockError::Error(err)),
    }
}

pub fn loose_permissions(_path: &Path) -> Option<u32> {
    None
}

/// Replaces the access-control list of `path` with one entry, full control for the current
/// user, protected so the parent folder's entries are not inherited.
fn restrict(path: &Path, inheritance: ACE_FLAGS) -> io::Result<()> {
    let acl = OwnerOnlyAcl::new(inheritance)?;
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    let info = DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION;
    // SAFETY: `wide` is NUL-terminated; the list lives until the call returns.
    let rc = unsafe {
        SetNamedSecurityInfoW(
            wide.as_ptr(),
            SE_FILE_OBJECT,
            info,
            null_mut(),
            null_mut(),
            acl.0,
            null(),
        )
    };
    if rc != ERROR_SUCCESS {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    Ok(())
}

/// The list [`restrict`] sets: one entry, full control for the current user, with
/// `inheritance` for what is created inside a folder. Built apart so the tests can read it
/// where the file system does not keep lists (Wine).
pub(super) struct OwnerOnlyAcl(*mut ACL);

impl OwnerOnlyAcl {
    pub(super) fn new(inheritance: ACE_FLAGS) -> io::Result<OwnerOnlyAcl> {
        let user = current_user()?;
        // SAFETY: `user` holds a TOKEN_USER filled in by GetTokenInformation.
        let sid: PSID = unsafe { (*user.as_ptr().cast::<TOKEN_USER>()).User.Sid };
        let entry = EXPLICIT_ACCESS_W {
            grfAccessPermissions: FILE_ALL_ACCESS,
            grfAccessMode: SET_ACCESS,
            grfInheritance: inheritance,
            Trustee: TRUSTEE_W {
                pMultipleTrustee: null_mut(),
                MultipleTrusteeOperation: NO_MULTIPLE_TRUSTEE,
                TrusteeForm: TRUSTEE_IS_SID,
                TrusteeType: TRUSTEE_IS_USER,
                ptstrName: sid.cast(),
            },
        };
        let mut acl: *mut ACL = null_mut();
        // SAFETY: one valid entry; the new list (a copy of the SID included) is allocated by
        // the call and freed on drop.
        let rc = unsafe { SetEntriesInAclW(1, &entry, null(), &mut acl) };
        if rc != ERROR_SUCCESS {
            return Err(io::Error::from_raw_os_error(rc as i32));
        }
        Ok(OwnerOnlyAcl(acl))
    }

    #[cfg(test)]
    pub(super) fn as_ptr(&self) -> *const ACL {
        self.0
    }
}

impl Drop for OwnerOnlyAcl {
    fn drop(&mut self) {
        // SAFETY: allocated by SetEntriesInAclW and not used after this.
        unsafe { LocalFree(self.0.cast()) };
    }
}

/// The current process's TOKEN_USER (the user's SID and what it points into), in a buffer
/// aligned for it.
pub(super) fn current_user() -> io::Result<Vec<u64>> {
    let mut token: HANDLE = null_mut();
    // SAFETY: the pseudo-handle of the current process needs no closing; `token` is closed below.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let mut len = 0u32;
    // SAFETY: a size query with no buffer; it fails with the length it needs.
    unsafe { GetTokenInformation(token, TokenUser, null_mut(), 0, &mut len) };
    let mut buf = vec![0u64; (len as usize).div_ceil(8)];
    // SAFETY: `buf` holds at least `len` bytes.
    let ok =
        unsafe { GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len) };
    let err = io::Error::last_os_error();
    // SAFETY: `token` was opened above and is not used after this.
    unsafe { CloseHandle(token) };
    if ok == 0 {
        return Err(err);
    }
    Ok(buf)
}

/// Rust's standard error asks Windows for the process's standard error handle at every write,
/// so replacing that handle moves every later write.
pub fn redirect_stderr(file: File) -> io::Result<()> {
    let handle = file.into_raw_handle();
    // SAFETY: `handle` is an open file handle, left open for the rest of the process.
    if unsafe { SetStdHandle(STD_ERROR_HANDLE, handle) } == 0 {
        let err = io::Error::last_os_error();
        // SAFETY: the handle came from `into_raw_handle` above and nothing else holds it.
        drop(unsafe { File::from_raw_handle(handle) });
        return Err(err);
    }
    Ok(())
}

pub struct Signals {
    ctrl_c: CtrlC,
    ctrl_break: CtrlBreak,
    ctrl_close: CtrlClose,
    service: watch::Receiver<Option<&'static str>>,
}

impl Signals {
    /// The console's events first: a service reports itself running (in [`service::stops`])
    /// only once every way of stopping it is in place.
    pub fn new() -> io::Result<Signals> {
        let (ctrl_c, ctrl_break, ctrl_close) = (ctrl_c()?, ctrl_break()?, ctrl_close()?);
        Ok(Signals {
            ctrl_c,
            ctrl_break,
            ctrl_close,
            service: service::stops(),
        })
    }

    pub async fn next(&mut self) -> Option<&'static str> {
        tokio::select! {
            got = self.ctrl_c.recv() => got.map(|()| "Ctrl-C"),
            got = self.ctrl_break.recv() => got.map(|()| "Ctrl-Break"),
            got = self.ctrl_close.recv() => got.map(|()| "console closed"),
            got = self.service.changed() => got.ok().and_then(|()| *self.service.borrow_and_update()),
        }
    }
}
