//! No CSV field can add a header, a recipient or a MIME part: CR/LF, Unicode line breaks and
//! encoded-word tricks in every directory column end up as text in the parsed `.eml`; the same
//! in a mapping column is refused before anything is sent; and a directory value that spells
//! the message's own MIME boundary cannot end the text part.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mail_parser::MessageParser;
use sha2::Digest;

use super::support::{assert_never_connected, listener, preview_into, write};
use crate::harness::root;
use crate::send::helpers::Site;

/// Values that would add a header or a recipient if they reached a header unencoded, or were
/// decoded twice.
const PAYLOADS: [&str; 9] = [
    "Evil\r\nBcc: bcc1@evil.example",
    "Evil\nCc: cc2@evil.example",
    "Evil\rReply-To: rt3@evil.example",
    "=?utf-8?q?Evil=0D=0ABcc:_bcc4@evil.example?=",
    "=?utf-8?b?RXZpbA0KQmNjOiBiY2M1QGV2aWwuZXhhbXBsZQ==?=",
    "\"Evil\" <to6@evil.example>, to7@evil.example",
    "Evil\u{2028}Bcc: bcc8@evil.example",
    "Evil\u{85}Bcc: bcc9@evil.example",
    "Evil\tBcc:\tbcc10@evil.example",
];

const COLUMNS: [&str; 6] = [
    "DisplayName",
    "GivenName",
    "PreferredLanguage",
    "Mail",
    "Department",
    "JobTitle",
];

/// The headers a notice has, each exactly once.
const HEADERS: [&str; 11] = [
    "From",
    "Subject",
    "Message-ID",
    "Date",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "Content-Language",
    "Reply-To",
    "To",
    "MIME-Version",
    "Content-Type",
];

fn csv_field(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// The first `n` users of the sample mapping: (source UPN, target UPN, email).
fn sample_users(n: usize) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(root().join("sample-data/identity-map.csv")).unwrap();
    text.lines()
        .filter(|l| l.starts_with("User,"))
        .take(n)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[2].into(), f[3].into(), f[4].to_lowercase())
        })
        .collect()
}

/// A directory where every column gets every payload (rotated over the users).
fn hostile_directory(users: &[(String, String, String)]) -> String {
    let mut csv = format!("UserPrincipalName,{}\r\n", COLUMNS.join(","));
    for (i, (_, target, _)) in users.iter().enumerate() {
        let cells: Vec<String> = (0..COLUMNS.len())
            .map(|c| csv_field(PAYLOADS[(i + c) % PAYLOADS.len()]))
            .collect();
        csv.push_str(&format!("{target},{}\r\n", cells.join(",")));
    }
    csv
}

fn emls(out: &Path) -> Vec<PathBuf> {
    crate::harness::preview_files(out, "eml")
}

/// The header names of the raw message, unfolded, in order.
fn header_names(raw: &str) -> Vec<String> {
    let head = &raw[..raw.find("\r\n\r\n").expect("header/body separator")];
    head.split("\r\n")
        .filter(|l| !l.starts_with([' ', '\t']))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect()
}

/// Checks one notice: the expected headers once each, one recipient, two parts, and no header
/// value that decodes to a line break.
fn assert_clean_notice(path: &Path, recipient: &str) {
    let bytes = std::fs::read(path).unwrap();
    let raw = String::from_utf8_lossy(&bytes);
    let mut names = header_names(&raw);
    names.sort();
    let mut expected: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected, "{path:?}: headers");
    let m = MessageParser::default().parse(&bytes).expect("parses");
    let to: Vec<&str> = m.to().unwrap().iter().filter_map(|a| a.address()).collect();
    assert_eq!(to, [recipient], "{path:?}: To");
    let from = m.from().and_then(|a| a.first()).and_then(|a| a.address());
    assert_eq!(from, Some("it-migration@fabrikam.com"), "{path:?}");
    let reply_to = m
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address());
    assert_eq!(reply_to, Some("servicedesk@fabrikam.com"), "{path:?}");
    assert!(m.cc().is_none() && m.bcc().is_none(), "{path:?}");
    for (name, value) in [
        ("To name", m.to().unwrap().first().and_then(|a| a.name())),
        ("Subject", m.subject()),
    ] {
        let value = value.unwrap_or_default();
        assert!(
            !value.contains(['\r', '\n', '\u{2028}', '\u{85}']),
            "{path:?}: {name} decodes to a line break: {value:?}"
        );
    }
    assert_eq!(
        (
            m.text_body_count(),
            m.html_body_count(),
            m.attachment_count()
        ),
        (1, 1, 0),
        "{path:?}: exactly the text and the HTML part"
    );
}

