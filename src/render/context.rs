//! The data a template sees. Every name a shipped template uses is always present (empty
//! values are `null`), so strict mode only fails on a real typo or a column a user lacks.
//!
//! - `recipient`: `name` (DisplayName, else GivenName, else null), `given_name`,
//!   `greeting_name` (GivenName, else a DisplayName not written "Last, First", else null), `guest`,
//!   `source_upn`, `previous_account` (a guest's home address), `target_upn`, `email`,
//!   `onedrive_url`, `directory` (every extra directory column, e.g. `directory.Department`)
//! - `organization`: `name`, `source_name` (or null), `helpdesk`, and the helpdesk text split at its first https URL
//!   (`helpdesk_before`, `helpdesk_url`, `helpdesk_after`) so HTML can make the URL a link;
//!   `sender`: `name`, `address`
//! - `links`: `app_launcher` (Microsoft 365), `onedrive` (the person's new OneDrive)
//! - `move`: `planned_start` (ISO date, pre-move) and `planned_start_text` (written out in the
//!   notice's language, see [`super::dates`]); `reminder`: `number` (1 for the first reminder)
//! - `locale`, `campaign`, `campaign_kind` (`pre-move`, `post-move`, `reminder`)

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::message::clean_line;
use crate::plan::Recipient;

/// The Microsoft 365 app launcher, where people sign in and find OneDrive.
pub const APP_LAUNCHER: &str = "https://www.microsoft365.com/";

#[derive(Debug, Serialize)]
pub struct Data<'a> {
    pub recipient: RecipientData<'a>,
    pub organization: OrganizationData<'a>,
    pub sender: Sender<'a>,
    pub links: Links<'a>,
    pub locale: &'a str,
    pub campaign: &'a str,
    /// `pre-move`, `post-move` or `reminder`.
    pub campaign_kind: &'a str,
    #[serde(rename = "move")]
    pub move_: MoveData,
    pub reminder: ReminderData,
}

/// When the person's OneDrive moves (null but in a pre-move notice of a scheduled move).
#[derive(Debug, Serialize)]
pub struct MoveData {
    /// `2026-12-08`.
    pub planned_start: Option<String>,
    /// `Tuesday 8 December 2026`, in the notice's language.
    pub planned_start_text: Option<String>,
}

impl MoveData {
    pub fn new(planned_start: Option<NaiveDate>, locale: &str) -> Self {
        MoveData {
            planned_start: planned_start.map(|d| d.format("%Y-%m-%d").to_string()),
            planned_start_text: planned_start.map(|d| super::dates::written(d, locale)),
        }
    }
}

/// Which reminder this is (null but in a reminder).
#[derive(Debug, Serialize)]
pub struct ReminderData {
    pub number: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct RecipientData<'a> {
    pub name: Option<String>,
    pub given_name: Option<String>,
    /// The name to greet with: see [`greeting_name`].
    pub greeting_name: Option<String>,
    pub guest: bool,
    pub source_upn: &'a str,
    pub previous_account: String,
    pub target_upn: &'a str,
    pub email: &'a str,
    pub onedrive_url: &'a str,
    pub directory: BTreeMap<&'a str, String>,
}

#[derive(Debug, Serialize)]
pub struct OrganizationData<'a> {
    pub name: &'a str,
    pub helpdesk: &'a str,
    /// `[organization].source_name`, or null.
    pub source_name: Option<&'a str>,
    /// The helpdesk text before its first `https://` URL (all of it when it has none).
    pub helpdesk_before: &'a str,
    /// That URL, without trailing punctuation, or null.
    pub helpdesk_url: Option<&'a str>,
    /// The text after the URL.
    pub helpdesk_after: &'a str,
}

impl<'a> OrganizationData<'a> {
    pub fn new(name: &'a str, helpdesk: &'a str, source_name: Option<&'a str>) -> Self {
        let (helpdesk_before, helpdesk_url, helpdesk_after) = split_first_url(helpdesk);
        OrganizationData {
            name,
            helpdesk,
            source_name: source_name.map(str::trim).filter(|s| !s.is_empty()),
            helpdesk_before,
            helpdesk_url,
            helpdesk_after,
        }
    }
}

