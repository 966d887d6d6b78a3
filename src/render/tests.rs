//! Tests of the whole renderer on the shipped templates and sample config: snapshots of the
//! text and HTML per kind of person and locale, headers, escaping, injection, strict mode and
//! the link check.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::*;
use crate::inputs::directory::DirectoryEntry;
use crate::inputs::mapping::UserMapping;

/// 2026-03-02 09:30:00 UTC, so snapshots do not change with the clock.
fn fixed_date() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_772_443_800)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample config, read as if from `sample-data/`, with `edit` applied to its text (the
/// other modules' tests use it too).
pub(crate) fn config_with(edit: impl Fn(String) -> String) -> Config {
    let path = root().join("sample-data/t2t-notify.toml");
    let text = edit(std::fs::read_to_string(&path).unwrap());
    Config::from_str_with_env(&text, &path, &[]).unwrap()
}

/// The sample config with `keys` as its `[transport]` (in place of `kind = "file"`).
pub(crate) fn config_with_transport(keys: &str) -> Config {
    config_with(|t| {
        t.replace("kind = \"file\"\n", "")
            .replace("[transport]\n", &format!("[transport]\n{keys}\n"))
    })
}

fn config() -> Config {
    config_with(|t| t)
}

/// A mapped user as `config`'s plan makes them, with a directory row when `name` is given
/// (its first word the GivenName).
fn mapped(
    config: &Config,
    user_type: &str,
    [source, target]: [&str; 2],
    name: Option<&str>,
    language: Option<&str>,
) -> Recipient {
    let user = UserMapping {
        line: 1,
        source_tenant: "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01".into(),
        source_upn: source.into(),
        target_upn: target.into(),
        target_email: target.into(),
        user_type: user_type.into(),
    };
    let entry = name.map(|n| DirectoryEntry {
        line: 2,
        upn: target.into(),
        display_name: Some(n.into()),
        given_name: n.split(' ').next().map(str::to_string),
        preferred_language: language.map(str::to_string),
        ..DirectoryEntry::default()
    });
    crate::plan::recipient(config, user, entry.map(Arc::new))
}

/// A member of the sample config.
fn person(source: &str, target: &str, name: Option<&str>, language: Option<&str>) -> Recipient {
    mapped(&config(), "RegularUser", [source, target], name, language)
}

/// `r` without a GivenName, so that its DisplayName is what the greeting shows.
fn display_name_only(mut r: Recipient) -> Recipient {
    dir_mut(&mut r).given_name = None;
    r
}

/// A member whose greeting shows `name` as it is written (a display name, no GivenName).
fn named(name: &str) -> Recipient {
    display_name_only(person("x@contoso.com", "x@fabrikam.com", Some(name), None))
}

fn member() -> Recipient {
    let ids = ["ana.martinez0@contoso.com", "ana.martinez0@fabrikam.com"];
    person(ids[0], ids[1], Some("Ana Martinez"), Some("en-US"))
}

fn guest() -> Recipient {
    let source = "noah.novak9_partner.example#EXT#@contoso.onmicrosoft.com";
    let ids = [source, "noah.novak9@fabrikam.com"];
    mapped(
        &config(),
        "GuestUser",
        ids,
        Some("Noah Novak"),
        Some("en-GB"),
    )
}

/// `r`'s notice with `config`, dated [`fixed_date`].
fn render_with(config: &Config, r: &Recipient) -> Result<Rendered, RenderError> {
    Renderer::new(config)
        .unwrap()
        .render_at(r, "post-migration", None, fixed_date())
}

fn render(r: &Recipient) -> Rendered {
    render_with(&config(), r).unwrap()
}

/// `r`'s notice an hour after [`fixed_date`].
fn render_later(r: &Recipient) -> Rendered {
    let later = fixed_date() + Duration::from_secs(3600);
    let renderer = Renderer::new(&config()).unwrap();
    renderer
        .render_at(r, "post-migration", None, later)
        .unwrap()
}

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(bytes)
        .expect("parseable message")
}

