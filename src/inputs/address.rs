//! Syntax checks for the identifiers in the inputs: GUIDs, user principal names, email
//! addresses, and `Name <address>` mailboxes. Pure functions; each error says what is wrong.

/// Longest user principal name Entra ID accepts: 64 characters before the @ and 48 after it,
/// 113 in all (Microsoft Learn, "Microsoft Entra password policies", UserPrincipalName
/// policies: <https://learn.microsoft.com/entra/identity/authentication/concept-sspr-policy>).
pub const MAX_UPN_LEN: usize = 113;
/// Longest email address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest part before the @ (RFC 5321; Entra ID's limit for a UPN's prefix too).
pub const MAX_LOCAL_PART_LEN: usize = 64;
/// Longest part of a domain name between dots (RFC 1035).
pub const MAX_DOMAIN_LABEL_LEN: usize = 63;

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal (either case).
///
/// ```
/// use t2t_notify::inputs::address::is_guid;
/// assert!(is_guid("6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01"));
/// assert!(!is_guid("{6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01}"));
/// ```
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Why a UPN, an email address or a mailbox is refused; the text completes a sentence that
/// starts with the value (`"a@b" has no @; ...`).
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("is empty; it must be {0}")]
    Empty(&'static str),
    #[error("contains a line break; remove it (a quoted value in the file spans two lines, or a double quote is never closed)")]
    LineBreak,
    #[error("contains a NUL byte; the file may be UTF-16 without a byte order mark: save it from Excel as \"CSV UTF-8 (Comma delimited)\"")]
    Nul,
    #[error("is {len} characters long; {what} has at most {max}")]
    TooLong {
        len: usize,
        what: &'static str,
        max: usize,
    },
    #[error("contains a space; {0} has none")]
    Space(&'static str),
    #[error("has no @; write it as name@domain")]
    NoAtSign,
    #[error("has nothing before the @")]
    NothingBeforeAt,
    #[error("has more than one @")]
    TwoAtSigns,
    #[error("character {0} is not allowed in a user principal name (allowed: letters A-Z, digits and ' . - _ ! # ^ ~)")]
    UpnCharacter(String),
    #[error("character {0} is not allowed in an email address")]
    EmailCharacter(String),
    #[error("contains `=?`, which mail programs decode as an encoded word (RFC 2047) and could read as another address or a line break; no mailbox needs it: check the address")]
    EncodedWord,
    #[error("the part before the @ is {0} bytes long (letters like é count two); it has at most {MAX_LOCAL_PART_LEN}")]
    LocalPartTooLong(usize),
    #[error("the part before the @ starts or ends with a dot")]
    LocalPartDotAtEnd,
    #[error("the part before the @ has two dots in a row")]
    LocalPartTwoDots,
    #[error("has nothing after the @")]
    NoDomain,
    #[error("domain `{0}` has no dot; write the full domain, e.g. contoso.com")]
    DomainWithoutDot(String),
    #[error("domain `{0}` has an empty part between dots")]
    DomainEmptyLabel(String),
    #[error("domain `{domain}` has a part of {len} characters; a domain name's parts have at most {MAX_DOMAIN_LABEL_LEN}")]
    DomainLabelTooLong { domain: String, len: usize },
    #[error("domain `{0}` has a part that starts or ends with a hyphen")]
    DomainHyphen(String),
    #[error("domain `{domain}` contains {character}, which a domain name cannot")]
    DomainCharacter { domain: String, character: String },
    /// lettre refuses the address (e.g. an IDNA form with a part over 63 characters).
    #[error("cannot be used to send mail ({0}); check the address")]
    Unsendable(#[source] lettre::address::AddressError),
    #[error("not a valid mail address ({0})")]
    Mailbox(#[source] lettre::address::AddressError),
}

/// Checks a user principal name as Entra ID allows it: `local@domain`, the local part made of
/// `A-Z a-z 0-9 ' . - _ ! # ^ ~` (guest UPNs such as `jane_fabrikam.com#EXT#@contoso.onmicrosoft.com`
/// pass), no dot at either end of the local part.
pub fn check_upn(s: &str) -> Result<(), AddressError> {
    check_common(s, MAX_UPN_LEN, "a user principal name")?;
    let (local, domain) = split_at_sign(s)?;
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "'.-_!#^~".contains(*c)))
    {
        return Err(AddressError::UpnCharacter(describe_char(c)));
    }
    check_local_part(local)?;
    check_domain(domain)
}

/// Checks an email address: `local@domain` with the dot-atom local part of RFC 5322
/// (international letters allowed) and a domain with at least one dot.
pub fn check_email(s: &str) -> Result<(), AddressError> {
    check_common(s, MAX_EMAIL_LEN, "an email address")?;
    let (local, domain) = split_at_sign(s)?;
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(*c)))
    {
        return Err(AddressError::EmailCharacter(describe_char(c)));
    }
    if local.contains("=?") {
        return Err(AddressError::EncodedWord);
    }
    check_local_part(local)?;
    check_domain(domain)?;
    // The notice is addressed with lettre: refuse here what it would refuse at `send`, such as
    // an international domain whose ASCII form (IDNA, `xn--...`) has a part over 63 characters.
    s.parse::<lettre::Address>()
        .map(|_| ())
        .map_err(AddressError::Unsendable)
}

