//! Builds the MIME message with lettre: `multipart/alternative` (text, then HTML), UTF-8,
//! encoded display names, a stable `Message-ID`, and the headers that keep out-of-office
//! replies away (`Auto-Submitted`, `X-Auto-Response-Suppress`). Every value that reaches a
//! header is cleaned of control characters first, so no CSV field can add a header. A part goes
//! `7bit` when it can (ASCII in short lines, see [`super::seven_bit`]) and quoted-printable
//! otherwise; a part holding the text of the
//! `--=_t2t_` boundary family always goes quoted-printable, which encodes every `=`, so no line
//! of a part can end it early, whatever a directory field contains.

use std::io::Write;
use std::time::SystemTime;

use lettre::message::header::{self, Header, HeaderName, HeaderValue, Headers};
use lettre::message::{Body, Mailbox, Mailboxes, MultiPart, SinglePart};
use sha2::{Digest, Sha256};

/// `Auto-Submitted: auto-generated` (RFC 3834): tells servers not to auto-reply.
#[derive(Debug, Clone)]
pub(crate) struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// `X-Auto-Response-Suppress: All`: tells Exchange and Outlook to send no automatic replies.
#[derive(Debug, Clone)]
pub(crate) struct AutoResponseSuppress;

impl Header for AutoResponseSuppress {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoResponseSuppress)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "All".into())
    }
}

