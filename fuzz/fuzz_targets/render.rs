//! Template rendering with hostile field values: a `Recipient` whose UPNs, address, user type,
//! directory row (names, language, OneDrive URL, mail, extra columns), batch, campaign and test
//! address come from the input, rendered with the shipped templates (en, de, fr) under the
//! sample config into the complete MIME message, as `preview` (`Renderer::render_at`) and
//! `send` (`Renderer::draft`, then `Renderer::finish`) do.
//!
//! Input: fields separated by the byte 0xFF (never part of UTF-8, so a field can hold any
//! text, CR, LF and NUL included; invalid UTF-8 becomes U+FFFD): flags, source UPN, target UPN,
//! target email, user type, display name, given name, preferred language, OneDrive URL,
//! mail, Department, Group, batch, campaign, test address. Flags: `s` / `b` for
//! `recipient = "source-upn"` / `"both"` (default `target-email`), `n` for no directory row,
//! `o` to send to the test address instead (`send --test-to`).
//!
//! Beyond "no panic": rendering is deterministic and `send`'s two steps give `preview`'s bytes;
//! it fails only on an address that the mapping checks refuse too; otherwise the message's
//! header block is CRLF lines of at most 998 bytes with exactly the notice's header names,
//! once each (no header added by a field), every part has only its two headers, `From`,
//! `Reply-To`, `To` and the subject parse back to what was rendered, `To` to the recipient
//! addresses; the parts decode to the rendered text and HTML; the HTML has exactly as many
//! `<`, `>`, `"`, `'`, `` ` `` and `=` as the notice of a harmless person of the same kind and
//! locale (so nothing a field holds became markup), and no field holding `<x` or `"x` (where
//! the templates never have them) appears in it literally; and when the link check passes,
//! every link an independent look finds in the text and the HTML is https on an allowed host.
#![no_main]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use t2t_notify::config::Config;
use t2t_notify::inputs::address::{check_email, check_upn};
use t2t_notify::inputs::directory::DirectoryEntry;
use t2t_notify::inputs::mapping::UserMapping;
use t2t_notify::inputs::move_state::{MoveEntry, MoveState};
use t2t_notify::plan::{self, Recipient};
use t2t_notify::render::message::clean_line;
use t2t_notify::render::{RenderError, Rendered, Renderer};
use t2t_notify_fuzz::{links, mime};

const CONFIG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../sample-data/t2t-notify.toml"
);
const FROM: &str = "it-migration@fabrikam.com";
const REPLY_TO: &str = "servicedesk@fabrikam.com";
const MODES: [&str; 3] = ["target-email", "source-upn", "both"];
/// The characters that make markup; a field must never add one to the HTML.
const MARKUP: [char; 6] = ['<', '>', '"', '\'', '`', '='];

/// The sample config with `[message].recipient` set to each mode.
fn configs() -> &'static [Config; 3] {
    static CONFIGS: OnceLock<[Config; 3]> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let text = std::fs::read_to_string(CONFIG).expect("the sample config");
        MODES.map(|mode| {
            let edited = text.replace(
                "recipient = \"target-email\"",
                &format!("recipient = \"{mode}\""),
            );
            Config::from_str_with_env(&edited, Path::new(CONFIG), &[]).expect("a valid config")
        })
    })
}

fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| Renderer::new(&configs()[0]).expect("the shipped templates"))
}

/// 2026-03-02 09:30:00 UTC.
fn date() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_772_443_800)
}

/// The input, field by field.
struct Input {
    flags: String,
    fields: Vec<String>,
}

impl Input {
    fn parse(data: &[u8]) -> Input {
        let mut parts = data.split(|b| *b == 0xFF);
        let flags = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
        let fields = parts
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        Input { flags, fields }
    }

    /// Field `i` (1-based, after the flags), empty when absent.
    fn field(&self, i: usize) -> String {
        self.fields.get(i - 1).cloned().unwrap_or_default()
    }

    fn optional(&self, i: usize) -> Option<String> {
        Some(self.field(i)).filter(|f| !f.is_empty())
    }

    fn mode(&self) -> usize {
        if self.flags.contains('s') {
            1
        } else if self.flags.contains('b') {
            2
        } else {
            0
        }
    }

