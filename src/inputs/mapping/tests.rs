use super::*;

const T: &str = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01";

fn run(content: &[u8], tenant: Option<&str>) -> (MappingStats, Vec<MappingRow>) {
    let mut rows = Vec::new();
    let options = Options {
        expected_tenant: tenant.map(str::to_string),
    };
    let reader = io::Cursor::new(content.to_vec());
    let summary = read_from(reader, "m.csv", &options, |r| rows.push(r)).unwrap();
    (summary, rows)
}

/// The diagnostics from `:LINE:` on.
fn messages(s: &MappingStats) -> Vec<String> {
    let sorted = s.diagnostics.sorted();
    sorted
        .iter()
        .map(|d| d.to_string().replacen("m.csv", "", 1))
        .collect()
}

fn user(src: &str, tgt: &str) -> String {
    format!("User,{T},{src},{tgt},{tgt},RegularUser\r\n")
}

#[test]
fn good_users_and_groups_pass() {
    let text = format!(
        "{}{}Group,{T},{},{},Sales,O365Group\r\n\r\n\r\n",
        user("a@contoso.com", "a@fabrikam.com"),
        user(
            "jane_x.com#EXT#@contoso.onmicrosoft.com",
            "jane@fabrikam.com"
        ),
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222"
    );
    let (s, rows) = run(text.as_bytes(), Some(T));
    assert!(s.diagnostics.is_empty(), "{:?}", messages(&s));
    assert_eq!((s.users, s.groups), (2, 1));
    assert_eq!(rows.len(), 3);
    assert!(matches!(&rows[1], MappingRow::User(u) if u.is_guest()));
}

#[test]
fn duplicates_name_both_lines_case_insensitively() {
    let text = format!(
        "{}{}{}",
        user("a@contoso.com", "a@fabrikam.com"),
        user("b@contoso.com", "A@Fabrikam.com"),
        user("A@CONTOSO.com", "c@fabrikam.com")
    );
    let (s, _) = run(text.as_bytes(), None);
    let m = messages(&s);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m[0].starts_with(":2: column 4 (target UPN)") && m[0].contains("line 1"),
        "{m:?}"
    );
    assert!(
        m[1].starts_with(":3: column 3 (source UPN)") && m[1].contains("line 1"),
        "{m:?}"
    );
}

#[test]
fn every_error_in_a_row_is_reported() {
    let text = "User,not-a-guid,nobody,x@y,a b@c.com,Member\n";
    let (s, rows) = run(text.as_bytes(), Some(T));
    let m = messages(&s);
    assert!(rows.is_empty());
    for at in [
        ":1: column 2 (source tenant ID)",
        ":1: column 3 (source UPN)",
        ":1: column 4 (target UPN)",
        ":1: column 5 (target email)",
    ] {
        assert!(m.iter().any(|x| x.starts_with(at)), "{at}: {m:?}");
    }
    assert!(
        m.iter().any(
            |x| x.starts_with(":1: warning: column 6 (user type)") && x.contains("RegularUser")
        ),
        "{m:?}"
    );
}

#[test]
fn tenant_must_match_config_or_first_row() {
    let other = "aaaaaaaa-0000-4000-8000-000000000000";
    let text = format!(
        "{}User,{other},b@contoso.com,b@fabrikam.com,b@fabrikam.com,RegularUser\n",
        user("a@contoso.com", "a@fabrikam.com")
    );
    for (tenant, why) in [(None, "differs from"), (Some(T), "[source].tenant_id")] {
        let m = messages(&run(text.as_bytes(), tenant).0);
        assert!(m[0].contains(why), "{m:?}");
    }
}

#[test]
fn header_row_is_named() {
    let text = format!(
        "Type,SourceTenantId,SourceUpn,TargetUpn,TargetEmail,UserType\r\n{}",
        user("a@contoso.com", "a@fabrikam.com")
    );
    let (s, rows) = run(text.as_bytes(), Some(T));
    let m = messages(&s);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].starts_with(":1: ") && m[0].contains("header row"),
        "{m:?}"
    );
    assert_eq!(rows.len(), 1);
}

#[test]
fn semicolons_are_named_and_still_checked() {
    let text = format!("User;{T};a@contoso.com;a@fabrikam.com;a@fabrikam.com;RegularUser\nUser;{T};bad;b@fabrikam.com;b@fabrikam.com;RegularUser\n");
    let (s, _) = run(text.as_bytes(), Some(T));
    let m = messages(&s);
    assert!(m[0].contains("semicolons"), "{m:?}");
    assert!(m.iter().any(|x| x.starts_with(":2: column 3")), "{m:?}");
}

