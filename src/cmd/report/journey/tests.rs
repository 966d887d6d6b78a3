//! The journey model on canned rows: a table of people, each with the steps they reached and
//! why they need attention, the funnel over them, and the text formats.

use chrono::TimeZone;

use super::*;
use crate::ledger::sign_ins::SignInImport;

pub(crate) fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
}

fn row(
    campaign: &str,
    key: &str,
    state: DeliveryState,
    at: DateTime<Utc>,
    reply: &str,
) -> DeliveryRow {
    let stamp = crate::ledger::deliveries::timestamp(at);
    DeliveryRow {
        campaign: campaign.into(),
        user_key: key.into(),
        state,
        attempts: 1,
        recipients: vec![key.replace("contoso", "fabrikam")],
        message_id: Some(format!("<{key}>")),
        content_hash: None,
        last_reply: Some(reply.into()),
        batch: None,
        first_attempt_at: Some(stamp.clone()),
        last_attempt_at: Some(stamp.clone()),
        sent_at: (state == DeliveryState::Sent).then_some(stamp),
        updated_at: String::new(),
    }
}

fn sent(campaign: &str, key: &str, at: DateTime<Utc>) -> DeliveryRow {
    row(campaign, key, DeliveryState::Sent, at, "250 2.0.0 Ok")
}

fn moved(state: MoveState, at: Option<DateTime<Utc>>) -> Option<Moved> {
    Some(Moved {
        state: state.name().into(),
        batch: "batch-1".into(),
        at,
        success: state == MoveState::Success,
    })
}

fn person(name: &str, moved: Option<Moved>, held: Option<Hold>) -> Person {
    let held = held.map(|h| (h.clone(), format!("held: {h}")));
    Person {
        source_upn: format!("{name}@contoso.com"),
        target_upn: format!("{name}@fabrikam.com"),
        moved,
        held,
    }
}

pub(crate) fn campaigns() -> Campaigns {
    #[derive(serde::Deserialize)]
    struct Tables {
        campaign: Vec<CampaignConfig>,
    }
    let tables: Tables = toml::from_str(
        "[[campaign]]\nname = \"warn\"\nkind = \"pre-move\"\n\
         [[campaign]]\nname = \"notice\"\nkind = \"post-move\"\n\
         [[campaign]]\nname = \"nudge\"\nkind = \"reminder\"\n",
    )
    .unwrap();
    Campaigns::of_config(&tables.campaign)
}

const HOSTILE: &str = "550 5.1.1 <img src=x onerror=alert(1)> unknown";

/// The people of the table below, their ledger rows and sign-ins.
fn sources_of(
    people: &[Person],
    rows: &[DeliveryRow],
    sign_ins: &SignIns,
    campaigns: &Campaigns,
) -> JourneyReport {
    build(Sources {
        people,
        campaigns,
        deliveries: rows,
        sign_ins,
        submissions: &[],
        per_day: 10_000,
        now: t(9, 12),
    })
}

fn people() -> Vec<Person> {
    let ok = |d| moved(MoveState::Success, Some(t(d, 8)));
    vec![
        person("ana", ok(2), None),
        person(
            "bo",
            moved(MoveState::Failed, Some(t(2, 8))),
            Some(Hold::State(MoveState::Failed)),
        ),
        person("cy", ok(2), None),
        person("dee", ok(2), None),
        person("eve", None, Some(Hold::GuestWithoutAddress)),
        person("fay", None, None),
        person("gus", ok(2), None),
        person(
            "hal",
            moved(MoveState::InProgress, None),
            Some(Hold::State(MoveState::InProgress)),
        ),
        person("ivy", ok(2), None),
    ]
}

fn rows() -> Vec<DeliveryRow> {
    vec![
        sent("warn", "ana@contoso.com", t(1, 9)),
        sent("notice", "ana@contoso.com", t(3, 9)),
        sent("warn", "bo@contoso.com", t(1, 9)),
        sent("notice", "cy@contoso.com", t(3, 9)),
        sent("nudge", "cy@contoso.com#1", t(6, 9)),
        sent("nudge", "cy@contoso.com#2", t(8, 9)),
        row(
            "notice",
            "dee@contoso.com",
            DeliveryState::Failed,
            t(3, 9),
            HOSTILE,
        ),
        // A campaign not in the config is a post-move one.
        sent("post-migration", "fay@contoso.com", t(3, 9)),
        sent("notice", "gus@contoso.com", t(3, 9)),
        sent("nudge", "gus@contoso.com#1", t(6, 9)),
        row(
            "nudge",
            "gus@contoso.com#2",
            DeliveryState::Deferred,
            t(8, 9),
            "451 4.7.500 try later",
        ),
        sent("notice", "ivy@contoso.com", t(3, 9)),
        row(
            "warn",
            "ivy@contoso.com",
            DeliveryState::Uncertain,
            t(1, 9),
            "lost",
        ),
        sent("notice", "zed@contoso.com", t(3, 9)),
    ]
}

