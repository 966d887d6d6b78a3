//! The report formats on canned ledger rows.

use super::*;

/// A row of campaign `post-migration`, tried once; sent ones have their time.
pub(in crate::cmd::report) fn row(user: &str, state: DeliveryState, reply: &str) -> DeliveryRow {
    DeliveryRow {
        campaign: "post-migration".into(),
        user_key: user.into(),
        state,
        attempts: 1,
        recipients: vec![user.replace("contoso", "fabrikam")],
        message_id: Some(format!("<{user}>")),
        content_hash: Some("ab12".into()),
        last_reply: Some(reply.into()),
        batch: None,
        first_attempt_at: Some("2026-11-27T06:00:00.000Z".into()),
        last_attempt_at: Some("2026-11-27T06:00:00.000Z".into()),
        sent_at: (state == DeliveryState::Sent).then(|| "2026-11-27T06:00:01.000Z".into()),
        updated_at: "2026-11-27T06:00:01.000Z".into(),
    }
}

fn report() -> Report {
    Report::new(
        [
            ("ana", DeliveryState::Sent, "250 2.0.0 Ok: queued as 1"),
            (
                "zoe",
                DeliveryState::Failed,
                "550 5.1.1 <zoe@fabrikam.com>: User\r\n unknown",
            ),
            (
                "jose",
                DeliveryState::Uncertain,
                "connection lost after the message was sent",
            ),
        ]
        .map(|(name, state, reply)| row(&format!("{name}@contoso.com"), state, reply))
        .into(),
        vec![TestSendRow {
            run: "r1".into(),
            campaign: "post-migration".into(),
            user_key: "ana@contoso.com".into(),
            test_to: "admin@fabrikam.com".into(),
            state: DeliveryState::Sent,
            attempts: 1,
            message_id: Some("<t>".into()),
            last_reply: Some("250 ok".into()),
            last_attempt_at: None,
            sent_at: Some("2026-11-27T05:00:00.000Z".into()),
        }],
        Vec::new(),
    )
}

#[test]
fn human_lists_totals_and_users_needing_attention_first() {
    let text = report().human();
    assert!(
        text.starts_with("Campaign post-migration: 3 users: 1 sent, 0 deferred, 1 failed, 1 uncertain, 0 in flight, 0 pending\n"),
        "{text}"
    );
    let zoe = text.find("zoe@contoso.com").unwrap();
    let jose = text.find("jose@contoso.com").unwrap();
    let ana = text.find("ana@contoso.com").unwrap();
    assert!(zoe < jose && jose < ana, "{text}");
    assert!(
        text.contains("550 5.1.1 <zoe@fabrikam.com>: User unknown"),
        "replies on one line: {text}"
    );
    assert!(
        text.contains("Test sends (--test-to) and admin summaries, recorded apart: 1"),
        "{text}"
    );
    assert!(text.contains("admin@fabrikam.com"), "{text}");
}

#[test]
fn json_has_totals_users_and_test_sends() {
    let v = report().json();
    let c = &v["campaigns"][0];
    assert_eq!(c["campaign"], "post-migration");
    assert_eq!(c["totals"]["users"], 3);
    assert_eq!(c["totals"]["failed"], 1);
    assert_eq!(c["users"][0]["state"], "failed");
    assert_eq!(c["users"][2]["sent_at"], "2026-11-27T06:00:01.000Z");
    assert_eq!(v["test_sends"][0]["test_to"], "admin@fabrikam.com");
}

#[test]
fn csv_has_one_row_per_user_and_no_formulas() {
    let mut r = report();
    r.campaigns.get_mut("post-migration").unwrap()[0].last_reply = Some("=HYPERLINK(\"x\")".into());
    let text = String::from_utf8(r.csv().unwrap()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][1], "zoe@contoso.com");
    assert_eq!(&rows[0][2], "failed");
    assert!(rows[0][6].starts_with("'="), "{:?}", &rows[0][6]);
    assert_eq!(&rows[2][4], "ana@fabrikam.com");
}

#[test]
fn an_empty_ledger_says_so() {
    let empty = Report::default();
    assert_eq!(empty.human(), "No deliveries recorded.\n");
    assert_eq!(empty.totals_lines(), ["No deliveries recorded."]);
    assert_eq!(empty.json()["campaigns"].as_array().unwrap().len(), 0);
}