    fn recipient(&self) -> Recipient {
        let user = UserMapping {
            line: 2,
            source_tenant: configs()[0].source.tenant_id.clone(),
            source_upn: self.field(1),
            target_upn: self.field(2),
            target_email: self.field(3),
            user_type: self.field(4),
        };
        let entry = (!self.flags.contains('n')).then(|| DirectoryEntry {
            line: 3,
            upn: self.field(2),
            display_name: self.optional(5),
            given_name: self.optional(6),
            preferred_language: self.optional(7),
            onedrive_url: self.optional(8),
            mail: self.optional(9),
            extra: vec![
                ("Department".into(), self.field(10)),
                ("Group".into(), self.field(11)),
            ],
        });
        let mut r = plan::recipient(&configs()[self.mode()], user, entry.map(Arc::new));
        r.move_state = Some(MoveEntry {
            source_upn: self.field(1),
            target_upn: Some(self.field(2)),
            state: Some(MoveState::Success),
            state_text: "Success".into(),
            timestamp: None,
            job_id: None,
            batch: self.field(12),
            file: "batch.csv".into(),
            line: 2,
            index: None,
        });
        r
    }

    fn campaign(&self) -> String {
        self.optional(13)
            .unwrap_or_else(|| "post-migration".to_string())
    }

    fn test_to(&self) -> Option<Vec<String>> {
        self.flags.contains('o').then(|| vec![self.field(14)])
    }
}

/// A harmless person of the same kind (guest, named) in `locale`: its HTML has every tag and
/// attribute a notice of that kind has.
fn reference(locale: &str, guest: bool, named: bool) -> Rendered {
    type Kind = (String, bool, bool);
    static CACHE: OnceLock<Mutex<HashMap<Kind, Rendered>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (locale.to_string(), guest, named);
    if let Some(r) = cache.lock().expect("cache").get(&key) {
        return r.clone();
    }
    let user = UserMapping {
        line: 2,
        source_tenant: configs()[0].source.tenant_id.clone(),
        source_upn: "ref.user@contoso.com".into(),
        target_upn: "ref.user@fabrikam.com".into(),
        target_email: "ref.user@fabrikam.com".into(),
        user_type: if guest { "GuestUser" } else { "Member" }.into(),
    };
    let entry = DirectoryEntry {
        line: 3,
        upn: "ref.user@fabrikam.com".into(),
        display_name: named.then(|| "Ref User".to_string()),
        preferred_language: Some(locale.to_string()),
        ..DirectoryEntry::default()
    };
    let r = plan::recipient(&configs()[0], user, Some(Arc::new(entry)));
    let rendered = renderer()
        .render_at(&r, "post-migration", None, date())
        .expect("a harmless person renders");
    assert!(
        rendered.link_errors.is_empty(),
        "{:?}",
        rendered.link_errors
    );
    assert_eq!(rendered.locale, locale);
    cache.lock().expect("cache").insert(key, rendered.clone());
    rendered
}

/// A render error is an address the mapping checks refuse as well.
fn check_error(e: &RenderError, to: &[String], test_to: bool) {
    let RenderError::Address { value, .. } = e else {
        panic!("render failed: {e}");
    };
    assert!(to.contains(value) || to.is_empty(), "{e}");
    if !test_to {
        let value = value.trim();
        assert!(
            check_email(value).is_err() && check_upn(value).is_err(),
            "an address the mapping accepts cannot be sent to: {e}"
        );
    }
}

