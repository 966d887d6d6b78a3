//! Builds the MIME message with lettre's `MessageBuilder`: `multipart/alternative` (text, then
//! HTML), UTF-8, encoded display names, a stable `Message-ID`, and the headers that keep
//! out-of-office replies away (`Auto-Submitted`, `X-Auto-Response-Suppress`). Every value that
//! reaches a header is cleaned of control characters first, so no CSV field can add a header.
//! lettre chooses each part's transfer encoding, but for the parts [`part`] names.

use std::time::SystemTime;

use lettre::message::header::{self, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MessageBuilder, MultiPart, SinglePart};
use sha2::{Digest, Sha256};

/// `Auto-Submitted: auto-generated` (RFC 3834): tells servers not to auto-reply.
pub(crate) fn auto_submitted() -> HeaderValue {
    raw_header("Auto-Submitted", "auto-generated".into())
}

/// `X-Auto-Response-Suppress: All`: tells Exchange and Outlook to send no automatic replies.
pub(crate) fn auto_response_suppress() -> HeaderValue {
    raw_header("X-Auto-Response-Suppress", "All".into())
}

/// A header lettre has no type for; `value` is encoded like any other header's.
fn raw_header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// The language tag of a locale folder name: `de_AT` -> `de-AT`; anything but letters, digits
/// and `-` is dropped, so a folder name cannot add a header.
pub fn language_tag(locale: &str) -> String {
    locale
        .chars()
        .map(|c| if c == '_' { '-' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// What goes into one message.
pub struct Parts<'a> {
    pub from: &'a Mailbox,
    pub reply_to: Option<&'a Mailbox>,
    pub to: Vec<Mailbox>,
    pub subject: &'a str,
    pub message_id: &'a str,
    pub date: SystemTime,
    pub text: &'a str,
    pub html: &'a str,
    /// The notice's language (the locale folder), for the `Content-Language` header.
    pub content_language: &'a str,
}

/// The complete RFC 5322 message. The MIME boundary is derived from the Message-ID, so two
/// renders of the same notice differ only in the `Date` header. lettre refuses a message
/// without recipients.
pub fn build(p: &Parts<'_>) -> Result<Vec<u8>, lettre::error::Error> {
    let body = MultiPart::alternative()
        .boundary(boundary(p.message_id))
        .singlepart(part(header::ContentType::TEXT_PLAIN, p.text))
        .singlepart(part(header::ContentType::TEXT_HTML, p.html));
    Ok(headers(p).multipart(body)?.formatted())
}

/// Every header of the message but the MIME ones: the one place headers are set.
fn headers(p: &Parts<'_>) -> MessageBuilder {
    let mut builder = lettre::Message::builder()
        .from(p.from.clone())
        .subject(p.subject)
        .message_id(Some(p.message_id.to_string()))
        .date(p.date)
        .raw_header(auto_submitted())
        .raw_header(auto_response_suppress())
        // `Content-Language: de` (RFC 3282), for screen readers and translation offers.
        .raw_header(raw_header(
            "Content-Language",
            language_tag(p.content_language),
        ));
    if let Some(reply_to) = p.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    for to in &p.to {
        builder = builder.to(to.clone());
    }
    builder
}

/// The start of every boundary [`boundary`] makes.
const BOUNDARY_FAMILY: &str = "=_t2t_";

/// A part, encoded by lettre, which sends ASCII in short lines as `7bit`, as it is. Two kinds
/// of part must not travel that way, so they are sent quoted-printable (every `=`, CR and NUL
/// encoded) instead:
///
/// - one holding the boundary family's text: lettre's random boundaries are safe to leave to
///   chance, but ours is derived from the Message-ID (so a preview is the message sent, byte
///   for byte, and the content hash is stable), and a directory value could spell it and end
///   the part early;
/// - one holding a CR that starts no line break, or a NUL (a template saved with old Mac line
///   ends, a config value): lettre copies them into a `7bit` part, which RFC 5322 forbids and
///   relays refuse or read as a line break.
fn part(content_type: header::ContentType, body: &str) -> SinglePart {
    let builder = SinglePart::builder().header(content_type);
    let bare_cr = body.split("\r\n").any(|piece| piece.contains('\r'));
    if body.contains(BOUNDARY_FAMILY) || bare_cr || body.contains('\0') {
        builder
            .header(header::ContentTransferEncoding::QuotedPrintable)
            .body(body.to_string())
    } else {
        builder.body(body.to_string())
    }
}

fn boundary(message_id: &str) -> String {
    let digest = Sha256::digest(message_id.as_bytes());
    format!("{BOUNDARY_FAMILY}{}", hex::encode(&digest[..12]))
}

/// `<32 hex digits@domain>`, the same for the same campaign, user and test flag on every run.
pub fn message_id(campaign: &str, source_upn: &str, test: bool, domain: &str) -> String {
    let mut h = Sha256::new();
    h.update(campaign.as_bytes());
    h.update([0]);
    h.update(source_upn.to_lowercase().as_bytes());
    h.update([0, u8::from(test)]);
    format!(
        "<{}@{}>",
        hex::encode(&h.finalize()[..16]),
        domain.to_ascii_lowercase()
    )
}

/// sha256 over everything that is the same on every render: the headers except `Date`, the
/// text and the HTML.
pub fn content_sha256(bytes: &[u8], text: &str, html: &str) -> String {
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let mut h = Sha256::new();
    let mut in_date = false;
    for line in head.split("\r\n") {
        let continuation = line.starts_with([' ', '\t']);
        if !continuation {
            in_date = line
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("date:"));
        }
        if !in_date {
            h.update(line.as_bytes());
            h.update(b"\r\n");
        }
    }
    h.update([0]);
    h.update(text.as_bytes());
    h.update([0]);
    h.update(html.as_bytes());
    hex::encode(h.finalize())
}

/// Longest display name a header carries: Entra ID's limit for `displayName`. lettre folds a
/// header only between words, so a longer name (a directory value of one long word) would
/// make a line longer than the 998 characters RFC 5322 allows, which relays cut or refuse.
pub const MAX_HEADER_NAME_CHARS: usize = 256;

/// A cleaned name as a header carries it: cut at [`MAX_HEADER_NAME_CHARS`] characters.
pub fn header_name(name: &str) -> String {
    let cut: String = name.chars().take(MAX_HEADER_NAME_CHARS).collect();
    cut.trim_end().to_string()
}

/// A value fit for a header or a greeting: control characters, line and paragraph
/// separators and bidirectional overrides become spaces, runs of spaces one space.
pub fn clean_line(s: &str) -> String {
    let replaced: String = s
        .chars()
        .map(|c| {
            if c.is_control() || is_format_trick(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_format_trick(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_stable_case_insensitive_and_differs_for_tests() {
        let a = message_id("post-migration", "Ana@Contoso.com", false, "fabrikam.com");
        assert_eq!(
            a,
            message_id("post-migration", "ana@contoso.com", false, "fabrikam.com")
        );
        assert_ne!(
            a,
            message_id("post-migration", "ana@contoso.com", true, "fabrikam.com")
        );
        assert_ne!(
            a,
            message_id("reminder", "ana@contoso.com", false, "fabrikam.com")
        );
        assert!(
            a.starts_with('<')
                && a.ends_with("@fabrikam.com>")
                && a.len() == 32 + "<@fabrikam.com>".len()
        );
    }

    #[test]
    fn a_language_tag_cannot_carry_a_line_break() {
        assert_eq!(language_tag("de_AT"), "de-AT");
        assert_eq!(language_tag("fr\r\nBcc: x"), "frBccx");
    }

    #[test]
    fn clean_line_removes_line_breaks_and_bidi_tricks() {
        assert_eq!(
            clean_line("Eve\r\nBcc: x@evil.example"),
            "Eve Bcc: x@evil.example"
        );
        assert_eq!(clean_line("  a\t\u{202E}b\u{2028}c  "), "a b c");
        assert_eq!(clean_line("Zoë García"), "Zoë García");
    }

    /// A message from `from` to one recipient with `text` and `html`.
    fn parts<'a>(from: &'a Mailbox, id: &'a str, text: &'a str, html: &'a str) -> Parts<'a> {
        Parts {
            from,
            reply_to: None,
            to: vec!["ana@fabrikam.com".parse().unwrap()],
            subject: "s",
            message_id: id,
            date: SystemTime::UNIX_EPOCH,
            text,
            html,
            content_language: "en",
        }
    }

    #[test]
    fn a_part_that_spells_the_boundary_cannot_end_early() {
        let id = "<1@fabrikam.com>";
        let fence = format!("--{}", boundary(id));
        let from: Mailbox = "it@fabrikam.com".parse().unwrap();
        let text = format!("Hello,\n{fence}--\nshort ascii lines\n");
        let html = format!("<p>{fence}</p>");
        let bytes = build(&parts(&from, id, &text, &html)).unwrap();
        let raw = String::from_utf8(bytes).unwrap();
        let fences: Vec<&str> = raw.lines().filter(|l| l.starts_with(&fence)).collect();
        assert_eq!(fences.len(), 3, "two parts and the end:\n{raw}");
        assert_eq!(
            raw.matches("Content-Transfer-Encoding: quoted-printable")
                .count(),
            2,
            "{raw}"
        );
    }

    /// lettre would copy these into a `7bit` part as they are.
    #[test]
    fn a_bare_cr_or_nul_never_reaches_the_message() {
        let from: Mailbox = "it@fabrikam.com".parse().unwrap();
        for odd in ["old\rmac\rlines\n", "a nul \0 here\n"] {
            let bytes =
                build(&parts(&from, "<1@fabrikam.com>", odd, "<p>short ascii</p>")).unwrap();
            assert!(!bytes.contains(&0), "{odd:?}");
            let bare_cr = bytes
                .iter()
                .enumerate()
                .any(|(i, b)| *b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            assert!(!bare_cr, "{odd:?}");
            let raw = String::from_utf8(bytes).unwrap();
            assert_eq!(
                raw.matches("Content-Transfer-Encoding: quoted-printable")
                    .count(),
                1,
                "{raw}"
            );
        }
    }

    #[test]
    fn a_message_without_recipients_is_refused_like_the_builder_does() {
        let from: Mailbox = "it@fabrikam.com".parse().unwrap();
        let parts = Parts {
            to: Vec::new(),
            ..parts(&from, "<1@fabrikam.com>", "t", "h")
        };
        assert!(matches!(
            build(&parts),
            Err(lettre::error::Error::MissingTo)
        ));
    }

    #[test]
    fn content_hash_ignores_only_the_date() {
        let a = b"From: a\r\nDate: Mon, 1 Jan 2024\r\n 00:00:00\r\nTo: b\r\n\r\nbody";
        let b = b"From: a\r\nDate: Tue, 2 Jan 2024\r\n 11:11:11\r\nTo: b\r\n\r\nbody";
        let c = b"From: a\r\nDate: Tue, 2 Jan 2024\r\nTo: c\r\n\r\nbody";
        assert_eq!(content_sha256(a, "t", "h"), content_sha256(b, "t", "h"));
        assert_ne!(content_sha256(a, "t", "h"), content_sha256(c, "t", "h"));
        assert_ne!(content_sha256(a, "t", "h"), content_sha256(a, "t", "x"));
    }
}
