//! Private output for `preview`: folders 0700 and files 0600 (they hold people's addresses),
//! one `.eml` and `.html` per person in numbered folders under `messages/`, one page of text
//! parts per folder, and the streamed list rows.

use std::fs::File;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::platform::create_private_dir_all;

/// Each folder's page of text parts.
pub const TEXT_PAGE: &str = "text.html";

/// The text page shows the part named by the URL's fragment, or all of them without one.
const TEXT_PAGE_HEAD: &str = concat!(
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Plain-text parts</title>\n",
    "<style>body{margin:0;padding:12px 16px;color:#1f2328;background:#fff}",
    "pre{display:none;margin:0 0 24px 0;white-space:pre-wrap;",
    "font:14px/1.45 ui-monospace,Consolas,monospace}",
    "pre:target,body:not(:has(pre:target)) pre{display:block}</style>\n</head><body>\n"
);

/// The plain-text parts of one folder's people as one page, each in a `<pre id="p000042">`
/// shown by `text.html#p000042`: the gallery's text view costs one file per folder, not one
/// per person.
pub struct TextPage {
    html: String,
}

impl TextPage {
    pub fn new() -> Self {
        TextPage {
            html: TEXT_PAGE_HEAD.to_string(),
        }
    }

    /// Adds person number `n`'s text part; returns its anchor.
    pub fn add(&mut self, n: usize, text: &str) -> String {
        let anchor = format!("p{n:06}");
        self.html.push_str(&format!("<pre id=\"{anchor}\">"));
        self.html.push_str(&crate::render::gallery::escape(text));
        self.html.push_str("</pre>\n");
        anchor
    }

    /// True until a part is added.
    pub fn is_empty(&self) -> bool {
        self.html.len() == TEXT_PAGE_HEAD.len()
    }

    /// Writes the page, private.
    pub fn write(mut self, path: &Path) -> io::Result<()> {
        self.html.push_str("</body></html>\n");
        write_private(path, self.html.as_bytes())
    }
}

/// Opens `path` for writing, truncated, owner-only (0600) even when it existed before.
pub fn create_private(path: &Path) -> io::Result<File> {
    crate::platform::open_private(
        OpenOptions::new().write(true).create(true).truncate(true),
        path,
    )
}

/// Writes a whole private file.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    create_private(path)?.write_all(bytes)
}

/// The `messages/` folder of an output folder, created if missing (what an earlier preview
/// wrote there was removed by `marker::prepare`).
pub fn messages_dir(out: &Path) -> io::Result<PathBuf> {
    let dir = out.join("messages");
    create_private_dir_all(&dir)?;
    Ok(dir)
}

/// A file name stem for person number `n`: `000042-ana.martinez0_contoso.com`.
pub fn stem(n: usize, source_upn: &str) -> String {
    let slug: String = source_upn
        .to_lowercase()
        .chars()
        .map(crate::notify::file::file_name_char)
        .take(80)
        .collect();
    format!("{n:06}-{slug}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_page_escapes_and_anchors_each_part() {
        let mut page = TextPage::new();
        assert!(page.is_empty());
        assert_eq!(page.add(42, "a <b> & c"), "p000042");
        assert!(page
            .html
            .ends_with("<pre id=\"p000042\">a &lt;b&gt; &amp; c</pre>\n"));
        assert!(!page.is_empty());
    }

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
    fn folders_and_files_are_private() {
        use std::fs;
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("a/preview");
        create_private_dir_all(&out).unwrap();
        let messages = messages_dir(&out).unwrap();
        let file = messages.join("x.html");
        fs::write(&file, "loose").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&file, b"new").unwrap();
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        for dir in [&out, &messages] {
            assert_eq!(
                fs::metadata(dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }
}
