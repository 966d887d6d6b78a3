use chrono::TimeZone;

use super::*;
use crate::campaign::DEFAULT_NAME;
use crate::ledger::sign_ins::SignIns;

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, d, 9, 0, 0).unwrap()
}

fn entry(state: MoveState, at: Option<DateTime<Utc>>) -> MoveEntry {
    MoveEntry {
        source_upn: "ana@contoso.com".into(),
        target_upn: None,
        state: Some(state),
        state_text: state.name().into(),
        timestamp: at,
        job_id: None,
        batch: "wave-1".into(),
        file: "wave-1.csv".into(),
        line: 2,
        index: None,
    }
}

fn person<'a>(moved: Option<&'a MoveEntry>, planned: Option<NaiveDate>) -> Person<'a> {
    Person {
        source_upn: "Ana@contoso.com",
        target_upn: "ana@fabrikam.com",
        moved,
        exports_given: moved.is_some(),
        planned_start: planned,
    }
}

fn campaign(rule: Rule) -> Campaign {
    Campaign {
        name: DEFAULT_NAME.into(),
        rule,
    }
}

fn pre_move(days_before: u32, scheduled_only: bool) -> Campaign {
    campaign(Rule::PreMove(PreMoveRule {
        days_before,
        scheduled_only,
    }))
}

/// The hold of a verdict, or `ok N` / `ok`.
fn label(v: Verdict) -> String {
    match v {
        Ok(Some(n)) => format!("ok {n}"),
        Ok(None) => "ok".into(),
        Err((hold, _)) => hold.to_string(),
    }
}

#[test]
fn a_warning_goes_to_people_not_moved_from_days_before_their_date() {
    let date = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d);
    let success = entry(MoveState::Success, None);
    let running = entry(MoveState::InProgress, None);
    let scheduled = entry(MoveState::Scheduled, None);
    let cases = [
        // (person, now, scheduled_only, expected)
        (person(None, date(10)), day(7), true, "ok"),
        (person(None, date(10)), day(6), true, "warning not due yet"),
        // A date that passed without the move: still warned (the move is late, not done).
        (person(None, date(2)), day(7), true, "ok"),
        (person(Some(&scheduled), date(8)), day(7), true, "ok"),
        (
            person(Some(&success), date(8)),
            day(7),
            true,
            "moved already",
        ),
        (person(Some(&running), date(8)), day(7), true, "moving now"),
        (person(None, None), day(7), true, "no planned start"),
        (person(None, None), day(7), false, "ok"),
    ];
    for (p, now, only, expected) in cases {
        let got = label(decide(&pre_move(3, only), &p, &Facts::at(now)));
        assert_eq!(got, expected, "{:?} at {now}", p.planned_start);
    }
    let (_, why) = decide(
        &pre_move(3, true),
        &person(None, date(10)),
        &Facts::at(day(6)),
    )
    .unwrap_err();
    assert_eq!(
        why,
        "planned start 2026-12-10: the warning goes out from 2026-12-07 (3 days before)"
    );
}

#[test]
fn the_post_move_notice_keeps_the_move_state_rule() {
    let c = campaign(Rule::PostMove);
    let failed = entry(MoveState::Failed, None);
    assert_eq!(
        label(decide(&c, &person(None, None), &Facts::at(day(1)))),
        "ok"
    );
    assert_eq!(
        label(decide(&c, &person(Some(&failed), None), &Facts::at(day(1)))),
        "Failed"
    );
}

fn reminder_rule() -> Campaign {
    campaign(Rule::Reminder(ReminderRule {
        follows: DEFAULT_NAME.into(),
        after_days: 3,
        every_days: 4,
        max_reminders: 2,
        max_evidence_age_hours: 24,
    }))
}

fn facts(now: DateTime<Utc>, reminders: &[DateTime<Utc>], sign_ins: &[DateTime<Utc>]) -> Facts {
    let mut known = ReminderFacts::default();
    known.notices.insert("ana@contoso.com".into(), day(1));
    if !reminders.is_empty() {
        known
            .reminders
            .insert("ana@contoso.com".into(), reminders.to_vec());
    }
    let mut s = SignIns::default();
    s.by_user
        .insert("ana@fabrikam.com".into(), sign_ins.to_vec());
    known.sign_ins = s;
    Facts {
        now,
        reminders: Some(known),
    }
}

#[test]
fn reminders_follow_the_notice_until_a_sign_in_after_the_move() {
    let moved = entry(MoveState::Success, Some(day(1) - Duration::hours(2)));
    let p = person(Some(&moved), None);
    let c = reminder_rule();
    let cases = [
        // (now, reminders sent, sign-ins learnt, expected)
        (day(3), vec![], vec![], "reminder not due yet"),
        (day(4), vec![], vec![], "ok 1"),
        // A sign-in before the move says nothing about the new account.
        (day(4), vec![], vec![day(1) - Duration::days(5)], "ok 1"),
        (day(4), vec![], vec![day(2)], "signed in"),
        (day(7), vec![day(4)], vec![], "reminder not due yet"),
        (day(8), vec![day(4)], vec![], "ok 2"),
        (
            day(20),
            vec![day(4), day(8)],
            vec![],
            "all reminders sent, not signed in",
        ),
    ];
    for (now, sent, sign_ins, expected) in cases {
        let got = label(decide(&c, &p, &facts(now, &sent, &sign_ins)));
        assert_eq!(got, expected, "at {now} after {sent:?} with {sign_ins:?}");
    }
    let (_, why) = decide(&c, &p, &facts(day(7), &[day(4)], &[])).unwrap_err();
    assert_eq!(why, "reminder 2 is due from 2026-12-08 09:00 UTC (4 days after the last reminder of 2026-12-04)");
    let nobody = Facts {
        now: day(9),
        reminders: None,
    };
    assert_eq!(label(decide(&c, &p, &nobody)), "notice not sent yet");
}

#[test]
fn without_an_export_time_a_sign_in_counts_from_the_notice() {
    let p = person(None, None);
    let c = reminder_rule();
    // Signed in after the notice of day 1: done; before it (unknown move time): reminded.
    assert_eq!(
        label(decide(&c, &p, &facts(day(5), &[], &[day(2)]))),
        "signed in"
    );
    let before = day(1) - Duration::hours(1);
    assert_eq!(
        label(decide(&c, &p, &facts(day(5), &[], &[before]))),
        "ok 1"
    );
}