/// Parses `Name <address@domain>` or a bare address into a lettre mailbox.
pub fn parse_mailbox(s: &str) -> Result<lettre::message::Mailbox, AddressError> {
    s.trim()
        .parse::<lettre::message::Mailbox>()
        .map_err(AddressError::Mailbox)
}

fn check_common(s: &str, max: usize, what: &'static str) -> Result<(), AddressError> {
    if s.is_empty() {
        return Err(AddressError::Empty(what));
    }
    if s.contains(['\r', '\n']) {
        return Err(AddressError::LineBreak);
    }
    if s.contains('\0') {
        return Err(AddressError::Nul);
    }
    let len = s.chars().count();
    if len > max {
        return Err(AddressError::TooLong { len, what, max });
    }
    if s.chars().any(char::is_whitespace) {
        return Err(AddressError::Space(what));
    }
    Ok(())
}

fn split_at_sign(s: &str) -> Result<(&str, &str), AddressError> {
    match s.rsplit_once('@') {
        None => Err(AddressError::NoAtSign),
        Some(("", _)) => Err(AddressError::NothingBeforeAt),
        Some((local, _)) if local.contains('@') => Err(AddressError::TwoAtSigns),
        Some((local, domain)) => Ok((local, domain)),
    }
}

fn check_local_part(local: &str) -> Result<(), AddressError> {
    if local.len() > MAX_LOCAL_PART_LEN {
        return Err(AddressError::LocalPartTooLong(local.len()));
    }
    if local.starts_with('.') || local.ends_with('.') {
        return Err(AddressError::LocalPartDotAtEnd);
    }
    if local.contains("..") {
        return Err(AddressError::LocalPartTwoDots);
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), AddressError> {
    let owned = || domain.to_string();
    if domain.is_empty() {
        return Err(AddressError::NoDomain);
    }
    if !domain.contains('.') {
        return Err(AddressError::DomainWithoutDot(owned()));
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(AddressError::DomainEmptyLabel(owned()));
        }
        if label.len() > MAX_DOMAIN_LABEL_LEN && label.is_ascii() {
            let len = label.len();
            return Err(AddressError::DomainLabelTooLong {
                domain: owned(),
                len,
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(AddressError::DomainHyphen(owned()));
        }
        if let Some(c) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-')) {
            return Err(AddressError::DomainCharacter {
                domain: owned(),
                character: describe_char(c),
            });
        }
    }
    Ok(())
}

fn describe_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("`{c}` (U+{:04X})", c as u32)
    }
}

