//! Checks `[message] allowed_link_domains` when the config is loaded: each entry is a host
//! name the link check allows (with everything below it), so it must be a domain of the
//! organisation itself, never a public suffix such as `com` or `co.uk` (which would let any
//! link through), a URL, a path, a wildcard, an IP address or an empty string. The Public
//! Suffix List is compiled in (the `psl` crate), so the check needs no network.

use std::net::IpAddr;

const KEY: &str = "[message] allowed_link_domains";
const EXAMPLE: &str = "write only the host name, like \"help.fabrikam.com\"";

/// Every problem of the list, each naming the key, the value and how to fix it.
pub fn problems(domains: &[String]) -> Vec<String> {
    domains
        .iter()
        .filter_map(|d| check(d).err().map(|why| format!("{KEY}: `{d}` {why}")))
        .collect()
}

/// Why `value` cannot be an allowed link domain.
pub fn check(value: &str) -> Result<(), String> {
    let host = value.trim().trim_end_matches('.');
    if host.is_empty() {
        return Err(format!("is empty; delete the entry or {EXAMPLE}"));
    }
    if host.contains("://") || host.to_ascii_lowercase().starts_with("mailto:") {
        return Err(format!(
            "is a URL, not a domain; {EXAMPLE} (links below it are allowed with any path)"
        ));
    }
    if host.contains(['/', '?', '#', '\\']) {
        return Err(format!(
            "has a path; {EXAMPLE} (links below it are allowed with any path)"
        ));
    }
    if host.contains('*') {
        return Err("is a wildcard; write the domain itself, like \"fabrikam.com\": its subdomains are allowed too".into());
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        return Err(format!(
            "is an IP address; a notice links to a host name of your organisation: {EXAMPLE}"
        ));
    }
    if host.contains(':') {
        return Err(format!("has a port; {EXAMPLE}"));
    }
    if let Some(c) = host
        .chars()
        .find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(format!(
            "contains {c:?}, which a host name cannot; {EXAMPLE}"
        ));
    }
    if host.split('.').any(str::is_empty) {
        return Err(format!("has an empty label (two dots in a row); {EXAMPLE}"));
    }
    let lower = host.to_lowercase();
    if psl::suffix_str(&lower) == Some(lower.as_str()) {
        return Err("is a public suffix (anyone can register a name below it), so every link under it would pass the link check; write a domain of your organisation, like \"help.fabrikam.com\" or \"fabrikam.com\"".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_suffixes_urls_paths_wildcards_ips_and_empty_strings_are_refused() {
        for (value, why) in [
            ("com", "public suffix"),
            ("co.uk", "public suffix"),
            ("CO.UK.", "public suffix"),
            ("github.io", "public suffix"),
            ("http://help.fabrikam.com", "is a URL"),
            ("*.fabrikam.com", "wildcard"),
            ("fabrikam.com/help", "has a path"),
            ("10.0.0.1", "IP address"),
            ("[::1]", "IP address"),
            ("help.fabrikam.com:443", "port"),
            ("", "is empty"),
            ("  ", "is empty"),
            ("fab rikam.com", "contains ' '"),
            ("fabrikam..com", "empty label"),
        ] {
            let err = check(value).expect_err(value);
            assert!(err.contains(why), "{value}: {err}");
        }
    }

    #[test]
    fn the_organisations_domains_pass() {
        for value in [
            "help.fabrikam.com",
            "fabrikam.com",
            "fabrikam.co.uk",
            "contoso.sharepoint.com",
        ] {
            assert_eq!(check(value), Ok(()), "{value}");
        }
    }

    #[test]
    fn problems_name_the_key_and_the_value() {
        let got = problems(&["com".into(), "help.fabrikam.com".into()]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("[message] allowed_link_domains: `com` is a public suffix"));
    }
}