fn sign_ins() -> SignIns {
    let mut by_user = HashMap::new();
    by_user.insert("ana@fabrikam.com".to_string(), vec![t(1, 7), t(4, 10)]);
    // fay's first sign-in is before her notice (the only sign of her move): not counted.
    by_user.insert("fay@fabrikam.com".to_string(), vec![t(2, 7), t(5, 7)]);
    // gus signed in before his move only.
    by_user.insert("gus@fabrikam.com".to_string(), vec![t(1, 7)]);
    by_user.insert("ivy@fabrikam.com".to_string(), vec![t(7, 7)]);
    SignIns {
        by_user,
        newest_import: Some(SignInImport {
            learnt_at: t(9, 6),
            source: "graph".into(),
            users: 9,
            signed_in: 4,
        }),
    }
}

/// Warned, moved, notified, signed in when, reminders, and the kinds of attention.
type Reached = (
    bool,
    bool,
    bool,
    Option<DateTime<Utc>>,
    u32,
    Vec<&'static str>,
);

/// What a journey reached, in one comparable line.
fn reached(
    j: &Journey,
) -> (
    bool,
    bool,
    bool,
    Option<DateTime<Utc>>,
    u32,
    Vec<&'static str>,
) {
    let kinds = j
        .attention
        .iter()
        .map(|a| match a {
            Attention::Move { .. } => "move",
            Attention::Message { .. } => "message",
            Attention::GuestWithoutAddress { .. } => "guest",
            Attention::NotSignedIn { .. } => "not-signed-in",
        })
        .collect();
    (
        j.warned_at.is_some(),
        j.has_moved(),
        j.notified_at.is_some(),
        j.signed_in_at,
        j.reminders,
        kinds,
    )
}

#[test]
fn every_persons_steps_and_attention() {
    let report = sources_of(&people(), &rows(), &sign_ins(), &campaigns());
    #[rustfmt::skip]
    let expected: [(&str, Reached); 9] = [
        // name   warned moved  notified signed in       reminders attention
        ("ana", (true,  true,  true,  Some(t(4, 10)), 0, vec![])),
        ("bo",  (true,  false, false, None,           0, vec!["move"])),
        ("cy",  (false, true,  true,  None,           2, vec!["not-signed-in"])),
        ("dee", (false, true,  false, None,           0, vec!["message"])),
        ("eve", (false, false, false, None,           0, vec!["guest"])),
        ("fay", (false, true,  true,  Some(t(5, 7)),  0, vec![])),
        ("gus", (false, true,  true,  None,           1, vec!["message"])),
        ("hal", (false, false, false, None,           0, vec![])),
        ("ivy", (false, true,  true,  Some(t(7, 7)),  0, vec!["message"])),
    ];
    assert_eq!(report.people.len(), expected.len());
    for (j, (name, want)) in report.people.iter().zip(expected) {
        assert_eq!(j.source_upn, format!("{name}@contoso.com"));
        assert_eq!(reached(j), want, "{name}");
    }
    let cy = &report.people[2];
    assert_eq!(cy.last_reminder_at, Some(t(8, 9)));
    assert_eq!(report.people[0].warned_at, Some(t(1, 9)));
    assert_eq!(report.rows_outside_mapping, 1, "zed is not in the mapping");
}

#[test]
fn the_funnel_counts_each_step_as_a_share_of_the_mapping() {
    let report = sources_of(&people(), &rows(), &sign_ins(), &campaigns());
    let counts: Vec<(&str, u64)> = report
        .funnel
        .steps()
        .iter()
        .map(|(k, _, s)| (*k, s.count))
        .collect();
    assert_eq!(
        counts,
        [
            ("mapping", 9),
            ("warned", 2),
            ("moved", 6),
            ("notified", 5),
            ("signed_in", 3)
        ]
    );
    assert_eq!(report.funnel.signed_in.share, 3.0 / 9.0);
    assert_eq!(Funnel::of(&[]).mapping.share, 0.0, "no division by zero");
}