/// `r` with PreferredLanguage `lang`.
fn speaking(mut r: Recipient, lang: &str) -> Recipient {
    dir_mut(&mut r).preferred_language = Some(lang.into());
    r
}

#[test]
fn snapshots_per_kind_of_person_and_locale() {
    let zoe = ["zoe.garcia2@contoso.com", "zoe.garcia2@fabrikam.com"];
    let zoe = person(zoe[0], zoe[1], Some("Zoë García-Ødegaard"), Some("de-AT"));
    let lukasz = ["lukasz.weiss4@contoso.com", "lukasz.weiss4@fabrikam.com"];
    let lukasz = person(lukasz[0], lukasz[1], Some("Łukasz Weiß"), Some("fr-FR"));
    // (snapshot label, person, locale used, whether the subject is snapshot too)
    let cases = [
        ("member_en", member(), "en", true),
        ("guest_en", guest(), "en", true),
        // A non-ASCII name, and de-AT falling back to de.
        ("member_de", zoe, "de", true),
        ("guest_de", speaking(guest(), "de-DE"), "de", false),
        ("member_fr", lukasz, "fr", true),
        ("guest_fr", speaking(guest(), "fr"), "fr", false),
    ];
    for (label, person, locale, subject) in cases {
        let r = render(&person);
        assert_eq!(r.locale, locale, "{label}");
        assert!(r.link_errors.is_empty(), "{label}: {:?}", r.link_errors);
        if subject {
            insta::assert_snapshot!(format!("{label}_subject"), r.subject);
        }
        insta::assert_snapshot!(format!("{label}_text"), r.text);
        insta::assert_snapshot!(format!("{label}_html"), r.html);
    }
}

#[test]
fn without_directory_row_greets_neutrally_in_the_default_locale() {
    let r = render(&person("x@contoso.com", "x@fabrikam.com", None, None));
    assert_eq!(r.locale, "en");
    assert!(r.text.starts_with("Hello,\n"), "{}", r.text);
    assert!(r.html.contains(">Hello,</p>"));
}

#[test]
fn headers_are_complete_and_parse_back() {
    let r = render(&member());
    let text = String::from_utf8(r.bytes.clone()).unwrap();
    let head = &text[..text.find("\r\n\r\n").unwrap()];
    assert_eq!(head.matches("MIME-Version: 1.0").count(), 1, "{head}");
    assert!(head.contains("Auto-Submitted: auto-generated"), "{head}");
    assert!(head.contains("X-Auto-Response-Suppress: All"), "{head}");
    assert!(head.contains("Date: Mon, 02 Mar 2026 09:30:00"), "{head}");
    let m = parse(&r.bytes);
    assert_eq!(m.message_id(), Some(r.message_id.trim_matches(['<', '>'])));
    let to = m.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("ana.martinez0@fabrikam.com"));
    assert_eq!(to.name(), Some("Ana Martinez"));
    assert_eq!(
        m.from().unwrap().first().unwrap().address(),
        Some("it-migration@fabrikam.com")
    );
    assert_eq!(
        m.reply_to().unwrap().first().unwrap().address(),
        Some("servicedesk@fabrikam.com")
    );
    assert_eq!(m.subject(), Some(r.subject.as_str()));
    assert_eq!(
        m.body_text(0).unwrap().replace("\r\n", "\n").trim_end(),
        r.text.trim_end()
    );
    assert_eq!(
        m.body_html(0).unwrap().replace("\r\n", "\n").trim_end(),
        r.html.trim_end()
    );
    assert_eq!(r.envelope.from, "it-migration@fabrikam.com");
    assert_eq!(r.envelope.to, ["ana.martinez0@fabrikam.com"]);
}

