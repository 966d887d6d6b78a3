//! The optional user directory CSV (`--directory`): a header row, e.g. the output of
//! `Get-MgUser -All | Select UserPrincipalName,DisplayName,GivenName,PreferredLanguage,Mail |
//! Export-Csv`, with or without Windows PowerShell's `#TYPE` first line. Known columns feed the
//! notice (name, language, OneDrive URL); any other column is kept for templates. Rows and
//! known columns have length limits ([`MAX_ROW_BYTES`], and what Entra ID or the column's
//! standard allows).

use std::collections::HashMap;
use std::io;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::text;
use crate::diag::{quote, Column, Diagnostics, Severity};
use crate::inputs::address::{MAX_EMAIL_LEN, MAX_UPN_LEN};

/// One person in the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirectoryEntry {
    pub line: u64,
    pub upn: String,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub preferred_language: Option<String>,
    pub onedrive_url: Option<String>,
    pub mail: Option<String>,
    /// Every other column, by its header name, for templates (`{{directory.Department}}`),
    /// in the file's order. A list sharing the header's names, not a map: a map's node per
    /// row made these columns the largest part of a 100,000-user send's memory.
    pub extra: Vec<(Arc<str>, String)>,
}

/// The directory, indexed by lower-case UPN.
#[derive(Debug, Default)]
pub struct Directory {
    pub file: Arc<str>,
    /// Shared with the recipients they belong to, not copied: a 100,000-user send holds each
    /// row once.
    pub entries: Vec<Arc<DirectoryEntry>>,
    by_upn: HashMap<String, usize>,
    /// False when the header row was missing or had no UserPrincipalName column: that one
    /// error says it all, so nobody is reported as missing from it.
    pub usable: bool,
    /// The OneDriveUrl column, for diagnostics about its values.
    pub onedrive_column: Option<Column>,
}

impl Directory {
    /// The entry for a user, looked up by target UPN first, then source UPN (case-insensitive).
    pub fn lookup(&self, source_upn: &str, target_upn: &str) -> Option<usize> {
        self.rows_of(source_upn, target_upn).next()
    }

    /// Every row that belongs to a user: the target UPN's, then the source UPN's.
    pub fn rows_of<'a>(
        &'a self,
        source_upn: &'a str,
        target_upn: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        [target_upn, source_upn]
            .into_iter()
            .filter_map(|u| self.by_upn.get(&u.to_lowercase()).copied())
    }
}

enum Known {
    Upn,
    DisplayName,
    GivenName,
    PreferredLanguage,
    OneDriveUrl,
    Mail,
    Extra(Arc<str>),
}

fn known(header: &str) -> Known {
    match header.to_ascii_lowercase().as_str() {
        "userprincipalname" | "upn" => Known::Upn,
        "displayname" => Known::DisplayName,
        "givenname" => Known::GivenName,
        "preferredlanguage" => Known::PreferredLanguage,
        "onedriveurl" => Known::OneDriveUrl,
        "mail" => Known::Mail,
        _ => Known::Extra(header.into()),
    }
}

/// The most bytes one row may have: far more than the known columns within their limits and
/// a few extra columns need, and small enough that a damaged or wrong file never fills
/// memory (the reader cuts the row there, see `text::bounded`).
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// Longest displayName and givenName Entra ID accepts.
pub const MAX_NAME_LEN: usize = 256;
/// Longest language tag worth reading (RFC 5646 asks implementations to take 35 characters;
/// Entra's preferredLanguage values are like `de-AT`).
pub const MAX_LANGUAGE_LEN: usize = 35;
/// Longest OneDrive URL: the length browsers and SharePoint links are safe to carry.
pub const MAX_URL_LEN: usize = 2048;

/// The error for a value longer than its known column allows, or `None` (other columns are
/// templates' extras, bounded by the row limit only).
fn too_long(kind: &Known, value: &str) -> Option<String> {
    let (max, what) = match kind {
        Known::Upn => (MAX_UPN_LEN, "a user principal name"),
        Known::DisplayName => (MAX_NAME_LEN, "a display name"),
        Known::GivenName => (MAX_NAME_LEN, "a given name"),
        Known::PreferredLanguage => (MAX_LANGUAGE_LEN, "a language tag like de-AT"),
        Known::OneDriveUrl => (MAX_URL_LEN, "a OneDrive URL"),
        Known::Mail => (MAX_EMAIL_LEN, "an email address"),
        Known::Extra(_) => return None,
    };
    (value.chars().count() > max).then(|| {
        format!(
            "{} is too long for {what} (at most {max} characters); check that this column holds what it should and correct the value in the directory",
            quote(value)
        )
    })
}

