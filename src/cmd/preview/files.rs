//! Private output for `preview`: folders 0700 and files 0600 (they hold people's addresses),
//! one `.eml`, `.html` and `.txt` per person under `messages/`, and the streamed list rows.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The extensions preview writes into `messages/`; only these are removed on a re-run.
const OWN_EXTENSIONS: [&str; 3] = ["eml", "html", "txt"];

/// Creates `dir` (and parents) if missing; every folder preview creates is readable by its
/// owner only.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    crate::private_dir::create_dir_all(dir)
}

/// Opens `path` for writing, truncated, with mode 0600 even when it existed before. A new file
/// is created with that mode (umask can only take bits away); only a file that already existed
/// needs its mode set again.
pub fn create_private(path: &Path) -> io::Result<File> {
    match open_private(path, true) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let file = open_private(path, false)?;
            #[cfg(unix)]
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            Ok(file)
        }
        other => other,
    }
}

fn open_private(path: &Path, new: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    if new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes a whole private file.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    create_private(path)?.write_all(bytes)
}

/// The `messages/` folder of an output folder, emptied of an earlier preview's files.
pub fn messages_dir(out: &Path) -> io::Result<PathBuf> {
    let dir = out.join("messages");
    create_private_dir(&dir)?;
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        let own = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| OWN_EXTENSIONS.contains(&e));
        if own && path.is_file() {
            fs::remove_file(&path)?;
        }
    }
    Ok(dir)
}

/// A file name stem for person number `n`: `000042-ana.martinez0_contoso.com`.
pub fn stem(n: usize, source_upn: &str) -> String {
    let slug: String = source_upn
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{n:06}-{slug}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_file_names() {
        assert_eq!(
            stem(
                7,
                "Noah.Novak9_partner.example#EXT#@contoso.onmicrosoft.com"
            ),
            "000007-noah.novak9_partner.example_ext__contoso.onmicrosoft.com"
        );
        assert_eq!(stem(1, "../../etc/passwd"), "000001-.._.._etc_passwd");
    }

    #[cfg(unix)]
    #[test]
    fn folders_and_files_are_private_and_rerun_cleans_own_files() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("a/preview");
        create_private_dir(&out).unwrap();
        let messages = messages_dir(&out).unwrap();
        fs::write(messages.join("old.eml"), "x").unwrap();
        fs::write(messages.join("keep.md"), "x").unwrap();
        let file = messages.join("x.html");
        fs::write(&file, "loose").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&file, b"new").unwrap();
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            fs::metadata(&messages).unwrap().permissions().mode() & 0o777,
            0o700
        );
        messages_dir(&out).unwrap();
        assert!(!messages.join("old.eml").exists() && !file.exists());
        assert!(messages.join("keep.md").exists());
    }
}
