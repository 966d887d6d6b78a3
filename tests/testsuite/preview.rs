//! `preview` on the shipped sample data and on broken inputs and templates: every `.eml`
//! parses back cleanly, problems give exit 2 while everything renderable is still written.

mod browser;
mod guests;
mod widths;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::harness::*;

/// Runs `preview` of the sample data into `out` with extra arguments.
fn preview(out: &Path, mapping: &Path, directory: Option<&Path>, extra: &[&str]) -> T2t {
    let mut t = t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["preview", "--mapping"])
        .arg(mapping);
    if let Some(d) = directory {
        t = t.arg("--directory").arg(d);
    }
    t.arg("--out").arg(out).args(extra)
}

fn sample_mapping() -> PathBuf {
    root().join("sample-data/identity-map.csv")
}

fn sample_directory() -> PathBuf {
    root().join("sample-data/directory.csv")
}

fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    crate::harness::preview_files(dir, ext)
}

/// Source UPNs of the `User` rows of a mapping file.
pub fn user_upns(mapping: &Path) -> Vec<String> {
    std::fs::read_to_string(mapping)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("User,"))
        .map(|l| l.split(',').nth(2).unwrap().to_string())
        .collect()
}

#[test]
fn every_eml_of_the_sample_preview_parses_back_without_defects() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("preview");
    preview(&out, &sample_mapping(), Some(&sample_directory()), &[])
        .run()
        .status(0)
        .contains("30 of 30 notices rendered")
        .contains("nothing was sent");
    let emls = files_with(&out, "eml");
    assert_eq!(emls.len(), 30);
    assert_eq!(files_with(&out, "html").len(), 30);
    let mut ids = HashSet::new();
    for path in &emls {
        let bytes = std::fs::read(path).unwrap();
        let raw = String::from_utf8(bytes.clone()).expect("7-bit/UTF-8 message");
        let head = &raw[..raw.find("\r\n\r\n").expect("header/body separator")];
        assert_eq!(
            head.matches("\r\nMIME-Version:").count()
                + usize::from(head.starts_with("MIME-Version:")),
            1,
            "{path:?}"
        );
        assert!(
            head.lines().all(|l| l.len() <= 998),
            "{path:?}: header line too long"
        );
        let m = mail_parser::MessageParser::default()
            .parse(&bytes)
            .expect("parse");
        let to = m.to().and_then(|t| t.first()).expect("To");
        assert!(
            to.address().is_some_and(|a| a.ends_with("@fabrikam.com")),
            "{path:?}: {to:?}"
        );
        assert!(
            ids.insert(m.message_id().expect("Message-ID").to_string()),
            "duplicate Message-ID in {path:?}"
        );
        assert_eq!(m.text_body_count(), 1, "{path:?}");
        assert_eq!(m.html_body_count(), 1, "{path:?}");
        let text = m.body_text(0).expect("text part");
        let html = m.body_html(0).expect("html part");
        assert!(
            text.contains("@fabrikam.com") && !text.contains("<p"),
            "{path:?}"
        );
        assert!(html.contains("<html lang=\""), "{path:?}");
        assert_eq!(
            m.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated")
        );
        assert_eq!(
            m.header_raw("X-Auto-Response-Suppress").map(str::trim),
            Some("All")
        );
        let html_file = path.with_extension("html");
        assert_eq!(
            std::fs::read_to_string(html_file)
                .unwrap()
                .replace('\n', "\r\n")
                .trim_end(),
            html.trim_end()
        );
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    for upn in user_upns(&sample_mapping()) {
        assert!(index.contains(&upn), "{upn} missing from index.html");
    }
}

#[cfg(unix)]
#[test]
fn output_folders_are_0700_and_files_0600() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("preview");
    preview(
        &out,
        &sample_mapping(),
        Some(&sample_directory()),
        &["--limit", "3"],
    )
    .run()
    .status(0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&out.join("messages")), 0o700);
    assert_eq!(mode(&out.join("index.html")), 0o600);
    let folder = out.join("messages/000");
    assert_eq!(mode(&folder), 0o700);
    let all: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(all.len(), 7, "3 people x eml, html, and the text page");
    assert!(all.iter().all(|p| mode(p) == 0o600));
}

#[test]
fn one_user_prints_to_the_terminal() {
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["preview", "--mapping"])
        .arg(sample_mapping())
        .arg("--directory")
        .arg(sample_directory())
        .args(["--user", "ZOE.GARCIA2@fabrikam.com"])
        .run()
        .status(0)
        .contains("Subject: Ihr OneDrive ist in Ihr neues Konto bei Fabrikam umgezogen")
        .contains("Hallo Zoë,")
        .contains("Link check: ok");
}

#[test]
fn without_out_more_than_one_user_is_a_usage_error() {
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["preview", "--mapping"])
        .arg(sample_mapping())
        .run()
        .status(2)
        .contains("pass exactly one --user");
}

#[test]
fn unknown_user_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    preview(
        tmp.path(),
        &sample_mapping(),
        None,
        &[
            "--user",
            "nobody@contoso.com",
            "--user",
            "ana.martinez0@contoso.com",
        ],
    )
    .run()
    .status(2)
    .contains("--user nobody@contoso.com: this user is not in the mapping file");
    assert_eq!(files_with(tmp.path(), "eml").len(), 1);
}

