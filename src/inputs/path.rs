//! Checks that an input path names a file before it is parsed, so a typo or a folder is
//! reported as invalid input (exit 2) with what to check, not as a bare OS error.

use std::io::ErrorKind;
use std::path::Path;

use crate::exit::InvalidInput;

/// `Ok` when `path` exists and is not a folder; `what` names it in the message
/// (`the mapping file`).
pub fn check_file(what: &str, path: &Path) -> Result<(), InvalidInput> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(InvalidInput(format!(
            "{what} {} is a folder, not a file; give the path of the CSV file inside it",
            path.display()
        ))),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let from = std::env::current_dir()
                .map(|d| format!(" (relative paths start at {})", d.display()))
                .unwrap_or_default();
            Err(InvalidInput(format!(
                "{what} {} does not exist; check the path and its spelling{from}",
                path.display()
            )))
        }
        // Anything else (permissions, a broken disk) shows up, with its OS error, on reading.
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_path_and_a_folder_are_invalid_input_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv");
        let e = check_file("the mapping file", &missing).unwrap_err().0;
        assert!(
            e.starts_with("the mapping file ") && e.contains("nope.csv does not exist"),
            "{e}"
        );
        let e = check_file("the directory file", dir.path()).unwrap_err().0;
        assert!(e.contains("is a folder, not a file"), "{e}");
        let file = dir.path().join("ok.csv");
        std::fs::write(&file, "x").unwrap();
        assert!(check_file("the mapping file", &file).is_ok());
    }
}