#[test]
fn no_directory_column_can_add_a_header_a_recipient_or_a_line_break() {
    let tmp = tempfile::tempdir().unwrap();
    let users = sample_users(PAYLOADS.len());
    let directory = write(tmp.path(), "directory.csv", &hostile_directory(&users));
    let out = tmp.path().join("preview");
    preview_into(
        &root().join("sample-data/identity-map.csv"),
        &directory,
        &out,
    )
    .args(["--limit", &users.len().to_string()])
    .run()
    // The payloads longer than a language tag may be are input errors in PreferredLanguage
    // (the directory's field limits); preview still renders every notice, which is checked.
    .status(2)
    .contains("(PreferredLanguage): `=?utf-8?q?Evil")
    .contains("is too long for a language tag");
    let by_stem: BTreeMap<String, String> = users
        .iter()
        .map(|(source, _, email)| (source.replace('@', "_"), email.clone()))
        .collect();
    let files = emls(&out);
    assert_eq!(files.len(), users.len());
    for path in files {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let (_, recipient) = by_stem
            .iter()
            .find(|(stem, _)| name.ends_with(stem.as_str()))
            .unwrap_or_else(|| panic!("whose notice is {name}?"));
        assert_clean_notice(&path, recipient);
    }
}

/// Ways to smuggle a header into a mapping value: raw line breaks, and an encoded word that
/// decodes to one (some mail programs decode encoded words even inside an address).
const MAPPING_TRICKS: [(&str, &str); 4] = [
    ("", "\r\nBcc: x@evil.example"),
    ("", "\nBcc: x@evil.example"),
    ("", "\rCc: x@evil.example"),
    ("=?utf-8?q?a=0D=0ABcc=3A_x=40evil.example?=", ""),
];

#[test]
fn a_line_break_or_encoded_word_in_any_mapping_column_is_refused_before_anything_is_sent() {
    let l = listener();
    let site = Site::new(l.local_addr().unwrap().port());
    site.open_gate();
    let good = [
        "User",
        "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01",
        "ana@contoso.com",
        "ana@fabrikam.com",
        "ana@fabrikam.com",
        "RegularUser",
    ];
    for column in 2..5 {
        for (local, tail) in MAPPING_TRICKS {
            let mut row: Vec<String> = good.iter().map(|s| s.to_string()).collect();
            let value = match local {
                "" => good[column].to_string(),
                local => format!("{local}@{}", good[column].split_once('@').unwrap().1),
            };
            row[column] = csv_field(&format!("{value}{tail}"));
            let mapping = site.write("map.csv", &format!("{}\r\n", row.join(",")));
            site.send_mapping(&mapping, &[])
                .status(2)
                .contains(&format!("map.csv:1: column {}", column + 1))
                .contains("nothing was sent");
        }
    }
    assert_never_connected(&l);
}

#[test]
fn a_line_break_in_a_directory_onedrive_url_is_refused_before_anything_is_sent() {
    let l = listener();
    let site = Site::new(l.local_addr().unwrap().port());
    site.open_gate();
    let users = sample_users(1);
    let target = &users[0].1;
    let url = "https://fabrikam-my.sharepoint.com/personal/ana";
    for tail in [
        "\r\n\r\n--=_t2t_x\r\nContent-Type: text/html\r\n\r\n<b>x</b>",
        "\tx",
        " x",
    ] {
        let directory = site.write(
            "dir.csv",
            &format!(
                "UserPrincipalName,OneDriveUrl\r\n{target},{}\r\n",
                csv_field(&format!("{url}{tail}"))
            ),
        );
        site.t2t()
            .args(["send", "--limit", "1", "--mapping"])
            .arg(root().join("sample-data/identity-map.csv"))
            .arg("--directory")
            .arg(&directory)
            .run()
            .status(2)
            .contains("dir.csv:2: column 2 (OneDriveUrl)")
            .contains("nothing was sent");
    }
    assert_never_connected(&l);
}

/// The boundary lettre uses for a notice (`render::message`): derived from the Message-ID.
fn boundary_of(source_upn: &str) -> String {
    let id = t2t_notify::render::message::message_id(
        "post-migration",
        source_upn,
        false,
        "fabrikam.com",
    );
    let digest = sha2::Sha256::digest(id.as_bytes());
    format!("=_t2t_{}", hex::encode(&digest[..12]))
}

#[test]
fn a_value_that_spells_the_mime_boundary_cannot_end_the_text_part() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    copy_tree(&root().join("templates"), &templates);
    // Short ASCII lines, the name alone on its line: lettre would send this part as 7bit.
    std::fs::write(
        templates.join("en/text.hbs"),
        "Hello,\n\n{{recipient.name}}\n\nYour OneDrive has moved:\n{{links.onedrive}}\n",
    )
    .unwrap();
    let users = sample_users(1);
    let (source, target, email) = &users[0];
    let name = format!("--{}--", boundary_of(source));
    let directory = write(
        tmp.path(),
        "dir.csv",
        &format!("UserPrincipalName,DisplayName\r\n{target},{name}\r\n"),
    );
    let out = tmp.path().join("preview");
    preview_into(
        &root().join("sample-data/identity-map.csv"),
        &directory,
        &out,
    )
    .env("T2T_NOTIFY_MESSAGE_TEMPLATES", templates.to_str().unwrap())
    .args(["--limit", "1"])
    .run()
    .status(0);
    let files = emls(&out);
    assert_clean_notice(&files[0], email);
    let bytes = std::fs::read(&files[0]).unwrap();
    let m = MessageParser::default().parse(&bytes).unwrap();
    assert!(
        m.body_text(0).unwrap().contains(&name),
        "the name is text in the text part"
    );
}

/// Copies a folder with everything in it.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