#[test]
fn non_ascii_display_name_is_encoded_and_the_address_stays_parseable() {
    let name = Some("Björn O'Brien, Jr. \"BJ\"");
    let r = render(&person(
        "b@contoso.com",
        "bjorn.obrien14@fabrikam.com",
        name,
        None,
    ));
    let head = String::from_utf8_lossy(&r.bytes);
    let to_line = head.lines().find(|l| l.starts_with("To:")).unwrap();
    assert!(
        to_line.contains("<bjorn.obrien14@fabrikam.com>"),
        "{to_line}"
    );
    assert!(to_line.is_ascii(), "{to_line}");
    let m = parse(&r.bytes);
    let to = m.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("bjorn.obrien14@fabrikam.com"));
    assert_eq!(to.name(), Some("Björn O'Brien, Jr. \"BJ\""));
}

#[test]
fn line_breaks_in_a_name_cannot_add_headers() {
    let r = render(&named(
        "Eve\r\nBcc: attacker@evil.example\r\n\r\nInjected body",
    ));
    let m = parse(&r.bytes);
    assert!(m.bcc().is_none());
    assert_eq!(m.header_values("Bcc").count(), 0);
    assert_eq!(
        m.to().unwrap().first().unwrap().address(),
        Some("x@fabrikam.com")
    );
    assert_eq!(m.to().unwrap().iter().count(), 1);
    assert!(
        r.text
            .starts_with("Hello Eve Bcc: attacker@evil.example Injected body,"),
        "{}",
        &r.text[..80]
    );
    assert_eq!(m.subject(), Some(r.subject.as_str()));
}

/// Found by the `render` fuzz target (`fuzz/regressions/render/long-word-display-name`): a
/// display name of one 2,000-character word went into `To:` whole, a header line of 2,034
/// bytes (RFC 5322 allows 998; Postfix cuts lines at 2,048).
#[test]
fn a_long_display_name_keeps_every_header_line_within_998_characters() {
    let config = config_with(|t| t.replace("recipient = \"target-email\"", "recipient = \"both\""));
    let name = format!("\"{}\\", "A".repeat(2000));
    let ids = ["ana@contoso.com", "ana@fabrikam.com"];
    let r = display_name_only(mapped(&config, "RegularUser", ids, Some(&name), None));
    let r = render_with(&config, &r).unwrap();
    for line in r.bytes.split(|b| *b == b'\n') {
        assert!(line.len() <= 999, "a line of {} bytes", line.len());
    }
    let m = parse(&r.bytes);
    let to: Vec<_> = m.to().unwrap().iter().collect();
    assert_eq!(to.len(), 2);
    assert_eq!(to[0].address(), Some("ana@fabrikam.com"));
    assert_eq!(to[1].address(), Some("ana@contoso.com"));
    let cut: String = name.chars().take(message::MAX_HEADER_NAME_CHARS).collect();
    assert_eq!(to[0].name(), Some(cut.as_str()));
    assert!(r.text.contains(&name), "the greeting keeps the whole name");
}

/// Found by the `render` fuzz target (`fuzz/regressions/render/non-ascii-address-without-name`):
/// the content hash looked for `Date:` in the first five bytes of every header line, inside
/// the `é` of `To: é@...`, so an international address (the mapping allows one) of a person
/// without a directory name panicked `preview` and `send`.
#[test]
fn an_international_address_without_a_name_renders() {
    let r = render(&person("e@contoso.com", "\u{E9}@fabrikam.com", None, None));
    let head = String::from_utf8_lossy(&r.bytes);
    assert!(head.contains("\r\nTo: \u{E9}@fabrikam.com\r\n"), "{head}");
    assert_eq!(r.envelope.to, ["\u{E9}@fabrikam.com"]);
    let later = render_later(&person("e@contoso.com", "\u{E9}@fabrikam.com", None, None));
    assert_eq!(
        r.content_sha256(),
        later.content_sha256(),
        "only the Date differs"
    );
}