#[test]
fn utf16le_and_bom_and_windows_1252_are_read() {
    let text = user("a@contoso.com", "a@fabrikam.com");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend(text.as_bytes());
    for bytes in [utf16, bom] {
        let (s, rows) = run(&bytes, Some(T));
        assert!(s.diagnostics.is_empty(), "{:?}", messages(&s));
        assert_eq!(rows.len(), 1);
    }

    let legacy = format!("Group,{T},11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222,Verk\u{e4}ufer,RegularGroup\n{text}");
    let bytes = encoding_rs::WINDOWS_1252.encode(&legacy).0.into_owned();
    let (s, rows) = run(&bytes, Some(T));
    assert_eq!(messages(&s).len(), 1, "{:?}", messages(&s));
    assert!(messages(&s)[0].contains("Windows-1252"));
    assert!(matches!(&rows[0], MappingRow::Group(g) if g.name == "Verkäufer"));
}

#[test]
fn spaces_are_trimmed_with_a_warning() {
    let text = format!("User, {T} ,a@contoso.com , a@fabrikam.com,a@fabrikam.com,RegularUser\n");
    let (s, rows) = run(text.as_bytes(), Some(T));
    assert_eq!(s.diagnostics.warnings().count(), 3);
    assert!(!s.diagnostics.has_errors());
    assert!(matches!(&rows[0], MappingRow::User(u) if u.source_upn == "a@contoso.com"));
}

#[test]
fn wrong_width_names_the_column() {
    let text = format!("User,{T},a@contoso.com,a@fabrikam.com,a@fabrikam.com\nUser,{T},b@contoso.com,b@fabrikam.com,b@fabrikam.com,RegularUser,extra\n");
    let (s, rows) = run(text.as_bytes(), Some(T));
    let m = messages(&s);
    assert_starts(&m, 0, ":1: column 6 (user type): missing");
    assert_starts(&m, 1, ":2: column 7 (extra)");
    assert!(rows.is_empty());
}

#[test]
fn empty_and_group_only_files_are_errors() {
    let (s, _) = run(b"", None);
    assert!(messages(&s)[0].contains("empty"));
    let (s, _) = run(b"\r\n\r\n", None);
    assert!(messages(&s)[0].contains("empty"));
    let g = format!("Group,{T},11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222,G,RegularGroup\n");
    let (s, _) = run(g.as_bytes(), None);
    assert!(messages(&s)[0].contains("only Group rows"));
}

#[test]
fn a_huge_field_is_cut_and_reported_with_its_line_and_column() {
    let huge = "x".repeat(3 * MAX_ROW_BYTES);
    let text = format!(
        "{}User,{T},b@contoso.com,b@fabrikam.com,b@fabrikam.com,{huge}\r\n{}",
        user("a@contoso.com", "a@fabrikam.com"),
        user("c@contoso.com", "c@fabrikam.com")
    );
    let (s, rows) = run(text.as_bytes(), Some(T));
    let msgs = messages(&s);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_starts(
        &msgs,
        0,
        ":2: column 6 (user type): is too long: the row passes 64 KB",
    );
    assert_eq!(rows.len(), 2, "the rows around it are read as usual");
}

#[test]
fn a_huge_quoted_field_spanning_lines_keeps_the_later_line_numbers() {
    let huge = "y\n".repeat(MAX_ROW_BYTES);
    let text = format!(
        "User,{T},a@contoso.com,a@fabrikam.com,\"{huge}\",RegularUser\r\nUser,{T},b@contoso.com,not-an-address,b@fabrikam.com,RegularUser\r\n"
    );
    let (s, _) = run(text.as_bytes(), Some(T));
    let msgs = messages(&s);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_starts(&msgs, 0, ":1: column 5 (target email): is too long");
    let second = MAX_ROW_BYTES + 2;
    assert!(
        msgs[1].starts_with(&format!(":{second}: column 4 (target UPN)")),
        "{msgs:?}"
    );
}

#[test]
fn types_and_group_names_have_limits() {
    let long_type = "R".repeat(MAX_TYPE_LEN + 1);
    let long_name = "n".repeat(MAX_GROUP_NAME_LEN + 1);
    let text = format!(
        "User,{T},a@contoso.com,a@fabrikam.com,a@fabrikam.com,{long_type}\r\nGroup,{T},11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222,{long_name},O365Group\r\n"
    );
    let (s, rows) = run(text.as_bytes(), Some(T));
    let msgs = messages(&s);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_starts(&msgs, 0, ":1: column 6 (user type): `RRRR");
    assert!(msgs[0].contains("too long for a user type (at most 32 characters)"));
    assert_starts(&msgs, 1, ":2: column 5 (group name)");
    assert!(msgs[1].contains("at most 256 characters"));
    assert!(rows.is_empty());
}

/// Asserts that message `i` of `m` starts with `prefix`.
fn assert_starts(m: &[String], i: usize, prefix: &str) {
    assert!(
        m.get(i).is_some_and(|x| x.starts_with(prefix)),
        "{i}: {m:?}"
    );
}
