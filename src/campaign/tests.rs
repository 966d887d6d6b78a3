use super::*;

fn campaign(name: &str, kind: Kind) -> CampaignConfig {
    CampaignConfig {
        name: name.into(),
        kind,
        templates: None,
        recipient: None,
        from: None,
        reply_to: None,
        transport: None,
        pacing: None,
        days_before: None,
        scheduled_only: None,
        follows: None,
        after_days: None,
        every_days: None,
        max_reminders: None,
        max_evidence_age_hours: None,
    }
}

#[test]
fn keys_carry_the_reminder_number_and_split_back() {
    assert_eq!(user_key("Ana@Contoso.com", None), "ana@contoso.com");
    assert_eq!(user_key("Ana@Contoso.com", Some(2)), "ana@contoso.com#2");
    assert_eq!(split_key("ana@contoso.com#2"), ("ana@contoso.com", Some(2)));
    assert_eq!(split_key("ana@contoso.com"), ("ana@contoso.com", None));
    // A `#` that is not followed by a number is part of the UPN (a guest's #EXT#).
    let guest = "jane_fabrikam.com#ext#@contoso.onmicrosoft.com";
    assert_eq!(split_key(guest), (guest, None));
    assert_eq!(split_key(&format!("{guest}#1")), (guest, Some(1)));
}

#[test]
fn without_tables_any_name_is_a_post_move_campaign() {
    let c = select(&[], None).unwrap();
    assert_eq!((c.name.as_str(), c.kind()), (DEFAULT_NAME, Kind::PostMove));
    let c = select(&[], Some("wave-2")).unwrap();
    assert_eq!((c.name.as_str(), c.kind()), ("wave-2", Kind::PostMove));
}

#[test]
fn with_tables_the_campaign_must_be_named_and_known() {
    let all = [
        campaign("warn", Kind::PreMove),
        campaign("notice", Kind::PostMove),
        campaign("nudge", Kind::Reminder),
    ];
    assert!(check(&all).is_empty(), "{:?}", check(&all));
    // Without a name, the only post-move campaign: what `send` after a batch always sent.
    assert_eq!(select(&all, None).unwrap().name, "notice");
    let two = [campaign("a", Kind::PostMove), campaign("b", Kind::PostMove)];
    assert_eq!(
        select(&two, None).unwrap_err().to_string(),
        "name the campaign with --campaign (the config has no single post-move campaign to default to); its campaigns are a, b"
    );
    assert_eq!(
        select(&all, Some("notices")).unwrap_err().to_string(),
        "--campaign `notices` is not in the config; its campaigns are warn, notice, nudge"
    );
    let nudge = select(&all, Some("NUDGE")).unwrap();
    assert_eq!(
        nudge.rule,
        Rule::Reminder(ReminderRule {
            follows: "notice".into(),
            after_days: AFTER_DAYS,
            every_days: EVERY_DAYS,
            max_reminders: MAX_REMINDERS,
            max_evidence_age_hours: MAX_EVIDENCE_AGE_HOURS,
        })
    );
    assert_eq!(
        select(&all, Some("warn")).unwrap().rule,
        Rule::PreMove(PreMoveRule {
            days_before: DAYS_BEFORE,
            scheduled_only: true
        })
    );
}

#[test]
fn every_problem_of_the_tables_is_reported() {
    let mut bad_name = campaign("wave 1", Kind::PostMove);
    bad_name.days_before = Some(2);
    let twice = campaign("WAVE-2", Kind::PostMove);
    let mut orphan = campaign("nudge", Kind::Reminder);
    orphan.follows = Some("nope".into());
    let all = [bad_name, campaign("wave-2", Kind::PostMove), twice, orphan];
    assert_eq!(
        check(&all),
        [
            "[[campaign]] 1 (`wave 1`): name may only have letters, digits, `-`, `_` and `.`",
            "[[campaign]] 1 (`wave 1`): `days_before` is not a key of a post-move campaign",
            "[[campaign]] 3 (`WAVE-2`): the name is used by an earlier campaign; every campaign needs its own (it keys the ledger)",
            "[[campaign]] 4 (`nudge`): follows `nope`, which is not a post-move campaign of this config (post-move campaigns: wave 1, wave-2, WAVE-2)",
        ]
    );
}

#[test]
fn a_reminder_needs_one_post_move_campaign_to_follow() {
    let lone = [campaign("nudge", Kind::Reminder)];
    assert_eq!(
        check(&lone),
        ["[[campaign]] 1 (`nudge`): a reminder follows a post-move campaign, and the config has none; add one (kind = \"post-move\")"]
    );
    let two = [
        campaign("a", Kind::PostMove),
        campaign("b", Kind::PostMove),
        campaign("nudge", Kind::Reminder),
    ];
    assert_eq!(
        check(&two),
        ["[[campaign]] 3 (`nudge`): there are several post-move campaigns (a, b); say which one this reminds of with follows = \"NAME\""]
    );
}
