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

/// Checks a user principal name as Entra ID allows it: `local@domain`, the local part made of
/// `A-Z a-z 0-9 ' . - _ ! # ^ ~` (guest UPNs such as `jane_fabrikam.com#EXT#@contoso.onmicrosoft.com`
/// pass), no dot at either end of the local part.
pub fn check_upn(s: &str) -> Result<(), String> {
    check_common(s, MAX_UPN_LEN, "a user principal name")?;
    let (local, domain) = split_at_sign(s)?;
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "'.-_!#^~".contains(*c)))
    {
        return Err(format!(
            "character {} is not allowed in a user principal name (allowed: letters A-Z, digits and ' . - _ ! # ^ ~)",
            describe_char(c)
        ));
    }
    check_local_part(local)?;
    check_domain(domain)
}

/// Checks an email address: `local@domain` with the dot-atom local part of RFC 5322
/// (international letters allowed) and a domain with at least one dot.
pub fn check_email(s: &str) -> Result<(), String> {
    check_common(s, MAX_EMAIL_LEN, "an email address")?;
    let (local, domain) = split_at_sign(s)?;
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(*c)))
    {
        return Err(format!(
            "character {} is not allowed in an email address",
            describe_char(c)
        ));
    }
    if local.contains("=?") {
        return Err("contains `=?`, which mail programs decode as an encoded word (RFC 2047) and could read as another address or a line break; no mailbox needs it: check the address".into());
    }
    check_local_part(local)?;
    check_domain(domain)?;
    // The notice is addressed with lettre: refuse here what it would refuse at `send`, such as
    // an international domain whose ASCII form (IDNA, `xn--...`) has a part over 63 characters.
    s.parse::<lettre::Address>()
        .map(|_| ())
        .map_err(|e| format!("cannot be used to send mail ({e}); check the address"))
}

/// Parses `Name <address@domain>` or a bare address into a lettre mailbox.
pub fn parse_mailbox(s: &str) -> Result<lettre::message::Mailbox, String> {
    s.trim()
        .parse::<lettre::message::Mailbox>()
        .map_err(|e| format!("not a valid mail address ({e})"))
}

fn check_common(s: &str, max: usize, what: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("is empty; it must be {what}"));
    }
    if s.len() <= max && s.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(());
    }
    if s.contains(['\r', '\n']) {
        return Err("contains a line break; remove it (a quoted value in the file spans two lines, or a double quote is never closed)".into());
    }
    if s.contains('\0') {
        return Err("contains a NUL byte; the file may be UTF-16 without a byte order mark: save it from Excel as \"CSV UTF-8 (Comma delimited)\"".into());
    }
    let len = s.chars().count();
    if len > max {
        return Err(format!(
            "is {len} characters long; {what} has at most {max}"
        ));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(format!("contains a space; {what} has none"));
    }
    Ok(())
}

fn split_at_sign(s: &str) -> Result<(&str, &str), String> {
    match s.rsplit_once('@') {
        None => Err("has no @; write it as name@domain".into()),
        Some(("", _)) => Err("has nothing before the @".into()),
        Some((local, _)) if local.contains('@') => Err("has more than one @".into()),
        Some((local, domain)) => Ok((local, domain)),
    }
}

