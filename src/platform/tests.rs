//! Owner-only files and folders read back from the operating system, and the lock between two
//! handles, on whichever platform the tests run (Windows: under Wine in CI).

use super::*;

fn create_new(path: &Path) -> io::Result<File> {
    open_private(OpenOptions::new().write(true).create_new(true), path)
}

#[test]
fn a_locked_file_refuses_a_second_lock_and_its_pid_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.lock");
    let first = create_new(&path).unwrap();
    std::fs::write(&path, "4242\n").unwrap();
    try_lock(&first).unwrap();
    let second = File::open(&path).unwrap();
    assert!(matches!(try_lock(&second), Err(TryLockError::WouldBlock)));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "4242\n");
    drop(first);
    try_lock(&second).unwrap();
}

/// Whether only the owner may open `path`, as the operating system reports it (0600 files and
/// 0700 folders, or the one-entry protected list), for the tests of the modules that write.
pub fn is_owner_only(path: &Path) -> bool {
    let dir = path.is_dir();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        mode == if dir { 0o700 } else { 0o600 }
    }
    #[cfg(windows)]
    {
        let flags = if dir { 3 } else { 0 };
        let all = windows_sys::Win32::Storage::FileSystem::FILE_ALL_ACCESS;
        windows::acl_of(path) == (true, vec![(0, flags, all, true)])
    }
}

#[cfg(unix)]
mod unix {
    use super::*;
    use std::fs::Permissions;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_0600_and_an_existing_one_is_made_0600() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new");
        create_new(&new).unwrap();
        assert_eq!(mode(&new), 0o600);
        let old = dir.path().join("old");
        std::fs::write(&old, "x").unwrap();
        std::fs::set_permissions(&old, Permissions::from_mode(0o644)).unwrap();
        open_private(OpenOptions::new().write(true).truncate(true), &old).unwrap();
        assert_eq!(mode(&old), 0o600);
    }

    #[test]
    fn every_missing_folder_is_0700_and_an_existing_one_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let existing = tmp.path().join("shared");
        std::fs::create_dir(&existing).unwrap();
        std::fs::set_permissions(&existing, Permissions::from_mode(0o755)).unwrap();
        let deep = existing.join("a").join("b");
        create_private_dir_all(&deep).unwrap();
        assert_eq!(mode(&existing), 0o755);
        assert_eq!(mode(&existing.join("a")), 0o700);
        assert_eq!(mode(&deep), 0o700);
        create_private_dir_all(&deep).unwrap();
    }

    #[test]
    fn a_key_readable_by_others_is_named_with_its_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("key.pem");
        std::fs::write(&key, "k").unwrap();
        std::fs::set_permissions(&key, Permissions::from_mode(0o644)).unwrap();
        assert_eq!(loose_permissions(&key), Some(0o644));
        std::fs::set_permissions(&key, Permissions::from_mode(0o600)).unwrap();
        assert_eq!(loose_permissions(&key), None);
    }
}

#[cfg(windows)]
mod windows {
    use super::*;
    use std::os::windows::ffi::OsStrExt;
    use std::ptr::null_mut;
    use windows_sys::Win32::Foundation::{LocalFree, ERROR_SUCCESS};
    use windows_sys::Win32::Security::Authorization::{GetNamedSecurityInfoW, SE_FILE_OBJECT};
    use windows_sys::Win32::Security::{
        AclSizeInformation, EqualSid, GetAce, GetAclInformation, GetSecurityDescriptorControl,
        ACCESS_ALLOWED_ACE, ACL, ACL_SIZE_INFORMATION, DACL_SECURITY_INFORMATION,
        PSECURITY_DESCRIPTOR, SE_DACL_PROTECTED, TOKEN_USER,
    };
    use windows_sys::Win32::Storage::FileSystem::FILE_ALL_ACCESS;