/// `("Desk, ", Some("https://help.example"), ".")` for `Desk, https://help.example.`: the text
/// around the first `https://` URL, which runs to the next space and loses trailing punctuation.
pub fn split_first_url(text: &str) -> (&str, Option<&str>, &str) {
    let Some(start) = text.to_ascii_lowercase().find("https://") else {
        return (text, None, "");
    };
    let rest = &text[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let url =
        rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '>', '"', '\'']);
    if url.len() <= "https://".len() {
        return (text, None, "");
    }
    (&text[..start], Some(url), &text[start + url.len()..])
}

#[derive(Debug, Serialize)]
pub struct Sender<'a> {
    pub name: Option<&'a str>,
    pub address: String,
}

#[derive(Debug, Serialize)]
pub struct Links<'a> {
    pub app_launcher: &'a str,
    pub onedrive: &'a str,
}

/// The template data for one person.
pub fn recipient(r: &Recipient) -> RecipientData<'_> {
    let directory = r
        .directory
        .iter()
        .flat_map(|d| d.extra.iter())
        .map(|(k, v)| (&**k, clean_line(v)))
        .collect();
    let name = r.display_name().map(clean_line).filter(|n| !n.is_empty());
    let given_name = r
        .directory
        .as_ref()
        .and_then(|d| d.given_name.as_deref())
        .map(clean_line)
        .filter(|n| !n.is_empty());
    RecipientData {
        greeting_name: greeting_name(given_name.as_deref(), name.as_deref()),
        name,
        given_name,
        guest: r.guest,
        source_upn: &r.user.source_upn,
        previous_account: if r.guest {
            crate::plan::guest_address(&r.user, r.directory.as_deref())
                .unwrap_or_else(|| r.user.source_upn.clone())
        } else {
            r.user.source_upn.clone()
        },
        target_upn: &r.user.target_upn,
        email: &r.user.target_email,
        onedrive_url: &r.onedrive_url,
        directory,
    }
}

/// Who the greeting names: the GivenName when the directory has one; else the DisplayName,
/// unless it is written "Last, First" (`Müller, Hans` would read "Hello Müller, Hans,"); else
/// nobody, and the templates greet neutrally.
pub fn greeting_name(given_name: Option<&str>, display_name: Option<&str>) -> Option<String> {
    given_name
        .or(display_name.filter(|d| !d.contains(',')))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_https_url_of_the_helpdesk_text_is_split_out() {
        assert_eq!(
            split_first_url("Desk, +1 555 0100, https://help.fabrikam.com"),
            ("Desk, +1 555 0100, ", Some("https://help.fabrikam.com"), "")
        );
        assert_eq!(
            split_first_url("See HTTPS://help.example/it. Or call."),
            ("See ", Some("HTTPS://help.example/it"), ". Or call.")
        );
        assert_eq!(split_first_url("Call 0100"), ("Call 0100", None, ""));
        assert_eq!(split_first_url("x https:// y"), ("x https:// y", None, ""));
    }

    #[test]
    fn the_greeting_prefers_the_given_name_and_never_reads_last_first() {
        // (GivenName, DisplayName, greeting)
        for (given, display, greeting) in [
            (Some("Hans"), Some("Müller, Hans"), Some("Hans")),
            (Some("Ana"), Some("Ana Martínez"), Some("Ana")),
            (None, Some("Müller, Hans"), None),
            (None, Some("Ana Martínez"), Some("Ana Martínez")),
            (None, None, None),
        ] {
            let got = greeting_name(given, display);
            assert_eq!(got.as_deref(), greeting, "{given:?}, {display:?}");
        }
    }

    /// A guest's address at home: `jane_fabrikam.com#EXT#@contoso.onmicrosoft.com` is
    /// `jane@fabrikam.com` (the last `_` stands for the `@`); other UPNs have none.
    #[test]
    fn guest_home_address() {
        use crate::plan::home_address;
        assert_eq!(
            home_address("noah.novak9_partner.example#EXT#@contoso.onmicrosoft.com").unwrap(),
            "noah.novak9@partner.example"
        );
        assert_eq!(
            home_address("a_b_c.com#ext#@contoso.onmicrosoft.com").unwrap(),
            "a_b@c.com"
        );
        assert_eq!(home_address("ana@contoso.com"), None);
        assert_eq!(home_address("_x#EXT#@contoso.onmicrosoft.com"), None);
    }
}
