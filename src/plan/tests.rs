use super::*;

#[test]
fn onedrive_url_follows_sharepoint_rule() {
    assert_eq!(
        onedrive_url(
            "https://contoso-my.sharepoint.com/",
            "rsimone@contoso.onmicrosoft.com"
        ),
        "https://contoso-my.sharepoint.com/personal/rsimone_contoso_onmicrosoft_com"
    );
    assert_eq!(
        onedrive_url(
            "https://fabrikam-my.sharepoint.com",
            "Ana.Lopez@Fabrikam.com"
        ),
        "https://fabrikam-my.sharepoint.com/personal/ana_lopez_fabrikam_com"
    );
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/move-state")
        .join(name)
}

fn plan_with(exports: &[&str], batch: Option<&str>, keep: bool) -> Plan {
    let map = fixture("map.csv");
    let exports: Vec<PathBuf> = exports.iter().map(|e| fixture(e)).collect();
    let sources = Sources {
        move_states: &exports,
        batch,
        ..Sources::new(&map)
    };
    load(Some(&config_recipient("target-email")), sources, keep).unwrap()
}

/// `(source UPN, batch)` of each recipient or `(source UPN, hold)` of each held-back user.
type Pairs = Vec<(String, String)>;

/// Who is notified (with the batch) and who is held back (with the hold), in mapping order.
fn outcome(plan: &Plan) -> (Pairs, Pairs) {
    let batch = |r: &Recipient| r.move_state.as_ref().map(|m| m.batch.clone());
    let notified = plan
        .recipients
        .iter()
        .map(|r| (r.user.source_upn.clone(), batch(r).unwrap_or_default()))
        .collect();
    let held = plan
        .held_back
        .iter()
        .map(|h| (h.user.source_upn.clone(), h.hold.to_string()))
        .collect();
    (notified, held)
}