/// `Content-Language: de` (RFC 3282): the language of the notice, for screen readers and
/// translation offers. Its value comes from [`Parts::content_language`].
#[derive(Debug, Clone)]
pub(crate) struct ContentLanguage(pub String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.trim().to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
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
/// renders of the same notice differ only in the `Date` header.
///
/// The headers go into lettre's `Headers` in the order `lettre::Message::builder()` writes
/// them, and lettre formats the headers and the parts, but the builder itself is skipped: its
/// `build` parses `From`, `To` and `Date` back out of the formatted headers to check them and
/// derive an envelope, which cost a fifth of a message's build here (the envelope comes from
/// the recipients directly). A test compares the bytes with the builder's. Like the builder,
/// it refuses a message without recipients.
pub fn build(p: &Parts<'_>) -> Result<Vec<u8>, lettre::error::Error> {
    if p.to.is_empty() {
        return Err(lettre::error::Error::MissingTo);
    }
    let mut headers = Headers::new();
    headers.set(header::From::from(Mailboxes::from(p.from.clone())));
    headers.set(header::Subject::from(p.subject.to_string()));
    headers.set(header::MessageId::from(p.message_id.to_string()));
    headers.set(header::Date::new(p.date));
    headers.set(AutoSubmitted);
    headers.set(AutoResponseSuppress);
    headers.set(ContentLanguage(language_tag(p.content_language)));
    if let Some(reply_to) = p.reply_to {
        headers.set(header::ReplyTo::from(Mailboxes::from(reply_to.clone())));
    }
    headers.set(header::To::from(
        p.to.iter().cloned().collect::<Mailboxes>(),
    ));
    headers.set(header::MIME_VERSION_1_0);
    let body = MultiPart::alternative()
        .boundary(boundary(p.message_id))
        .singlepart(part(header::ContentType::TEXT_PLAIN, p.text))
        .singlepart(part(header::ContentType::TEXT_HTML, p.html));
    let mut out = Vec::with_capacity(1024 + p.text.len() + p.html.len() * 105 / 100);
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{headers}");
    out.extend_from_slice(&body.formatted());
    Ok(out)
}

/// A part encoded here, `7bit` when it can be, else by [`super::qp`] (one pass, every `=`
/// encoded), rather than by lettre, which would scan the part to choose an encoding and
/// normalise its line breaks first.
fn part(content_type: header::ContentType, body: &str) -> SinglePart {
    let encoded = match super::seven_bit::encode(body) {
        Some(bytes) => {
            Body::dangerous_pre_encoded(bytes, header::ContentTransferEncoding::SevenBit)
        }
        None => Body::dangerous_pre_encoded(
            super::qp::encode(body),
            header::ContentTransferEncoding::QuotedPrintable,
        ),
    };
    SinglePart::builder().header(content_type).body(encoded)
}

fn boundary(message_id: &str) -> String {
    let digest = Sha256::digest(message_id.as_bytes());
    format!("=_t2t_{}", hex::encode(&digest[..12]))
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

    #[test]
    fn a_part_that_spells_the_boundary_cannot_end_early() {
        let id = "<1@fabrikam.com>";
        let fence = format!("--{}", boundary(id));
        let from: Mailbox = "it@fabrikam.com".parse().unwrap();
        let text = format!("Hello,\n{fence}--\nshort ascii lines\n");
        let bytes = build(&Parts {
            from: &from,
            reply_to: None,
            to: vec!["ana@fabrikam.com".parse().unwrap()],
            subject: "s",
            message_id: id,
            date: SystemTime::UNIX_EPOCH,
            text: &text,
            html: &format!("<p>{fence}</p>"),
            content_language: "en",
        })
        .unwrap();
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

    /// What `build` wrote before it skipped the builder: lettre's `MessageBuilder`.
    fn built_by_lettre(p: &Parts<'_>) -> Vec<u8> {
        let mut builder = lettre::Message::builder()
            .from(p.from.clone())
            .subject(p.subject)
            .message_id(Some(p.message_id.to_string()))
            .date(p.date)
            .header(AutoSubmitted)
            .header(AutoResponseSuppress)
            .header(ContentLanguage(language_tag(p.content_language)));
        if let Some(reply_to) = p.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        for to in &p.to {
            builder = builder.to(to.clone());
        }
        let body = MultiPart::alternative()
            .boundary(boundary(p.message_id))
            .singlepart(part(header::ContentType::TEXT_PLAIN, p.text))
            .singlepart(part(header::ContentType::TEXT_HTML, p.html));
        builder.multipart(body).unwrap().formatted()
    }

    #[test]
    fn the_message_is_byte_for_byte_what_lettres_builder_makes() {
        let from: Mailbox = "\"Fabrikam IT, Zoë\" <it@fabrikam.com>".parse().unwrap();
        let reply: Mailbox = "Service Désk <help@fabrikam.com>".parse().unwrap();
        let names = [
            "ana@fabrikam.com",
            "Ana Martínez <ana@fabrikam.com>",
            "\"O'Brien, Seán\" <sean@fabrikam.com>",
            "=?utf-8?q?x?= <q@fabrikam.com>",
            "Łukasz Weiß <lukasz.weiss@fabrikam.com>",
        ];
        let long = "a long subject line ".repeat(8);
        let subjects = [
            "Your OneDrive has moved",
            "Ihr OneDrive ist umgezogen: Grüße",
            &long,
        ];
        for (i, subject) in subjects.iter().enumerate() {
            for n in 1..=names.len() {
                let to: Vec<Mailbox> = names[..n].iter().map(|a| a.parse().unwrap()).collect();
                let parts = Parts {
                    from: &from,
                    reply_to: (n % 2 == 0).then_some(&reply),
                    to,
                    subject,
                    message_id: "<5f2a@fabrikam.com>",
                    date: SystemTime::UNIX_EPOCH
                        + std::time::Duration::from_secs(1_790_000_000 + i as u64),
                    text: "Hello Zoë,\n.a line with a dot\n",
                    html: "<p>Hello Zoë</p>",
                    content_language: ["en", "de-AT", "fr"][n % 3],
                };
                assert_eq!(
                    String::from_utf8(build(&parts).unwrap()).unwrap(),
                    String::from_utf8(built_by_lettre(&parts)).unwrap()
                );
            }
        }
    }

    #[test]
    fn a_message_without_recipients_is_refused_like_the_builder_does() {
        let from: Mailbox = "it@fabrikam.com".parse().unwrap();
        let parts = Parts {
            from: &from,
            reply_to: None,
            to: Vec::new(),
            subject: "s",
            message_id: "<1@fabrikam.com>",
            date: SystemTime::UNIX_EPOCH,
            text: "t",
            html: "h",
            content_language: "en",
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
