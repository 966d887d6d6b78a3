//! The link check: every URL in a rendered notice (HTML `href`/`src`, and plain URLs in the
//! text and the HTML) must be `https` on an allowed host, so the notice never teaches people to
//! click a look-alike. A host is allowed when it equals an allowed domain or is a subdomain of
//! one; `contoso-my.sharepoint.com.evil.example` is neither of `contoso-my.sharepoint.com`.
//! A notice before the move allows fewer hosts ([`AllowedHosts::before_move`]): no sign-in
//! page, since people must not sign in to the new tenant before their move.

use std::sync::LazyLock;

use regex::Regex;

/// Microsoft's sign-in and app hosts, always allowed.
pub const MICROSOFT_DOMAINS: [&str; 4] = [
    "office.com",
    "microsoft365.com",
    "microsoft.com",
    "login.microsoftonline.com",
];

/// The only Microsoft host a notice before the move may link to: help articles (pausing the
/// sync app). Sign-in and app hosts are left out, since people must not sign in to the new
/// tenant before their move.
pub const BEFORE_MOVE_MICROSOFT_DOMAINS: [&str; 1] = ["support.microsoft.com"];

static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?-u:\b)(?:href|src|action|background|poster|cite|formaction)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))"#).unwrap()
});
static CSS_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)url\(\s*['"]?([^'")\s]+)"#).unwrap());
/// A plain URL is `scheme://...` or `www....` up to white space, `<`, `>`, a quote or a
/// backtick. A scheme needs no word boundary before it: `x_https://evil.example/` in a display
/// name is checked like any other link (a mail reader may well link its `https://` part).
/// Two patterns rather than one alternation, so that the regex crate can look for each one's
/// literal (`://`, `www.`) first; [`plain_urls`] merges what they find.
static SCHEME_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)[a-z][a-z0-9+.-]*://[^\s<>"'`]+"#).unwrap());
static WWW_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)(?-u:\b)www\.[^\s<>"'`]+"#).unwrap());

/// Why one link is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error("is not a valid URL ({0})")]
    Invalid(#[from] url::ParseError),
    #[error("uses {0}:, only https links are allowed")]
    Scheme(String),
    #[error("has a user name before the host, a trick to hide the real host")]
    UserName,
    #[error("names a port; links must use the standard https port")]
    Port,
    #[error("host {0} is not one of the tenants' hosts, Microsoft's hosts or [message].allowed_link_domains")]
    Host(String),
    #[error("host {0} is not one of the source tenant's hosts, support.microsoft.com or [message].allowed_link_domains (a notice before the move links to no sign-in page: people must not sign in to the new tenant yet)")]
    HostBeforeMove(String),
    #[error("points to an IP address, not a host name")]
    IpAddress,
    #[error("has no host")]
    NoHost,
}

/// A refused link in one rendered part; `send` refuses to send a notice that has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {template}: {url}: {why}")]
pub struct LinkError {
    /// `<locale>/<part>`, e.g. `en/text`.
    pub template: String,
    pub url: String,
    #[source]
    pub why: LinkRefusal,
}

/// The hosts links may point to.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    domains: Vec<String>,
    /// A notice before the move: only [`BEFORE_MOVE_MICROSOFT_DOMAINS`] of Microsoft's hosts.
    before_move: bool,
}

impl AllowedHosts {
    /// Microsoft's hosts plus `extra` (tenant hosts, `[message].allowed_link_domains`).
    pub fn new(extra: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        Self::with(&MICROSOFT_DOMAINS, extra, false)
    }

    /// For a notice before the move: [`BEFORE_MOVE_MICROSOFT_DOMAINS`] plus `extra` (the source
    /// tenant's hosts, `[message].allowed_link_domains`), none of Microsoft's sign-in hosts.
    pub fn before_move(extra: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        Self::with(&BEFORE_MOVE_MICROSOFT_DOMAINS, extra, true)
    }

