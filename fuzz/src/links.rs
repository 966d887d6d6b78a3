//! An independent look for links in a rendered notice, for the `render` target: everything a
//! mail reader could make clickable (`scheme://...` after any run of scheme characters, a bare
//! `www.`, and `href`/`src` attribute values), found without the code under test, and whether
//! it points where a notice may point.

use url::Url;

/// The hosts a notice may link to under the sample config: Microsoft's, both tenants' host URL
/// domains and `[message].allowed_link_domains`, with their subdomains.
pub const SAMPLE_ALLOWED: [&str; 7] = [
    "office.com",
    "microsoft365.com",
    "microsoft.com",
    "login.microsoftonline.com",
    "contoso-my.sharepoint.com",
    "fabrikam-my.sharepoint.com",
    "help.fabrikam.com",
];

/// Why `link` may not be in a notice, if it may not: it must be `https`, with no user name or
/// port, on one of `allowed` or below it. A bare `www.` link is read as `https://`.
pub fn refused(link: &str, allowed: &[&str]) -> Option<String> {
    let candidate = if link
        .get(..4)
        .is_some_and(|w| w.eq_ignore_ascii_case("www."))
    {
        format!("https://{link}")
    } else {
        link.to_string()
    };
    let Ok(url) = Url::parse(&candidate) else {
        return Some("not a URL".into());
    };
    if url.scheme() != "https" || !url.username().is_empty() || url.password().is_some() {
        return Some("not plain https".into());
    }
    if url.port().is_some() {
        return Some("a port".into());
    }
    let host = match url.host() {
        Some(url::Host::Domain(h)) => h.trim_end_matches('.').to_ascii_lowercase(),
        _ => return Some("no host name".into()),
    };
    let ok = allowed
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")));
    (!ok).then(|| format!("host {host} is not allowed"))
}

/// Where a link written in running text ends.
fn ends_link(c: char) -> bool {
    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`')
}

/// Readers leave sentence punctuation after a link out of it.
fn without_trailing_punctuation(link: &str) -> String {
    link.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '*', '_'])
        .to_string()
}

/// Every `scheme://rest` (the scheme being the run of ASCII letters, digits, `+`, `-` and `.`
/// before `://`) and every `www.rest` that starts a word (after white space, a bracket, a quote
/// or punctuation) in `text`. A scheme glued to the word before it (`x_https://`, `1https://`)
/// is no link, as linkifiers such as linkify-it see it.
pub fn in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("://") {
        let start = text[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map_or(at, |(i, _)| i);
        let end = text[at + 3..]
            .find(ends_link)
            .map_or(text.len(), |i| at + 3 + i);
        let glued = text[..start].ends_with('_')
            || !text[start..].starts_with(|c: char| c.is_ascii_alphabetic());
        let link = without_trailing_punctuation(&text[start..end]);
        if start < at && !glued && link.len() > at + 3 - start {
            out.push(link);
        }
    }
    let lower = text.to_ascii_lowercase();
    let starts_word = |at: usize| {
        text[..at].chars().next_back().is_none_or(|c| {
            c.is_whitespace() || matches!(c, '(' | '[' | '<' | '>' | '"' | '\'' | ':' | ';' | ',')
        })
    };
    for (at, _) in lower
        .match_indices("www.")
        .filter(|(at, _)| starts_word(*at))
    {
        let end = text[at..].find(ends_link).map_or(text.len(), |i| at + i);
        let link = without_trailing_punctuation(&text[at..end]);
        if link.len() > 4 {
            out.push(link);
        }
    }
    out
}

/// The values of `href` and `src` attributes (quoted or not), character references decoded.
pub fn in_attributes(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    for name in ["href", "src"] {
        for (at, _) in lower.match_indices(name) {
            let rest = html[at + name.len()..].trim_start();
            let Some(rest) = rest.strip_prefix('=') else {
                continue;
            };
            let rest = rest.trim_start();
            let value = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest
                    .split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
            };
            out.push(decode_references(value.trim()));
        }
    }
    out
}

/// Decodes HTML character references: decimal and hexadecimal ones and the named ones an
/// escaper writes (`amp`, `lt`, `gt`, `quot`, `apos`).
pub fn decode_references(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let hex = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"));
                    match hex {
                        Some(h) => u32::from_str_radix(h, 16).ok(),
                        None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
                    }
                    .and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
