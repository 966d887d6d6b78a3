//! Checks `[message] allowed_link_domains` when the config is loaded: each entry is a host
//! name the link check allows (with everything below it), so it must be a domain of the
//! organisation itself, never a public suffix such as `com` or `co.uk` (which would let any
//! link through), a URL, a path, a wildcard, an IP address or an empty string. The Public
//! Suffix List is compiled in (the `psl` crate), so the check needs no network.

use std::net::IpAddr;

const EXAMPLE: &str = "write only the host name, like \"help.fabrikam.com\"";

/// Why a value cannot be an allowed link domain.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkDomainError {
    #[error("is empty; delete the entry or {EXAMPLE}")]
    Empty,
    #[error("is a URL, not a domain; {EXAMPLE} (links below it are allowed with any path)")]
    Url,
    #[error("has a path; {EXAMPLE} (links below it are allowed with any path)")]
    Path,
    #[error("is a wildcard; write the domain itself, like \"fabrikam.com\": its subdomains are allowed too")]
    Wildcard,
    #[error("is an IP address; a notice links to a host name of your organisation: {EXAMPLE}")]
    IpAddress,
    #[error("has a port; {EXAMPLE}")]
    Port,
    #[error("contains {0:?}, which a host name cannot; {EXAMPLE}")]
    Character(char),
    #[error("has an empty label (two dots in a row); {EXAMPLE}")]
    EmptyLabel,
    #[error("is a public suffix (anyone can register a name below it), so every link under it would pass the link check; write a domain of your organisation, like \"help.fabrikam.com\" or \"fabrikam.com\"")]
    PublicSuffix,
}

/// Why `value` cannot be an allowed link domain.
pub fn check(value: &str) -> Result<(), LinkDomainError> {
    let host = value.trim().trim_end_matches('.');
    if host.is_empty() {
        return Err(LinkDomainError::Empty);
    }
    if host.contains("://") || host.to_ascii_lowercase().starts_with("mailto:") {
        return Err(LinkDomainError::Url);
    }
    if host.contains(['/', '?', '#', '\\']) {
        return Err(LinkDomainError::Path);
    }
    if host.contains('*') {
        return Err(LinkDomainError::Wildcard);
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        return Err(LinkDomainError::IpAddress);
    }
    if host.contains(':') {
        return Err(LinkDomainError::Port);
    }
    if let Some(c) = host
        .chars()
        .find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(LinkDomainError::Character(c));
    }
    if host.split('.').any(str::is_empty) {
        return Err(LinkDomainError::EmptyLabel);
    }
    let lower = host.to_lowercase();
    if psl::suffix_str(&lower) == Some(lower.as_str()) {
        return Err(LinkDomainError::PublicSuffix);
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
            assert!(err.to_string().contains(why), "{value}: {err}");
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
}