    fn with(
        microsoft: &[&str],
        extra: impl IntoIterator<Item = impl AsRef<str>>,
        before_move: bool,
    ) -> Self {
        let mut domains: Vec<String> = microsoft.iter().map(|d| d.to_string()).collect();
        for d in extra {
            let d = d
                .as_ref()
                .trim()
                .trim_start_matches("*.")
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if !d.is_empty() && !domains.contains(&d) {
                domains.push(d);
            }
        }
        AllowedHosts {
            domains,
            before_move,
        }
    }

    /// The allowed domains, for messages and the gallery.
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// True when `host` is an allowed domain or below one.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.domains.iter().any(|d| {
            host == *d
                || (host.len() > d.len()
                    && host.ends_with(d.as_str())
                    && host.as_bytes()[host.len() - d.len() - 1] == b'.')
        })
    }

    /// Checks one URL; the error says why it is refused.
    pub fn check(&self, raw: &str) -> Result<(), LinkRefusal> {
        let candidate = if raw.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("www.")) {
            format!("https://{raw}")
        } else {
            raw.to_string()
        };
        let url = url::Url::parse(&candidate)?;
        if url.scheme() != "https" {
            return Err(LinkRefusal::Scheme(url.scheme().to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(LinkRefusal::UserName);
        }
        if url.port().is_some() {
            return Err(LinkRefusal::Port);
        }
        match url.host() {
            Some(url::Host::Domain(host)) if self.allows(host) => Ok(()),
            Some(url::Host::Domain(host)) if self.before_move => {
                Err(LinkRefusal::HostBeforeMove(host.to_string()))
            }
            Some(url::Host::Domain(host)) => Err(LinkRefusal::Host(host.to_string())),
            Some(_) => Err(LinkRefusal::IpAddress),
            None => Err(LinkRefusal::NoHost),
        }
    }
}

/// Every URL in an HTML document: attribute values (entities decoded), CSS `url(...)`, and
/// plain URLs in the text, each with the URLs inside it (see [`urls_in_text`]).
pub fn urls_in_html(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let attributes = ATTRIBUTE.captures_iter(html).filter_map(|c| {
        let value = c.get(1).or(c.get(2)).or(c.get(3))?;
        Some(decode_entities(value.as_str().trim()))
    });
    let css = CSS_URL.captures_iter(html).map(|c| decode_entities(&c[1]));
    for url in attributes.chain(css) {
        add_with_nested(url, &mut urls);
    }
    for url in urls_in_text(&decode_entities(html)) {
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

/// Every plain URL (`scheme://...` or `www....`) in a text, without trailing punctuation, and
/// every URL inside one of them (`https://allowed.example/?next=https://evil.example/` is also
/// checked as `https://evil.example/`: an allowed host that redirects is no reason to pass a
/// link to another).
pub fn urls_in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for found in plain_urls(text) {
        let url = found.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '*', '_']);
        add_with_nested(url.to_string(), &mut out);
    }
    out
}

/// The plain URLs of `text`, left to right. Two matches that overlap end at the same character
/// (neither pattern takes the characters that end a URL), so of those the one that starts
/// first is the URL, as one `scheme://...|www....` alternation would find it.
fn plain_urls(text: &str) -> Vec<&str> {
    let mut found: Vec<(usize, &str)> = SCHEME_URL
        .find_iter(text)
        .chain(WWW_URL.find_iter(text))
        .map(|m| (m.start(), m.as_str()))
        .collect();
    found.sort_by_key(|&(start, _)| start);
    let mut end = 0;
    found.retain(|&(start, url)| {
        let keep = start >= end;
        end = end.max(start + url.len());
        keep
    });
    found.into_iter().map(|(_, url)| url).collect()
}

/// `url`, then the URLs in what follows its `://` (or its `www.`).
fn add_with_nested(url: String, out: &mut Vec<String>) {
    let body = url.find("://").map(|i| i + 3).or_else(|| {
        url.get(..4)
            .filter(|w| w.eq_ignore_ascii_case("www."))
            .map(|_| 4)
    });
    let nested = body.map(|b| urls_in_text(&url[b..])).unwrap_or_default();
    out.push(url);
    out.extend(nested);
}

/// Decodes the character references (`&#x3A;`, `&colon;`, every HTML5 name) that can hide a
/// URL's real text.
fn decode_entities(s: &str) -> String {
    html_escape::decode_html_entities(s).into_owned()
}