/// The header block and the parts are what the notice must be.
fn check_message(rendered: &Rendered, to: &[String], name: Option<&str>) {
    let bytes = &rendered.bytes;
    mime::check_line_ends(bytes, "message");
    let (head, body) = mime::split(bytes);
    assert!(body.is_ascii(), "8-bit bytes in the body");
    mime::check_header_set(&mime::header_names(head), &mime::NOTICE_HEADERS, "message");
    // The mapping allows international letters in an address (RFC 6532); nothing else is 8-bit.
    mime::check_ascii_but(head, "to");
    let message = mail_parser::MessageParser::default()
        .parse(bytes.as_slice())
        .expect("a message");
    assert_eq!(
        message.parts.len(),
        3,
        "multipart/alternative with two parts"
    );
    for part in &message.parts[1..] {
        let names: Vec<String> = part
            .headers
            .iter()
            .map(|h| h.name.as_str().to_ascii_lowercase())
            .collect();
        mime::check_header_set(&names, &mime::PART_HEADERS, "part");
    }
    let addresses = |a: Option<&mail_parser::Address>| -> Vec<(Option<String>, String)> {
        a.map(|a| {
            a.iter()
                .map(|x| {
                    let name = x.name().map(str::to_string);
                    (name, x.address().unwrap_or_default().to_string())
                })
                .collect()
        })
        .unwrap_or_default()
    };
    let from = addresses(message.from());
    assert_eq!(from.len(), 1);
    assert_eq!(from[0].1, FROM);
    assert_eq!(
        addresses(message.reply_to()),
        [(None, REPLY_TO.to_string())]
    );
    let got: Vec<(Option<String>, String)> = addresses(message.to());
    let want: Vec<(Option<String>, String)> = to
        .iter()
        .map(|a| (name.map(str::to_string), a.trim().to_string()))
        .collect();
    assert_eq!(got, want, "To");
    assert_eq!(
        rendered.envelope.to,
        want.iter().map(|w| w.1.clone()).collect::<Vec<_>>()
    );
    assert_eq!(rendered.envelope.from, FROM);
    assert_eq!(
        message.subject(),
        Some(rendered.subject.as_str()),
        "Subject"
    );
    let unify = |s: &str| s.replace("\r\n", "\n");
    let text = message.body_text(0).expect("a text part");
    assert_eq!(unify(&text), unify(&rendered.text), "text part");
    let html = message.body_html(0).expect("an HTML part");
    assert_eq!(unify(&html), unify(&rendered.html), "HTML part");
}

/// Nothing a field holds became markup.
fn check_html(rendered: &Rendered, reference: &Rendered, fields: &[String]) {
    for c in MARKUP {
        let count = |html: &str| html.matches(c).count();
        assert_eq!(
            count(&rendered.html),
            count(&reference.html),
            "{c:?} in the HTML from a field"
        );
    }
    // A `<` or `"` followed by what never follows it in the templates (`<x`, `"!`) would give
    // away a field written into the HTML unescaped; template markup next to an escaped field
    // (`">` before a field starting with NUL) is no sign of it.
    let tell_tale = |value: &str| {
        let chars: Vec<char> = value.chars().collect();
        chars.windows(2).any(|w| {
            matches!(w[0], '<' | '"') && !reference.html.contains(&format!("{}{}", w[0], w[1]))
        })
    };
    for field in fields {
        let shown = clean_line(field);
        for value in [field.as_str(), shown.as_str()] {
            assert!(
                !(tell_tale(value) && rendered.html.contains(value)),
                "field {value:?} unescaped in the HTML"
            );
        }
    }
}

/// With no link error, every link anywhere in the notice is allowed.
fn check_links(rendered: &Rendered) {
    if !rendered.link_errors.is_empty() {
        return;
    }
    let html_text = links::decode_references(&rendered.html);
    let found = links::in_text(&rendered.text)
        .into_iter()
        .chain(links::in_text(&rendered.subject))
        .chain(links::in_text(&html_text))
        .chain(links::in_attributes(&rendered.html));
    for link in found {
        if let Some(why) = links::refused(&link, &links::SAMPLE_ALLOWED) {
            panic!("link {link:?} passed the link check: {why}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let r = input.recipient();
    let test_to = input.test_to();
    let campaign = input.campaign();
    let renderer = renderer();
    let result = renderer.render_at(&r, &campaign, test_to.as_deref(), date());
    let to = test_to.clone().unwrap_or_else(|| r.to.clone());
    let rendered = match result {
        Ok(rendered) => rendered,
        Err(e) => {
            check_error(&e, &to, test_to.is_some());
            return;
        }
    };
    let again = renderer
        .draft(&r, &campaign, test_to.as_deref())
        .and_then(|d| renderer.finish(d, date()))
        .expect("rendered once");
    assert_eq!(
        again.bytes, rendered.bytes,
        "send's two steps differ from preview"
    );
    assert_eq!(again.link_errors, rendered.link_errors);
    // The greeting's name, cut to Entra ID's 256 characters for the header.
    let name = match test_to {
        Some(_) => None,
        None => r.display_name().map(clean_line).filter(|n| !n.is_empty()),
    }
    .map(|n| {
        n.chars()
            .take(256)
            .collect::<String>()
            .trim_end()
            .to_string()
    });
    check_message(&rendered, &to, name.as_deref());
    let named = r
        .display_name()
        .map(clean_line)
        .is_some_and(|n| !n.is_empty());
    let reference = reference(&rendered.locale, r.guest, named);
    check_html(&rendered, &reference, &input.fields);
    check_links(&rendered);
});