fn pairs(list: &[(&str, &str)]) -> Pairs {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const EXPORTS: [&str; 3] = ["batch-1.csv", "batch-2.json", "batch-3-single.json"];

#[test]
fn only_the_newest_success_is_notified_and_the_rest_held_back_with_reasons() {
    let plan = plan_with(&EXPORTS, None, true);
    let (notified, held) = outcome(&plan);
    assert_eq!(
        notified,
        pairs(&[
            ("ana@contoso.com", "batch-1"),
            ("fay@contoso.com", "batch-2"),
            ("hal@contoso.com", "batch-3-single")
        ])
    );
    assert_eq!(
        held,
        pairs(&[
            ("bo@contoso.com", "Failed"),
            ("cy@contoso.com", "InProgress"),
            ("dee@contoso.com", "Rescheduled"),
            ("eve@contoso.com", "unknown state `Archived`"),
            ("gus@contoso.com", "not in any move-state export"),
        ])
    );
    assert!(
        plan.held_back[0]
            .reason
            .starts_with("move Failed (batch batch-1, "),
        "{}",
        plan.held_back[0].reason
    );
    assert!(plan.held_back[0].reason.contains(
        "batch-1.csv:4, job 0b6c1f3a-0001-4000-8000-000000000002): the migration team must"
    ));
    assert_eq!(plan.held_back[4].move_state, None);
    assert_eq!(plan.ready, 3);
    let counts: Vec<(String, u64)> = plan
        .held_back_counts
        .iter()
        .map(|(h, n)| (h.to_string(), *n))
        .collect();
    assert_eq!(counts[0], ("Failed".to_string(), 1));
    assert_eq!(counts.iter().map(|c| c.1).sum::<u64>(), 5);
    let warnings: Vec<String> = plan
        .diagnostics
        .warnings()
        .map(|d| {
            format!(
                "{}:{:?}",
                d.file.rsplit(['/', '\\']).next().unwrap(),
                d.line
            )
        })
        .collect();
    assert_eq!(warnings, ["batch-2.json:Some(11)", "batch-1.csv:Some(7)"]);
}

#[test]
fn timestamps_decide_whatever_the_order_of_the_files() {
    let reversed = plan_with(
        &["batch-3-single.json", "batch-2.json", "batch-1.csv"],
        None,
        true,
    );
    assert_eq!(
        outcome(&reversed),
        outcome(&plan_with(&EXPORTS, None, true))
    );
}

#[test]
fn batch_label_applies_to_every_export() {
    let plan = plan_with(&EXPORTS, Some("wave-1"), true);
    assert!(plan
        .recipients
        .iter()
        .all(|r| r.move_state.as_ref().unwrap().batch == "wave-1"));
    assert!(
        plan.held_back[0].reason.contains("(batch wave-1, "),
        "{}",
        plan.held_back[0].reason
    );
}

#[test]
fn without_exports_everyone_is_a_candidate() {
    let plan = plan_with(&[], None, true);
    assert_eq!(plan.recipients.len(), 8);
    assert!(plan.recipients.iter().all(|r| r.move_state.is_none()));
    assert!(
        plan.held_back.is_empty() && plan.held_back_counts.is_empty() && plan.move_states.is_none()
    );
    assert_eq!(plan.ready, 8);
}

#[test]
fn counts_without_keeping_people() {
    let plan = plan_with(&EXPORTS, None, false);
    assert!(plan.recipients.is_empty() && plan.held_back.is_empty());
    assert_eq!(plan.ready, 3);
    assert_eq!(plan.held_back_counts.values().sum::<u64>(), 5);
    assert_eq!(
        plan.move_states.as_ref().unwrap().len(),
        8,
        "ana and fay are in two exports"
    );
}

/// The sample config with `[message] recipient = mode`.
fn config_recipient(mode: &str) -> Config {
    crate::render::tests::config_with(|t| {
        t.replace(
            "recipient = \"target-email\"",
            &format!("recipient = \"{mode}\""),
        )
    })
}

const TENANT: &str = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01";

/// A plan of `rows` (source UPN, user type) with a directory giving `mail` to the first.
fn guests_plan(mode: &str, rows: &[(&str, &str)], mail: &str) -> Plan {
    let dir = tempfile::tempdir().unwrap();
    let (map, directory) = (dir.path().join("map.csv"), dir.path().join("dir.csv"));
    let mut m = String::new();
    let mut d = String::from("UserPrincipalName,DisplayName,Mail\n");
    for (i, (source, kind)) in rows.iter().enumerate() {
        m.push_str(&format!(
            "User,{TENANT},{source},u{i}@fabrikam.com,u{i}@fabrikam.com,{kind}\n"
        ));
        let mail = if i == 0 { mail } else { "" };
        d.push_str(&format!("u{i}@fabrikam.com,User {i},{mail}\n"));
    }
    std::fs::write(&map, m).unwrap();
    std::fs::write(&directory, d).unwrap();
    let sources = Sources {
        directory: Some(&directory),
        ..Sources::new(&map)
    };
    load(Some(&config_recipient(mode)), sources, true).unwrap()
}

#[test]
fn a_guest_is_mailed_at_their_own_address_never_at_the_ext_upn() {
    let rows = [
        (
            "jane_partner.example#EXT#@contoso.onmicrosoft.com",
            "GuestUser",
        ),
        ("li_home.example#EXT#@contoso.onmicrosoft.com", "GuestUser"),
        ("ana@contoso.com", "RegularUser"),
    ];
    let plan = guests_plan("source-upn", &rows, "Jane.Doe@partner.example");
    let to: Vec<Vec<String>> = plan.recipients.iter().map(|r| r.to.clone()).collect();
    assert_eq!(
        to,
        [
            vec!["Jane.Doe@partner.example".to_string()],
            vec!["li@home.example".to_string()],
            vec!["ana@contoso.com".to_string()],
        ]
    );
    let both = guests_plan("both", &rows, "");
    assert_eq!(
        both.recipients[0].to,
        ["u0@fabrikam.com", "jane@partner.example"]
    );
    assert!(plan.held_back.is_empty() && both.held_back.is_empty());
}

#[test]
fn a_guest_without_an_address_of_their_own_is_held_back_with_the_reason() {
    let rows = [
        ("_x#EXT#@contoso.onmicrosoft.com", "GuestUser"),
        ("guest.without.ext@contoso.com", "GuestUser"),
        ("ana@contoso.com", "RegularUser"),
    ];
    for mode in ["source-upn", "both"] {
        let plan = guests_plan(mode, &rows, "");
        let held: Vec<(&str, &Hold)> = plan
            .held_back
            .iter()
            .map(|h| (h.user.source_upn.as_str(), &h.hold))
            .collect();
        assert_eq!(
            held,
            [
                (rows[0].0, &Hold::GuestWithoutAddress),
                (rows[1].0, &Hold::GuestWithoutAddress)
            ],
            "{mode}"
        );
        assert!(plan.held_back[0].reason.contains("add a Mail column"));
        assert_eq!(plan.held_back_counts[&Hold::GuestWithoutAddress], 2);
        assert_eq!(plan.recipients.len(), 1, "{mode}");
    }
    let with_mail = guests_plan("source-upn", &rows, "x@partner.example");
    assert_eq!(with_mail.recipients[0].to, ["x@partner.example"]);
    let target = guests_plan("target-email", &rows, "");
    assert!(target.held_back.is_empty());
    assert_eq!(target.recipients.len(), 3);
}