/// Checks every URL of one rendered part; each refused link is listed once.
pub fn check_part(
    allowed: &AllowedHosts,
    template: &str,
    urls: &[String],
    problems: &mut Vec<LinkError>,
) {
    for url in urls {
        if let Err(why) = allowed.check(url) {
            let problem = LinkError {
                template: template.to_string(),
                url: url.clone(),
                why,
            };
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_inside_a_url_is_checked_too() {
        let text = "See https://contoso-my.sharepoint.com/personal/a?next=https://evil.example/x.";
        let urls = urls_in_text(text);
        assert_eq!(
            urls,
            [
                "https://contoso-my.sharepoint.com/personal/a?next=https://evil.example/x",
                "https://evil.example/x"
            ]
        );
        let html =
            "<a href=\"https://contoso-my.sharepoint.com/r?u=https&#x3A;//evil.example/\">x</a>";
        assert!(urls_in_html(html).contains(&"https://evil.example/".to_string()));
        assert_eq!(
            urls_in_text("https://www.office.com/"),
            ["https://www.office.com/", "www.office.com/"]
        );
    }

    fn allowed() -> AllowedHosts {
        AllowedHosts::new(["contoso-my.sharepoint.com", "help.fabrikam.com"])
    }

    /// Look-alike hosts, user names, other schemes, IP addresses and ports are refused with
    /// their reason; subdomains of allowed hosts pass.
    #[test]
    fn each_link_passes_or_says_why_not() {
        let a = allowed();
        // (URL, None when it passes, else a part of the refusal)
        for (url, refused) in [
            ("https://contoso-my.sharepoint.com/personal/x", None),
            (
                "https://contoso-my.sharepoint.com.evil.example/personal/x",
                Some("host contoso-my.sharepoint.com.evil.example"),
            ),
            ("https://evilcontoso-my.sharepoint.com/", Some("host")),
            (
                "https://contoso-my.sharepoint.com@evil.example/",
                Some("user name"),
            ),
            ("https://www.microsoft365.com/", None),
            ("https://support.microsoft.com/en-us/office", None),
            ("https://login.microsoftonline.com/", None),
            (
                "https://microsoftonline.com/",
                Some("host microsoftonline.com"),
            ),
            ("http://www.office.com/", Some("uses http:")),
            ("javascript:alert(1)", Some("uses javascript:")),
            ("https://10.0.0.1/", Some("IP address")),
            ("https://www.office.com:8443/", Some("port")),
            ("www.office.com", None),
        ] {
            match (a.check(url), refused) {
                (Ok(()), None) => {}
                (Err(why), Some(part)) if why.to_string().contains(part) => {}
                (got, _) => panic!("{url}: {got:?}, expected a refusal with {refused:?}"),
            }
        }
    }

    /// Before the move only help articles of Microsoft's hosts pass, never a sign-in host.
    #[test]
    fn before_the_move_no_sign_in_host_is_allowed() {
        let a = AllowedHosts::before_move(["contoso-my.sharepoint.com", "help.fabrikam.com"]);
        for ok in [
            "https://support.microsoft.com/en-us/office/pause-sync",
            "https://contoso-my.sharepoint.com/personal/x",
            "https://help.fabrikam.com/move",
        ] {
            assert_eq!(a.check(ok), Ok(()), "{ok}");
        }
        for refused in [
            "https://www.microsoft365.com/",
            "https://login.microsoftonline.com/",
            "https://www.office.com/",
            "https://microsoft.com/",
            "https://fabrikam-my.sharepoint.com/",
        ] {
            let why = a.check(refused).unwrap_err();
            assert!(
                matches!(why, LinkRefusal::HostBeforeMove(_)),
                "{refused}: {why:?}"
            );
            assert!(why.to_string().starts_with("host "), "{why}");
        }
    }

    #[test]
    fn finds_urls_in_attributes_css_and_text() {
        let html = r#"<a href="https://a.example/x?y=1&amp;z=2">go</a> <img src='https://b.example/i.png'>
            <td style="background:url(https://c.example/bg.png)">see https://d.example/p, or www.e.example.</td>
            <a href="&#104;ttps://f.example/">hidden</a>"#;
        let urls = urls_in_html(html);
        for want in [
            "https://a.example/x?y=1&z=2",
            "https://b.example/i.png",
            "https://c.example/bg.png",
            "https://d.example/p",
            "www.e.example",
            "https://f.example/",
        ] {
            assert!(urls.iter().any(|u| u == want), "{want} not in {urls:?}");
        }
    }

    /// Found by the `render` fuzz target (`fuzz/regressions/render/link-not-char-boundary`):
    /// the `www.` test sliced the first four bytes, inside a character when the link starts
    /// with a short multi-byte one, so a display name like `abcſ://x` (the long s counts as a
    /// scheme letter) panicked `preview` and `send`.
    #[test]
    fn links_with_multibyte_characters_in_the_first_four_bytes_are_checked() {
        let a = allowed();
        assert!(a.check("abc\u{17F}://evil.example/").is_err());
        assert!(a.check("a \u{FFFD}( x").is_err());
        assert!(a.check("ww\u{E9}.office.com").is_err());
        let urls = urls_in_text("Hello abc\u{17F}://evil.example/ today");
        assert_eq!(urls, ["abc\u{17F}://evil.example/"]);
        let mut problems = Vec::new();
        check_part(&a, "en/text", &urls, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn plain_urls_are_found_with_glued_schemes_and_www_at_a_word_start() {
        let text = "Open https://contoso-my.sharepoint.com/personal/a_b, or www.office.com. \
                    See <a href=\"https://x.example/\">x</a> and HTTPS://Y.example/p?q=1 \
                    (or mailto:a@b) ftp://z.example x_http://no www.\twww.ok.example";
        assert_eq!(
            plain_urls(text),
            [
                "https://contoso-my.sharepoint.com/personal/a_b,",
                "www.office.com.",
                "https://x.example/",
                "HTTPS://Y.example/p?q=1",
                "ftp://z.example",
                "http://no",
                "www.ok.example"
            ]
        );
    }

    /// The two patterns and their merge find what one alternation finds (a scan from left to
    /// right that tries `scheme://` before `www.` at each place).
    #[test]
    fn plain_urls_are_what_one_alternation_finds() {
        use rand::{Rng, SeedableRng};
        let one = Regex::new(r#"(?i)(?:[a-z][a-z0-9+.-]*://|(?-u:\b)www\.)[^\s<>"'`]+"#).unwrap();
        let pieces = [
            "www.", "WWW.", "://", "http", "s", "x", "_", ".", "-", "+", "1", " ", "<", "\"", "'",
            "`", "/", "\u{17F}", "é", "\t",
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(16);
        for _ in 0..5000 {
            let text: String = (0..rng.random_range(0..14))
                .map(|_| pieces[rng.random_range(0..pieces.len())])
                .collect();
            let expected: Vec<&str> = one.find_iter(&text).map(|m| m.as_str()).collect();
            assert_eq!(plain_urls(&text), expected, "{text:?}");
        }
    }

    #[test]
    fn a_refusal_keeps_the_url_parser_error_and_a_link_error_its_refusal() {
        let why = allowed().check("https://").unwrap_err();
        assert_eq!(why, LinkRefusal::Invalid(url::ParseError::EmptyHost));
        let source = std::error::Error::source(&why).unwrap();
        assert!(source.is::<url::ParseError>(), "{source:?}");
        let mut problems = Vec::new();
        check_part(
            &allowed(),
            "en/text",
            &["http://x.example/".into()],
            &mut problems,
        );
        let source = std::error::Error::source(&problems[0]).unwrap();
        assert_eq!(
            source.to_string(),
            "uses http:, only https links are allowed"
        );
    }

    #[test]
    fn problems_name_template_and_url() {
        let mut problems = Vec::new();
        let urls =
            urls_in_text("Open https://contoso-my.sharepoint.com.evil.example/personal/x today.");
        check_part(&allowed(), "en/text", &urls, &mut problems);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].to_string().starts_with(
                "template en/text: https://contoso-my.sharepoint.com.evil.example/personal/x: host"
            ),
            "{problems:?}"
        );
    }
}