    /// What the file system says about `path`: whether its list is protected from
    /// inheritance, and each entry as (type, flags, mask, is the current user).
    pub(super) fn acl_of(path: &Path) -> (bool, Vec<(u8, u8, u32, bool)>) {
        let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
        let mut dacl: *mut ACL = null_mut();
        let mut sd: PSECURITY_DESCRIPTOR = null_mut();
        let info = DACL_SECURITY_INFORMATION;
        // SAFETY: out-pointers to locals; `sd` is freed below and `dacl` points into it.
        let rc = unsafe {
            GetNamedSecurityInfoW(
                wide.as_ptr(),
                SE_FILE_OBJECT,
                info,
                null_mut(),
                null_mut(),
                &mut dacl,
                null_mut(),
                &mut sd,
            )
        };
        assert_eq!(
            rc,
            ERROR_SUCCESS,
            "GetNamedSecurityInfoW {}",
            path.display()
        );
        assert!(
            !dacl.is_null(),
            "{} has no access-control list",
            path.display()
        );
        let (mut control, mut revision) = (0u16, 0u32);
        // SAFETY: `sd` is the descriptor returned above.
        assert_ne!(
            unsafe { GetSecurityDescriptorControl(sd, &mut control, &mut revision) },
            0
        );
        let entries = entries_of(dacl);
        // SAFETY: allocated by GetNamedSecurityInfoW; `dacl` is not used after this.
        unsafe { LocalFree(sd) };
        (control & SE_DACL_PROTECTED != 0, entries)
    }

    /// Each entry of `dacl` as (type, flags, mask, is the current user).
    fn entries_of(dacl: *const ACL) -> Vec<(u8, u8, u32, bool)> {
        let user = super::super::imp::current_user().unwrap();
        // SAFETY: `user` holds a TOKEN_USER.
        let me = unsafe { (*user.as_ptr().cast::<TOKEN_USER>()).User.Sid };
        // SAFETY: ACL_SIZE_INFORMATION is plain data.
        let mut size: ACL_SIZE_INFORMATION = unsafe { std::mem::zeroed() };
        let len = std::mem::size_of::<ACL_SIZE_INFORMATION>() as u32;
        // SAFETY: `size` is as large as `len` says.
        let ok = unsafe {
            GetAclInformation(
                dacl,
                (&mut size as *mut ACL_SIZE_INFORMATION).cast(),
                len,
                AclSizeInformation,
            )
        };
        assert_ne!(ok, 0);
        let mut entries = Vec::new();
        for i in 0..size.AceCount {
            let mut ace: *mut core::ffi::c_void = null_mut();
            // SAFETY: `i` is below the entry count.
            assert_ne!(unsafe { GetAce(dacl, i, &mut ace) }, 0);
            let ace = ace.cast::<ACCESS_ALLOWED_ACE>();
            // SAFETY: every entry starts with an ACE_HEADER; for an allow entry the SID follows
            // the mask.
            let entry = unsafe {
                let sid = (&raw const (*ace).SidStart).cast_mut().cast();
                let header = (*ace).Header;
                (
                    header.AceType,
                    header.AceFlags,
                    (*ace).Mask,
                    EqualSid(sid, me) != 0,
                )
            };
            entries.push(entry);
        }
        entries
    }

    /// The list as built, before the file system gets it: the part of the owner-only files
    /// that Wine can check (it keeps no list for a file, so the tests below need Windows).
    #[test]
    fn the_list_set_has_one_full_control_entry_for_the_current_user() {
        use super::super::imp::OwnerOnlyAcl;
        use windows_sys::Win32::Security::{NO_INHERITANCE, SUB_CONTAINERS_AND_OBJECTS_INHERIT};
        let file = OwnerOnlyAcl::new(NO_INHERITANCE).unwrap();
        assert_eq!(
            entries_of(file.as_ptr()),
            vec![(0, 0, FILE_ALL_ACCESS, true)]
        );
        // OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE for a folder.
        let folder = OwnerOnlyAcl::new(SUB_CONTAINERS_AND_OBJECTS_INHERIT).unwrap();
        assert_eq!(
            entries_of(folder.as_ptr()),
            vec![(0, 3, FILE_ALL_ACCESS, true)]
        );
    }

    #[test]
    fn a_private_file_grants_only_the_current_user_and_inherits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        create_new(&path).unwrap();
        assert_eq!(acl_of(&path), (true, vec![(0, 0, FILE_ALL_ACCESS, true)]));
    }

    #[test]
    fn a_private_folder_grants_only_the_current_user_and_passes_that_on() {
        let tmp = tempfile::tempdir().unwrap();
        let existing = tmp.path().join("shared");
        std::fs::create_dir(&existing).unwrap();
        let deep = existing.join("a").join("b");
        create_private_dir_all(&deep).unwrap();
        // OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE: files made inside get the same entry.
        let private = (true, vec![(0, 3, FILE_ALL_ACCESS, true)]);
        assert_eq!(acl_of(&existing.join("a")), private);
        assert_eq!(acl_of(&deep), private);
        assert!(!acl_of(&existing).0, "an existing folder is left as it was");
    }
}