#[test]
fn one_unknown_user_without_out_says_it_is_not_in_the_mapping_with_near_matches() {
    let run = t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["preview", "--mapping"])
        .arg(sample_mapping())
        .args(["--user", "nobody@contoso.com"])
        .run()
        .status(2)
        .contains("--user nobody@contoso.com: this user is not in the mapping file")
        .contains("identity-map.csv");
    assert!(
        !run.stderr().contains("pass exactly one --user"),
        "{}",
        run.stderr()
    );
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["preview", "--mapping"])
        .arg(sample_mapping())
        .args(["--user", "ana.martinez@contoso.com"])
        .run()
        .status(2)
        .contains("did you mean ana.martinez0@contoso.com?");
}

#[test]
fn look_alike_onedrive_url_fails_the_link_check_but_the_rest_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let run = preview(tmp.path(), &fixture("preview/two-users.csv"), Some(&fixture("preview/look-alike-directory.csv")), &[])
        .run()
        .status(2)
        .contains("template en/text: https://contoso-my.sharepoint.com.evil.example/personal/ana: host contoso-my.sharepoint.com.evil.example is not one of");
    assert!(
        run.stderr().contains("(ana.martinez0@contoso.com)"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        files_with(tmp.path(), "eml").len(),
        2,
        "link problems still render, so the admin can see them"
    );
    let index = std::fs::read_to_string(tmp.path().join("index.html")).unwrap();
    assert!(
        index.contains("Problems to fix before sending (3)"),
        "text and html problems, and the directory's line"
    );
    assert!(
        run.stderr()
            .contains("look-alike-directory.csv:2: column 5 (OneDriveUrl)"),
        "{}",
        run.stderr()
    );
    assert!(index.contains("contoso-my.sharepoint.com.evil.example"));
}

#[test]
fn invalid_rows_are_listed_and_valid_rows_still_rendered() {
    let tmp = tempfile::tempdir().unwrap();
    preview(tmp.path(), &fixture("preview/bad-rows.csv"), None, &[])
        .run()
        .status(2)
        .contains("bad-rows.csv:2: column 3 (source UPN)");
    assert_eq!(files_with(tmp.path(), "eml").len(), 2);
    let index = std::fs::read_to_string(tmp.path().join("index.html")).unwrap();
    assert!(index.contains("bad-rows.csv:2: column 3 (source UPN)"));
}

/// Copies the shipped templates to `dir` and appends `line` to one of them.
fn broken_templates(dir: &Path, file: &str, line: &str) {
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(root().join("templates/."))
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
    let path = dir.join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(line);
    std::fs::write(path, text).unwrap();
}

#[test]
fn strict_mode_missing_variable_fails_with_template_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    broken_templates(
        &templates,
        "de/text/sharing-links.hbs",
        "Abteilung: {{recipient.directory.Abteilung}}\n",
    );
    let out = tmp.path().join("out");
    let run = preview(&out, &sample_mapping(), Some(&sample_directory()), &[])
        .env("T2T_NOTIFY_MESSAGE_TEMPLATES", &templates)
        .run()
        .status(2)
        .contains("template de/text/sharing-links, line 8, column 12: `recipient.directory.Abteilung` is not a known variable");
    assert!(
        run.stderr()
            .contains("(13 people, e.g. jose.dubois1@contoso.com)"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        files_with(&out, "eml").len(),
        17,
        "en and fr notices are still written"
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("not rendered") || index.contains("is not a known variable"));
}

#[test]
fn broken_template_syntax_is_an_input_error_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    broken_templates(&templates, "fr/html/help.hbs", "{{#if recipient.guest}}\n");
    preview(&tmp.path().join("out"), &sample_mapping(), None, &[])
        .env("T2T_NOTIFY_MESSAGE_TEMPLATES", &templates)
        .run()
        .status(2)
        .contains("fr/html/help.hbs: line");
}

/// A copy of the shipped templates without the `locale` folder; returns the copy's path.
pub fn templates_without(dir: &Path, locale: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }
    let out = dir.join("templates");
    copy(&root().join("templates"), &out);
    std::fs::remove_dir_all(out.join(locale)).unwrap();
    out
}

#[test]
fn people_whose_language_has_no_templates_are_counted_on_stderr_and_the_page() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = templates_without(tmp.path(), "de");
    let out = tmp.path().join("preview");
    let run = preview(&out, &sample_mapping(), Some(&sample_directory()), &[])
        .env("T2T_NOTIFY_MESSAGE_TEMPLATES", &templates)
        .run()
        .status(0);
    let expected = [
        "5 people: PreferredLanguage de-DE, no `de` templates, used `en`",
        "4 people: PreferredLanguage de-AT, no `de` templates, used `en`",
        "4 people: PreferredLanguage de-CH, no `de` templates, used `en`",
    ];
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    for line in expected {
        assert!(
            run.stderr().contains(&format!("locale fallback: {line}")),
            "{}",
            run.stderr()
        );
        assert!(index.contains(line), "{line} on the page");
    }
    assert!(
        !run.stderr().contains("PreferredLanguage en-"),
        "en-GB used en as designed"
    );
}