fn check_local_part(local: &str) -> Result<(), String> {
    if local.len() > MAX_LOCAL_PART_LEN {
        return Err(format!(
            "the part before the @ is {} bytes long (letters like é count two); it has at most {MAX_LOCAL_PART_LEN}",
            local.len()
        ));
    }
    if local.starts_with('.') || local.ends_with('.') {
        return Err("the part before the @ starts or ends with a dot".into());
    }
    if local.contains("..") {
        return Err("the part before the @ has two dots in a row".into());
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("has nothing after the @".into());
    }
    if !domain.contains('.') {
        return Err(format!(
            "domain `{domain}` has no dot; write the full domain, e.g. contoso.com"
        ));
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(format!("domain `{domain}` has an empty part between dots"));
        }
        if label.len() > MAX_DOMAIN_LABEL_LEN && label.is_ascii() {
            return Err(format!(
                "domain `{domain}` has a part of {} characters; a domain name's parts have at most {MAX_DOMAIN_LABEL_LEN}",
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "domain `{domain}` has a part that starts or ends with a hyphen"
            ));
        }
        if let Some(c) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-')) {
            return Err(format!(
                "domain `{domain}` contains {}, which a domain name cannot",
                describe_char(c)
            ));
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
        assert!(check_upn("rsimone@contoso.onmicrosoft.com").is_ok());
        assert!(check_upn("jane_fabrikam.com#EXT#@contoso.onmicrosoft.com").is_ok());
        assert!(check_upn("o'brien@contoso.com").is_ok());
        assert!(check_upn("rsimone").unwrap_err().contains("no @"));
        assert!(check_upn("a@b@c.com")
            .unwrap_err()
            .contains("more than one @"));
        assert!(check_upn("r simone@contoso.com")
            .unwrap_err()
            .contains("space"));
        assert!(check_upn("rsimone@contoso").unwrap_err().contains("no dot"));
        assert!(check_upn("josé@contoso.com")
            .unwrap_err()
            .contains("U+00E9"));
        assert!(check_upn(".a@contoso.com").unwrap_err().contains("dot"));
        assert!(check_upn("a..b@contoso.com")
            .unwrap_err()
            .contains("two dots"));
        assert!(check_upn("a@-contoso.com").unwrap_err().contains("hyphen"));
        assert!(check_upn("a@contoso..com")
            .unwrap_err()
            .contains("empty part"));
        assert!(check_upn("a\nb@contoso.com")
            .unwrap_err()
            .contains("line break"));
        let long = format!("{}@contoso.com", "a".repeat(200));
        assert!(check_upn(&long).unwrap_err().contains("at most 113"));
        assert!(check_upn("").unwrap_err().contains("empty"));
    }

    #[test]
    fn emails() {
        assert!(check_email("josé.garcía@fabrikam.com").is_ok());
        assert!(check_email("a+tag@fabrikam.com").is_ok());
        assert!(check_email("a,b@fabrikam.com").is_err());
        assert!(check_email("a@fabrikam.com\0").unwrap_err().contains("NUL"));
        assert!(check_email("a=b?c@fabrikam.com").is_ok());
        assert!(check_email("=?utf-8?q?a=0D=0A?=@fabrikam.com")
            .unwrap_err()
            .contains("encoded word"));
    }

    /// Found by the `render` fuzz target (`fuzz/regressions/render/email-domain-label-too-long`):
    /// the mapping accepted target emails that lettre refuses, so `validate` passed a user whose
    /// notice `preview` and `send` then could not address.
    #[test]
    fn emails_the_mapping_accepts_can_be_addressed() {
        let label = "j".repeat(64);
        let long = format!("noah@fabrikam.com{label}");
        assert!(
            check_email(&long).unwrap_err().contains("at most 63"),
            "{long}"
        );
        assert!(check_upn(&long).unwrap_err().contains("at most 63"));
        assert!(check_email(&format!("noah@{}.com", "j".repeat(63))).is_ok());
        let local = format!("{}@fabrikam.com", "n".repeat(65));
        assert!(check_email(&local).unwrap_err().contains("at most 64"));
        assert!(check_upn(&local).unwrap_err().contains("at most 64"));
        assert!(check_email(&format!("{}@fabrikam.com", "n".repeat(64))).is_ok());
        // 60 letters, but 66 characters once IDNA writes them in ASCII (xn--...).
        let idn = format!("noah@{}.com", "\u{E9}".repeat(60));
        assert!(idn.parse::<lettre::Address>().is_err());
        assert!(check_email(&idn)
            .unwrap_err()
            .contains("cannot be used to send mail"));
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
        assert!(is_guest_upn(
            "jane_fabrikam.com#EXT#@contoso.onmicrosoft.com"
        ));
        assert!(is_guest_upn(
            "jane_fabrikam.com#ext#@contoso.onmicrosoft.com"
        ));
        assert!(!is_guest_upn("jane@contoso.com"));
    }
}