#[test]
fn every_field_is_html_escaped() {
    let r = render(&named("<img src=x onerror=alert(1)>"));
    assert!(!r.html.contains("<img"), "raw tag in HTML");
    assert!(
        r.html
            .contains("&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;"),
        "{}",
        &r.html[..2000.min(r.html.len())]
    );
    assert!(r.text.contains("Hello <img src=x onerror=alert(1)>,"));
    assert!(r.link_errors.is_empty(), "{:?}", r.link_errors);
}

/// Left open by the first `render` fuzz runs: a scheme glued to a word passed the check.
#[test]
fn a_link_glued_to_a_word_in_a_name_is_a_link_error() {
    for name in ["Ana x_https://evil.example/", "Ana 1https://evil.example/"] {
        let out = render(&named(name));
        assert!(
            out.link_errors.iter().any(|e| e
                .to_string()
                .starts_with("template en/text: https://evil.example/")),
            "{name}: {:?}",
            out.link_errors
        );
    }
}

#[test]
fn look_alike_onedrive_url_is_a_link_error() {
    let mut r = member();
    r.onedrive_url = "https://contoso-my.sharepoint.com.evil.example/personal/ana".into();
    let out = render(&r);
    assert!(!out.link_errors.is_empty());
    assert!(
        out.link_errors.iter().any(|e| e.to_string().starts_with(
            "template en/text: https://contoso-my.sharepoint.com.evil.example/personal/ana: host"
        )),
        "{:?}",
        out.link_errors
    );
    assert!(
        out.link_errors
            .iter()
            .any(|e| e.to_string().starts_with("template en/html: ")),
        "{:?}",
        out.link_errors
    );
}

#[test]
fn message_id_and_content_hash_are_stable_and_test_mode_differs() {
    let renderer = Renderer::new(&config()).unwrap();
    let m = member();
    let a = renderer
        .render_at(&m, "post-migration", None, fixed_date())
        .unwrap();
    let b = render_later(&m);
    assert_eq!(a.message_id, b.message_id);
    assert_eq!(a.content_sha256(), b.content_sha256());
    assert_ne!(a.bytes, b.bytes);
    let test = ["tester@fabrikam.com".to_string()];
    let t = renderer
        .render_at(&m, "post-migration", Some(&test), fixed_date())
        .unwrap();
    assert_ne!(t.message_id, a.message_id);
    assert_eq!(t.envelope.to, ["tester@fabrikam.com"]);
    let parsed = parse(&t.bytes);
    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(
        (to.address(), to.name()),
        (Some("tester@fabrikam.com"), None)
    );
    let bad = ["not an address\r\nBcc: x@evil.example".to_string()];
    let err = renderer
        .render_at(&m, "c", Some(&bad), fixed_date())
        .unwrap_err();
    assert!(matches!(err, RenderError::Address { .. }));
    let source = std::error::Error::source(&err).expect("lettre's address error");
    assert!(source.is::<lettre::address::AddressError>(), "{source:?}");
}

/// A copy of the shipped templates in a temp folder, with `edit` applied to one file.
fn templates_with(file: &str, edit: impl Fn(String) -> String) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("templates"), dir.path());
    let path = dir.path().join(file);
    std::fs::write(&path, edit(std::fs::read_to_string(&path).unwrap())).unwrap();
    let templates = dir.path().display().to_string();
    let config = config_with(|t| {
        t.replace(
            "templates = \"../templates\"",
            &format!("templates = {templates:?}"),
        )
    });
    (dir, config)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

#[test]
fn strict_mode_names_the_template_and_line_of_a_missing_variable() {
    let (_dir, config) = templates_with("en/text/permissions.hbs", |t| {
        format!("{t}\nSee {{{{recipient.departmnet}}}}.\n")
    });
    let err = render_with(&config, &member()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("template en/text/permissions, line 11, column 5:"),
        "{msg}"
    );
    assert!(
        msg.contains("`recipient.departmnet` is not a known variable"),
        "{msg}"
    );
}