/// True when a source UPN is a guest's (`...#EXT#@...`).
pub fn is_guest_upn(upn: &str) -> bool {
    upn.to_ascii_uppercase().contains("#EXT#@")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(is_guid("11111111-2222-3333-4444-55555555555a"));
        assert!(is_guid("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"));
        assert!(!is_guid("11111111-2222-3333-4444-55555555555"));
        assert!(!is_guid("{11111111-2222-3333-4444-555555555555}"));
        assert!(!is_guid("1111111122223333444455555555555555555"));
        assert!(!is_guid("g1111111-2222-3333-4444-555555555555"));
    }

    #[test]
    fn upns() {
        for ok in [
            "rsimone@contoso.onmicrosoft.com",
            "jane_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "o'brien@contoso.com",
        ] {
            assert!(check_upn(ok).is_ok(), "{ok}");
        }
        let long = format!("{}@contoso.com", "a".repeat(200));
        for (upn, why) in [
            ("rsimone", "no @"),
            ("a@b@c.com", "more than one @"),
            ("r simone@contoso.com", "space"),
            ("rsimone@contoso", "no dot"),
            ("josé@contoso.com", "U+00E9"),
            (".a@contoso.com", "dot"),
            ("a..b@contoso.com", "two dots"),
            ("a@-contoso.com", "hyphen"),
            ("a@contoso..com", "empty part"),
            ("a\nb@contoso.com", "line break"),
            (&long, "at most 113"),
            ("", "empty"),
        ] {
            let err = check_upn(upn).unwrap_err().to_string();
            assert!(err.contains(why), "{upn}: {err}");
        }
    }

    #[test]
    fn emails() {
        for ok in [
            "josé.garcía@fabrikam.com",
            "a+tag@fabrikam.com",
            "a=b?c@fabrikam.com",
        ] {
            assert!(check_email(ok).is_ok(), "{ok}");
        }
        assert!(check_email("a,b@fabrikam.com").is_err());
        for (email, why) in [
            ("a@fabrikam.com\0", "NUL"),
            ("=?utf-8?q?a=0D=0A?=@fabrikam.com", "encoded word"),
        ] {
            let err = check_email(email).unwrap_err().to_string();
            assert!(err.contains(why), "{email}: {err}");
        }
    }

    /// Found by the `render` fuzz target (`fuzz/regressions/render/email-domain-label-too-long`):
    /// the mapping accepted target emails that lettre refuses, so `validate` passed a user whose
    /// notice `preview` and `send` then could not address.
    #[test]
    fn emails_the_mapping_accepts_can_be_addressed() {
        let domain = format!("noah@fabrikam.com{}", "j".repeat(64));
        let local = format!("{}@fabrikam.com", "n".repeat(65));
        for (value, why) in [(&domain, "at most 63"), (&local, "at most 64")] {
            for err in [check_email(value), check_upn(value)] {
                let err = err.unwrap_err().to_string();
                assert!(err.contains(why), "{value}: {err}");
            }
        }
        assert!(check_email(&format!("noah@{}.com", "j".repeat(63))).is_ok());
        assert!(check_email(&format!("{}@fabrikam.com", "n".repeat(64))).is_ok());
        // 60 letters, but 66 characters once IDNA writes them in ASCII (xn--...).
        let idn = format!("noah@{}.com", "\u{E9}".repeat(60));
        assert!(idn.parse::<lettre::Address>().is_err());
        let err = check_email(&idn).unwrap_err().to_string();
        assert!(err.contains("cannot be used to send mail"), "{err}");
        for ok in [
            "josé.garcía@fabrikam.com",
            "a+tag@fabrikam.com",
            "a=b?c@fabrikam.com",
        ] {
            assert!(ok.parse::<lettre::Address>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn mailboxes() {
        let m = parse_mailbox("Fabrikam IT <it@fabrikam.com>").unwrap();
        assert_eq!(m.email.to_string(), "it@fabrikam.com");
        assert!(parse_mailbox("nobody").is_err());
    }

    #[test]
    fn guests() {
        for (upn, guest) in [
            ("jane_fabrikam.com#EXT#@contoso.onmicrosoft.com", true),
            ("jane_fabrikam.com#ext#@contoso.onmicrosoft.com", true),
            ("jane@contoso.com", false),
        ] {
            assert_eq!(is_guest_upn(upn), guest, "{upn}");
        }
    }
}