#[test]
fn attention_says_why_with_the_reply_and_campaign() {
    let report = sources_of(&people(), &rows(), &sign_ins(), &campaigns());
    let said = |i: usize| -> Vec<String> {
        report.people[i]
            .attention
            .iter()
            .map(Attention::describe)
            .collect()
    };
    assert_eq!(said(1), ["held: Failed"]);
    assert_eq!(
        said(3),
        [format!("message failed in campaign notice: {HOSTILE}")]
    );
    assert_eq!(
        said(6),
        ["message deferred in campaign nudge (reminder 2): 451 4.7.500 try later"]
    );
    assert_eq!(
        said(2),
        ["moved and notified, 2 reminders sent, and no sign-in to the target tenant since the move"]
    );
    assert_eq!(report.needing_attention().count(), 6);
}

#[test]
fn without_sign_in_evidence_nobody_is_flagged_for_not_signing_in() {
    let none = SignIns::default();
    let report = sources_of(&people(), &rows(), &none, &campaigns());
    assert_eq!(report.funnel.signed_in.count, 0);
    assert!(report
        .people
        .iter()
        .flat_map(|j| &j.attention)
        .all(|a| !matches!(a, Attention::NotSignedIn { .. })));
    // Nor without a reminder campaign: "after all reminders" needs reminders to exist.
    let report = sources_of(&people(), &rows(), &sign_ins(), &Campaigns::default());
    assert!(
        report.people[2].attention.is_empty(),
        "{:?}",
        report.people[2]
    );
}

#[test]
fn campaigns_give_kinds_by_name_and_the_reminder_limit() {
    let c = campaigns();
    let cases = [
        ("warn", Kind::PreMove),
        ("WARN", Kind::PreMove),
        ("notice", Kind::PostMove),
        ("nudge", Kind::Reminder),
        ("post-migration", Kind::PostMove),
    ];
    for (name, kind) in cases {
        assert_eq!(c.kind(name), kind, "{name}");
    }
    assert_eq!(c.max_reminders, Some(campaign::MAX_REMINDERS));
    let bare = Campaigns::of_config(&[]);
    assert_eq!(
        (bare.kind("nudge"), bare.max_reminders),
        (Kind::PostMove, None)
    );
}

#[test]
fn a_reminder_key_without_tables_is_a_row_of_nobody() {
    // Without tables `nudge` is post-move, so `cy@contoso.com#1` is not cy's key.
    let report = sources_of(&people(), &rows(), &sign_ins(), &Campaigns::default());
    assert_eq!(report.people[2].reminders, 0);
    assert_eq!(report.people[6].notified_at, Some(t(3, 9)));
}

pub(crate) fn sample() -> JourneyReport {
    sources_of(&people(), &rows(), &sign_ins(), &campaigns())
}

#[test]
fn human_text_leads_with_the_funnel_then_attention_then_everyone() {
    let text = text::human(&sample());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Journey of 9 people in the mapping (sign-ins as learnt from graph at 2026-12-09 06:00 UTC)"
    );
    assert_eq!(lines[1], "  in the mapping                  9   100%");
    assert_eq!(lines[5], "  signed in since the move        3    33%");
    let attention = text.find("Need attention: 6").unwrap();
    let table = text.find("SOURCE").unwrap();
    assert!(attention < table);
    assert!(text.contains("  dee@contoso.com  message failed in campaign notice: 550"));
    assert!(text.contains("ana@contoso.com  ana@fabrikam.com  2026-12-01 09:00 UTC  Success 2026-12-02 08:00 UTC (batch-1)"));
    assert!(text.contains("(1 ledger row of people not in this mapping: not part of any journey;"));
}

#[test]
fn csv_has_a_row_per_person_and_no_formulas() {
    let mut report = sample();
    report.people[0].target_upn = "=HYPERLINK(\"x\")".into();
    let csv = String::from_utf8(text::csv(&report).unwrap()).unwrap();
    assert_eq!(csv.lines().count(), 10);
    assert!(csv.contains("'=HYPERLINK"));
    assert_eq!(
        csv.lines().nth(3).unwrap(),
        "cy@contoso.com,cy@fabrikam.com,,Success,batch-1,2026-12-02T08:00:00Z,2026-12-03T09:00:00Z,,2,2026-12-08T09:00:00Z,\"moved and notified, 2 reminders sent, and no sign-in to the target tenant since the move\""
    );
}

#[test]
fn json_has_funnel_people_and_chart() {
    let json = serde_json::to_value(sample()).unwrap();
    assert_eq!(json["funnel"]["moved"]["count"], 6);
    let ana = &json["people"][0];
    assert_eq!(ana["moved"]["state"], "Success");
    assert_eq!(ana["moved"]["batch"], "batch-1");
    assert_eq!(ana["signed_in_at"], "2026-12-04T10:00:00Z");
    assert_eq!(json["people"][3]["attention"][0]["kind"], "message");
    assert_eq!(json["people"][3]["attention"][0]["state"], "failed");
    assert!(json["chart"]["hours"].as_array().is_some());
}