#[test]
fn a_link_to_a_foreign_host_in_a_template_is_reported() {
    let (_dir, config) = templates_with("de/html/help.hbs", |t| {
        t.replace(
            "</p>",
            " <a href=\"http://help.example.net/reset\">Hilfe</a></p>",
        )
    });
    let out = render_with(&config, &speaking(member(), "de")).unwrap();
    let problems: Vec<String> = out.link_errors.iter().map(ToString::to_string).collect();
    assert_eq!(problems, ["template de/html: http://help.example.net/reset: uses http:, only https links are allowed"]);
}

#[test]
fn a_missing_default_locale_is_refused() {
    let config = config_with(|t| t.replace("default_locale = \"en\"", "default_locale = \"es\""));
    let err = Renderer::new(&config).err().unwrap().to_string();
    assert!(
        err.contains("`es` has no complete folder") && err.contains("de, en, fr"),
        "{err}"
    );
}

#[test]
fn html_and_headers_state_the_language_and_html_has_no_scripts_or_remote_images() {
    for (lang, expected) in [
        ("en-US", "en"),
        ("de-AT", "de"),
        ("de-CH", "de"),
        ("fr-CA", "fr"),
    ] {
        let r = render(&person(
            "a@contoso.com",
            "a@fabrikam.com",
            Some("A"),
            Some(lang),
        ));
        assert!(
            r.html.contains(&format!("<html lang=\"{expected}\"")),
            "{lang}"
        );
        let lower = r.html.to_lowercase();
        assert!(
            !lower.contains("<script") && !lower.contains("<img") && !lower.contains("javascript:")
        );
        let raw = String::from_utf8(r.bytes.clone()).unwrap();
        let head = &raw[..raw.find("\r\n\r\n").unwrap()];
        assert_eq!(
            head.matches("\r\nContent-Language: ").count(),
            1,
            "{lang}: {head}"
        );
        assert!(
            head.contains(&format!("\r\nContent-Language: {expected}\r\n")),
            "{lang}: {head}"
        );
    }
}

/// A member and a guest in each shipped locale, with their notices.
fn every_variant() -> Vec<(String, Recipient, Rendered)> {
    let mut out = Vec::new();
    for lang in ["en", "de", "fr"] {
        for (kind, r) in [("member", member()), ("guest", guest())] {
            let r = speaking(r, lang);
            let notice = render(&r);
            out.push((format!("{lang} {kind}"), r, notice));
        }
    }
    out
}

#[test]
fn no_notice_carries_hidden_text() {
    const HIDING: [&str; 12] = [
        "display:none",
        "opacity:0",
        "font-size:0",
        "font-size:1px",
        "line-height:0",
        "line-height:1px",
        "max-height:0",
        "max-width:0",
        "visibility:hidden",
        "mso-hide:all",
        "color:transparent",
        " hidden",
    ];
    for (label, _, out) in every_variant() {
        let tags = out.html.to_ascii_lowercase();
        let html = tags.replace([' ', '\n'], "");
        for pattern in HIDING {
            let found = if pattern == " hidden" {
                tags.contains(" hidden>") || tags.contains(" hidden ") || tags.contains(" hidden=")
            } else {
                html.contains(pattern)
            };
            assert!(!found, "{label}: `{pattern}` hides text");
        }
    }
}

#[test]
fn every_variant_has_a_title_heading_five_section_headings_and_the_helpdesk_link() {
    for (label, r, out) in every_variant() {
        let html = out.html;
        assert_eq!(html.matches("<h1 ").count(), 1, "{label}");
        assert_eq!(
            html.matches("<h2 ").count(),
            5,
            "{label}: four sections and help"
        );
        let title = &html[html.find("<title>").unwrap() + 7..html.find("</title>").unwrap()];
        let h1 = html.split("<h1 ").nth(1).unwrap();
        let h1 = &h1[h1.find('>').unwrap() + 1..h1.find("</h1>").unwrap()];
        assert_eq!(title, h1, "{label}");
        let guest_words = ["shared files", "freigegebene Dateien", "fichiers partagés"];
        assert_eq!(
            guest_words.iter().any(|w| title.contains(w)),
            r.guest,
            "{label}: {title}"
        );
        assert!(
            html.contains(
                "+1 555 0100, <a href=\"https://help.fabrikam.com\" style=\"color:#0f62ab;\">https://help.fabrikam.com</a></p>"
            ),
            "{label}: the helpdesk URL is a link"
        );
        assert!(out.link_errors.is_empty(), "{label}");
    }
}