/// Reads the directory at `path`; problems are returned, never stop at the first.
pub fn read(path: &Path) -> io::Result<(Directory, Diagnostics)> {
    read_from(std::fs::File::open(path)?, &path.display().to_string())
}

/// Like [`read`], for the bytes of `reader`; diagnostics name the file `name`.
pub fn read_from(
    reader: impl io::Read + Send + 'static,
    name: &str,
) -> io::Result<(Directory, Diagnostics)> {
    let opened = text::from_reader_bounded(reader, Some(MAX_ROW_BYTES))?;
    let file: Arc<str> = name.into();
    let mut diags = Diagnostics::default();
    let mut dir = Directory {
        file: file.clone(),
        ..Directory::default()
    };
    let mut header: Option<(Vec<Known>, Vec<String>)> = None;
    let mut legacy_warned = false;
    text::read_records(opened, |record, line, cut| {
        let mut legacy = false;
        let fields: Vec<String> = record
            .iter()
            .map(|b| {
                let (text, not_utf8) = text::decode_field(b);
                legacy |= not_utf8;
                text.trim().to_string()
            })
            .collect();
        if legacy && !legacy_warned {
            legacy_warned = true;
            diags.warning(&file, Some(line), "the file is not UTF-8; read as Windows-1252 (Excel's \"CSV (Comma delimited)\" or Export-Csv in Windows PowerShell 5.1 without -Encoding); export it with -Encoding utf8 so that names outside Western Europe survive");
        }
        if fields.iter().all(String::is_empty) {
            return ControlFlow::Continue(());
        }
        match &header {
            None if fields[0].starts_with("#TYPE") => {}
            None if cut.is_some() => {
                diags.error(&file, Some(line), format!("the header row passes {} KB; this is not a directory export: export with Select UserPrincipalName,DisplayName,GivenName,PreferredLanguage,Mail", MAX_ROW_BYTES / 1024));
                return ControlFlow::Break(());
            }
            None => {
                let kinds: Vec<Known> = fields.iter().map(|h| known(h)).collect();
                if !kinds.iter().any(|k| matches!(k, Known::Upn)) {
                    diags.error(&file, Some(line), format!(
                        "the header row has no UserPrincipalName column (found {}); export with Select UserPrincipalName,DisplayName,GivenName,PreferredLanguage,Mail",
                        quote(&fields.join(","))
                    ));
                    return ControlFlow::Break(());
                }
                dir.usable = true;
                dir.onedrive_column = kinds
                    .iter()
                    .position(|k| matches!(k, Known::OneDriveUrl))
                    .map(|i| Column {
                        index: i + 1,
                        name: fields[i].clone(),
                    });
                header = Some((kinds, fields));
            }
            Some((kinds, names)) => {
                let header = (kinds.as_slice(), names.as_slice());
                if let Some(entry) = entry_from(line, &fields, cut, header, &file, &mut diags) {
                    add(&mut dir, entry, &file, &mut diags);
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    // Rows before the header are blank or `#TYPE`: an error here is the header's own.
    if header.is_none() && !diags.has_errors() {
        diags.error(&file, None, "the directory file is empty; it needs a header row with UserPrincipalName and one row per user");
    }
    Ok((dir, diags))
}

/// One data row as an entry: `fields` trimmed, `cut` the field the reader cut, if any.
fn entry_from(
    line: u64,
    fields: &[String],
    cut: Option<usize>,
    (kinds, names): (&[Known], &[String]),
    file: &Arc<str>,
    diags: &mut Diagnostics,
) -> Option<DirectoryEntry> {
    let mut e = DirectoryEntry {
        line,
        ..DirectoryEntry::default()
    };
    if fields.len() != kinds.len() {
        let (found, expected) = (fields.len(), kinds.len());
        diags.error(file, Some(line), format!(
            "the row has {found} fields, the header has {expected}; quote values that contain the separator"
        ));
        return None;
    }
    // A UPN that is too long, or was not read, drops the row after every error is told.
    let mut upn_lost = false;
    for (i, (kind, value)) in kinds.iter().zip(fields).enumerate() {
        let column = Some((i + 1, names[i].as_str()));
        let mut push = |severity, message: String| {
            diags.add(severity, file, Some(line), column, message);
        };
        let is_upn = matches!(kind, Known::Upn);
        let message = match cut {
            Some(c) if i > c => {
                upn_lost |= is_upn;
                continue;
            }
            // The reader cut the row at MAX_ROW_BYTES in this field.
            Some(c) if i == c => Some(format!(
                "is too long: the row passes {} KB here and the rest of it was not read (a directory row holds a UPN, names, a language tag, an address and a URL); check that this is the directory export and that this column holds what it should",
                MAX_ROW_BYTES / 1024
            )),
            _ => too_long(kind, value),
        };
        if let Some(message) = message {
            upn_lost |= is_upn;
            push(Severity::Error, message);
            continue;
        }
        let some = (!value.is_empty()).then(|| value.clone());
        match kind {
            Known::Upn => e.upn = value.clone(),
            Known::DisplayName | Known::GivenName if some.as_deref().is_some_and(has_link) => {
                // A link in a name would be a clickable link in every notice that greets them.
                push(Severity::Error, format!("{} contains a web address; a name must not (the notice would show it as a link): correct the name in the directory", quote(value)));
            }
            Known::DisplayName => e.display_name = some,
            Known::GivenName => e.given_name = some,
            Known::Mail => e.mail = some,
            Known::PreferredLanguage if some.as_deref().is_some_and(|l| !is_language_tag(l)) => {
                let tag = quote(value);
                let message =
                    format!("{tag} is not a language tag like de-AT; the default locale is used");
                push(Severity::Warning, message);
            }
            Known::PreferredLanguage => e.preferred_language = some,
            Known::OneDriveUrl => match &some {
                // The row stays (so the user still joins); the error makes the input invalid.
                // URL parsing drops line breaks and tabs, so they are looked for first: the raw
                // value is what the notice shows.
                Some(url) if url.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                    push(Severity::Error, format!("{} contains a line break, tab or space; write the address on one line (a space as %20)", quote(url)));
                }
                Some(url) if !url.starts_with("https://") || url::Url::parse(url).is_err() => {
                    push(Severity::Error, format!("{} is not an https URL; write the user's new OneDrive address or leave it empty", quote(url)));
                }
                _ => e.onedrive_url = some,
            },
            Known::Extra(name) => {
                e.extra.push((Arc::clone(name), value.clone()));
            }
        }
    }
    if upn_lost {
        return None;
    }
    if e.upn.is_empty() {
        let idx = kinds
            .iter()
            .position(|k| matches!(k, Known::Upn))
            .unwrap_or(0);
        let column = Some((idx + 1, names[idx].as_str()));
        let message = "is empty; every row needs the user's UPN";
        diags.add(Severity::Error, file, Some(line), column, message);
        return None;
    }
    Some(e)
}

fn add(dir: &mut Directory, entry: DirectoryEntry, file: &Arc<str>, diags: &mut Diagnostics) {
    let key = entry.upn.to_lowercase();
    if let Some(&first) = dir.by_upn.get(&key) {
        let first_line = dir.entries[first].line;
        let upn = quote(&entry.upn);
        let message =
            format!("{upn} already has a row on line {first_line}; keep one row per user");
        diags.error(file, Some(entry.line), message);
        return;
    }
    dir.by_upn.insert(key, dir.entries.len());
    dir.entries.push(Arc::new(entry));
}

/// True when `s` holds something a mail reader shows as a link (`scheme://` or `www.`), as
/// the notices' link check finds them.
fn has_link(s: &str) -> bool {
    s.contains("://") || s.to_ascii_lowercase().contains("www.")
}

/// A BCP 47 tag as Entra stores it: `de`, `de-AT`, `zh-Hant-TW`.
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split(['-', '_']);
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_bytes(content: &[u8]) -> (Directory, Diagnostics) {
        read_from(io::Cursor::new(content.to_vec()), "d.csv").unwrap()
    }

    /// Asserts that message `i` of `m` contains `part`.
    fn assert_has(m: &[String], i: usize, part: &str) {
        assert!(
            m.get(i).is_some_and(|x| x.contains(part)),
            "{i}: {part}: {m:?}"
        );
    }

    /// The directory read from `content`, and its errors as shown.
    fn errors_of(content: &[u8]) -> (Directory, Vec<String>) {
        let (dir, diags) = read_bytes(content);
        (dir, diags.errors().map(|d| d.to_string()).collect())
    }

    #[test]
    fn reads_powershell_export_with_type_line() {
        let (dir, diags) = read_bytes(b"#TYPE Selected.Microsoft.Graph.PowerShell.Models.MicrosoftGraphUser\r\n\"UserPrincipalName\",\"DisplayName\",\"GivenName\",\"PreferredLanguage\",\"Department\"\r\n\"ana@fabrikam.com\",\"Ana Mart\xc3\xadnez\",\"Ana\",\"es-ES\",\"Sales\"\r\n");
        assert!(diags.is_empty(), "{diags:?}");
        let e = &dir.entries[dir.lookup("x@y.com", "ANA@fabrikam.com").unwrap()];
        assert_eq!(e.display_name.as_deref(), Some("Ana Martínez"));
        assert_eq!(e.preferred_language.as_deref(), Some("es-ES"));
        assert_eq!(e.extra, [("Department".into(), "Sales".to_string())]);
    }

    #[test]
    fn windows_1252_is_read_with_one_warning_on_its_first_line() {
        let (dir, diags) = read_bytes(b"UserPrincipalName,DisplayName\r\nana@fabrikam.com,Ana Mart\xednez\r\nzoe@fabrikam.com,Zo\xeb\r\n");
        assert_eq!(dir.entries[1].display_name.as_deref(), Some("Zoë"));
        let text = format!("{diags:?}");
        assert_eq!(text.matches("Windows-1252").count(), 1, "{text}");
        assert!(diags.errors().next().is_none(), "{text}");
        assert!(text.contains("line: Some(2)"), "{text}");
    }

    #[test]
    fn reports_missing_upn_column_duplicates_and_bad_urls() {
        let (_, diags) = read_bytes(b"Name,Mail\nx,y\n");
        let first = &diags.errors().next().unwrap().message;
        assert!(first.contains("UserPrincipalName"), "{first}");

        let (dir, diags) =
            read_bytes(b"UserPrincipalName,OneDriveUrl\nb@b.com,http://x\na@b.com,\nA@B.COM,\n");
        let kept = &dir.entries[dir
            .lookup("x@y.com", "b@b.com")
            .expect("row with a bad URL still joins")];
        assert_eq!(kept.onedrive_url, None);
        let errors: Vec<String> = diags.errors().map(|d| d.to_string()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_has(&errors, 0, ":2: column 2 (OneDriveUrl)");
        assert_has(&errors, 1, ":4: ");
        assert_has(&errors, 1, "line 3");
    }

    #[test]
    fn a_onedrive_url_with_a_line_break_or_space_is_an_error() {
        let (dir, errors) = errors_of(b"UserPrincipalName,OneDriveUrl\na@b.com,\"https://b-my.sharepoint.com/personal/a\r\nBcc: x@evil.example\"\nc@b.com,https://b-my.sharepoint.com/personal/c\td\ne@b.com,https://b-my.sharepoint.com/personal/e f\n");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors
            .iter()
            .all(|e| e.contains("(OneDriveUrl)") && e.contains("line break, tab or space")));
        assert!(dir.entries.iter().all(|e| e.onedrive_url.is_none()));
    }

    #[test]
    fn a_web_address_in_a_name_is_an_error_on_its_line_and_column() {
        let (dir, errors) = errors_of(b"UserPrincipalName,DisplayName,GivenName\na@b.com,Ana https://evil.example/x,Ana\nc@b.com,Carl,www.evil.example\n");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_has(&errors, 0, ":2: column 2 (DisplayName)");
        assert_has(&errors, 1, ":3: column 3 (GivenName)");
        assert!(errors.iter().all(|e| e.contains("contains a web address")));
        assert_eq!(dir.entries.len(), 2, "the rows still join");
        assert_eq!(dir.entries[0].display_name, None);
    }

    #[test]
    fn rows_of_finds_both_the_target_and_the_source_row() {
        let (dir, diags) = read_bytes(b"UserPrincipalName\na@contoso.com\nA@fabrikam.com\n");
        assert!(diags.is_empty(), "{diags:?}");
        let rows: Vec<usize> = dir.rows_of("a@contoso.com", "a@fabrikam.com").collect();
        assert_eq!(rows, [1, 0]);
        assert!(dir.usable);
        let (dir, _) = read_bytes(b"Mail\nx@y.com\n");
        assert!(!dir.usable);
    }

    #[test]
    fn each_known_column_has_a_limit_and_every_error_is_located() {
        let long = |n: usize| "x".repeat(n);
        let text = format!(
            "UserPrincipalName,DisplayName,GivenName,PreferredLanguage,Mail,OneDriveUrl,Note\n\
             {}@b.com,Ann,Ann,de,a@b.com,,\n\
             b@b.com,{},Bo,de,b@b.com,,\n\
             c@b.com,Cy,{},de,c@b.com,,\n\
             d@b.com,Di,Di,de-{},d@b.com,,\n\
             e@b.com,Ed,Ed,de,{}@b.com,,\n\
             f@b.com,Fe,Fe,de,f@b.com,https://b-my.sharepoint.com/{},\n\
             g@b.com,{},Gi,de,g@b.com,,{}\n",
            long(110),
            long(257),
            long(257),
            long(40),
            long(250),
            long(2048),
            long(256),
            long(2000),
        );
        let (dir, errors) = errors_of(text.as_bytes());
        let expected = [
            ":2: column 1 (UserPrincipalName)",
            ":3: column 2 (DisplayName)",
            ":4: column 3 (GivenName)",
            ":5: column 4 (PreferredLanguage)",
            ":6: column 5 (Mail)",
            ":7: column 6 (OneDriveUrl)",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:?}");
        for (e, at) in errors.iter().zip(expected) {
            assert!(e.contains(at) && e.contains("is too long for"), "{e}");
        }
        assert!(errors[1].contains("at most 256 characters"), "{errors:?}");
        let upns: Vec<&str> = dir.entries.iter().map(|e| e.upn.as_str()).collect();
        assert_eq!(upns[0], "b@b.com", "a row whose UPN is too long is dropped");
        assert_eq!(
            dir.entries[0].display_name, None,
            "the long name is not used"
        );
        assert_eq!(dir.entries[5].display_name.as_deref(), Some(&*long(256)));
    }

    #[test]
    fn a_row_past_the_row_limit_is_cut_at_its_field_and_reading_goes_on() {
        let huge = "n".repeat(MAX_ROW_BYTES + 10);
        let text = format!(
            "UserPrincipalName,DisplayName,Mail\na@b.com,\"{huge}\",a@b.com\nb@b.com,{huge},\nc@b.com,Cy,{}@b.com\nd@b.com,Di,d@b.com\n",
            "m".repeat(300)
        );
        let (dir, errors) = errors_of(text.as_bytes());
        assert_eq!(errors.len(), 3, "{errors:?}");
        let cut = "column 2 (DisplayName): is too long: the row passes 64 KB";
        assert_has(&errors, 0, &format!(":2: {cut}"));
        assert_has(&errors, 1, &format!(":3: {cut}"));
        assert_has(&errors, 2, ":4: column 3 (Mail)");
        let d = &dir.entries[dir.lookup("x@y.com", "d@b.com").unwrap()];
        assert_eq!((d.line, d.display_name.as_deref()), (5, Some("Di")));
        assert_eq!(dir.entries[0].mail, None, "nothing after the cut is used");
    }

    #[test]
    fn language_tags() {
        assert!(is_language_tag("de"));
        assert!(is_language_tag("de-AT"));
        assert!(is_language_tag("zh-Hant-TW"));
        assert!(!is_language_tag("German"));
        assert!(!is_language_tag(""));
    }
}