#[test]
fn a_last_first_display_name_never_reaches_the_greeting() {
    let ids = ["hans.mueller@contoso.com", "hans.mueller@fabrikam.com"];
    let mut r = person(ids[0], ids[1], Some("Müller, Hans"), Some("de-DE"));
    dir_mut(&mut r).given_name = Some("Hans".into());
    let with_given = render(&r);
    assert!(
        with_given.text.starts_with("Hallo Hans,\n"),
        "{}",
        with_given.text
    );
    assert!(with_given.html.contains(">Hallo Hans,</p>"));
    dir_mut(&mut r).given_name = None;
    let without = render(&r);
    assert!(without.text.starts_with("Guten Tag,\n"), "{}", without.text);
    assert!(!without.html.contains("Müller, Hans,"));
    assert!(!without.text.contains("Müller, Hans,"));
}

#[test]
fn guests_get_the_guest_safe_sync_steps_and_their_own_address() {
    // Words of the member steps that would unlink a guest's own account or move its files.
    const MEMBER_ONLY: [&str; 9] = [
        "Unlink",
        "Verknüpfung dieses",
        "Dissocier",
        "copy them to another folder",
        "kopieren Sie diese zuerst",
        "copiez-les d'abord",
        "start syncing again",
        "wieder synchronisiert",
        "synchronisent de nouveau",
    ];
    const ADD_ACCOUNT: [&str; 3] = ["Add an account", "Konto hinzufügen", "Ajouter un compte"];
    for (label, r, out) in every_variant() {
        for part in [&out.text, &out.html] {
            let unsafe_words: Vec<&str> = MEMBER_ONLY
                .iter()
                .copied()
                .filter(|w| part.contains(w))
                .collect();
            let adds = ADD_ACCOUNT.iter().any(|w| part.contains(w));
            if r.guest {
                assert!(unsafe_words.is_empty(), "{label}: {unsafe_words:?}");
                assert!(adds, "{label}");
                assert!(
                    !part.contains("#EXT#"),
                    "{label}: the raw guest UPN is shown"
                );
                assert!(part.contains("noah.novak9@partner.example"), "{label}");
                assert!(part.contains("Contoso"), "{label}: the source is named");
            } else {
                assert_eq!(unsafe_words.len(), 3, "{label}: {unsafe_words:?}");
                assert!(!adds, "{label}");
            }
        }
    }
}

#[test]
fn without_a_source_name_a_guest_notice_names_no_organisation_wrongly() {
    let config = config_with(|t| t.replace("source_name = \"Contoso\"\n", ""));
    assert!(config.organization.source_name.is_none());
    for (label, r, _) in every_variant().into_iter().filter(|(_, r, _)| r.guest) {
        let out = render_with(&config, &r).unwrap();
        assert!(!out.text.contains("Contoso"), "{label}");
        // The guest account lived in the source tenant: the target is not where it was.
        for wrong in [
            "files at Fabrikam",
            "bei Fabrikam mit Dateien",
            "fichiers de Fabrikam",
        ] {
            assert!(!out.text.contains(wrong), "{label}: {wrong}");
        }
    }
}

/// `r`'s directory row, to change for one test (the plan shares rows; a test owns its copy).
fn dir_mut(r: &mut Recipient) -> &mut DirectoryEntry {
    Arc::make_mut(r.directory.as_mut().expect("a directory row"))
}

mod kinds;
