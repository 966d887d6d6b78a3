//! The summary built from canned records: every stage a run can end in.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::inputs::mapping::UserMapping;
use crate::inputs::move_state::{MoveEntry, MoveState};
use crate::ledger::deliveries::DeliveryRow;
use crate::plan::HeldBack;
use crate::trust::Pair;

pub(crate) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn user(name: &str) -> UserMapping {
    UserMapping {
        line: 1,
        source_tenant: "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01".into(),
        source_upn: format!("{name}@contoso.com"),
        target_upn: format!("{name}@fabrikam.com"),
        target_email: format!("{name}@fabrikam.com"),
        user_type: "RegularUser".into(),
    }
}

fn held(name: &str, state: Option<MoveState>) -> HeldBack {
    let entry = state.map(|s| MoveEntry {
        source_upn: format!("{name}@contoso.com"),
        target_upn: None,
        state: Some(s),
        state_text: s.name().into(),
        timestamp: None,
        job_id: Some(format!("job-{name}")),
        batch: "batch-1".into(),
        file: "batch-1.csv".into(),
        line: 4,
        index: None,
    });
    let reason = match state {
        Some(_) => "move Failed (batch batch-1, batch-1.csv:4): the migration team must fix and retry the move before this user is told",
        None => "not in any move-state export",
    };
    HeldBack {
        user: user(name),
        reason: reason.into(),
        hold: state.map_or(Hold::NotInAnyExport, Hold::State),
        move_state: entry,
    }
}

fn plan() -> Plan {
    let mut plan = Plan {
        users: 7,
        groups: 1,
        ready: 5,
        // Listed in mapping order; the summary puts Failed first.
        held_back: vec![held("gus", None), held("bo", Some(MoveState::Failed))],
        ..Plan::default()
    };
    plan.diagnostics.warning(
        &Arc::from("map.csv"),
        Some(3),
        "no row in the directory for ana",
    );
    plan
}

fn row(name: &str, state: DeliveryState, reply: &str, last: &str) -> DeliveryRow {
    DeliveryRow {
        campaign: "post-migration".into(),
        user_key: format!("{name}@contoso.com"),
        state,
        attempts: 1,
        recipients: vec![format!("{name}@fabrikam.com")],
        message_id: Some(format!("<{name}@fabrikam.com>")),
        content_hash: None,
        last_reply: Some(reply.into()),
        batch: Some("batch-1".into()),
        first_attempt_at: Some(last.into()),
        last_attempt_at: Some(last.into()),
        sent_at: None,
        updated_at: last.into(),
    }
}

fn rows() -> Vec<DeliveryRow> {
    let ok = "250 2.0.0 Ok";
    [
        ("ana", DeliveryState::Sent, ok, "2025-03-05T10:00:01.000Z"),
        ("cy", DeliveryState::Sent, ok, "2025-03-05T10:00:01.500Z"),
        ("dee", DeliveryState::Sent, ok, "2025-03-05T10:00:02.000Z"),
        (
            "eve",
            DeliveryState::Failed,
            "550 5.1.1 <eve@fabrikam.com>: Recipient address rejected",
            "2025-03-05T10:00:00.250Z",
        ),
        (
            "fay",
            DeliveryState::Uncertain,
            "connection lost after the message was sent",
            "2025-03-04T09:00:00.000Z",
        ),
    ]
    .into_iter()
    .map(|(name, state, reply, last)| row(name, state, reply, last))
    .collect()
}

fn paused_engine() -> RunSummary {
    RunSummary {
        counts: Counts {
            sent: 3,
            deferred: 1,
            failed: 1,
            ..Counts::default()
        },
        stop: Some(StopReason::DayBudget {
            resume_at: at("2025-03-05T12:30:00Z"),
        }),
        elapsed: Duration::from_secs(2),
    }
}

/// A run of campaign `post-migration` that started and ended at 10:00 and got nowhere; each
/// test fills in the stages its run reached.
fn record(outcome: Outcome) -> RunRecord<'static> {
    RunRecord {
        campaign: "post-migration",
        test_to: None,
        started: at("2025-03-05T10:00:00Z"),
        ended: at("2025-03-05T10:00:00Z"),
        outcome,
        message: None,
        mapping: "map.csv",
        plan: None,
        gate: None,
        engine: None,
        ledger: None,
    }
}

/// A paused run with everything in it; shared with the mail's tests.
pub(crate) fn sample_summary() -> AdminSummary {
    let plan = plan();
    let rows = rows();
    let engine = paused_engine();
    build(&RunRecord {
        ended: at("2025-03-05T10:00:03Z"),
        plan: Some(&plan),
        gate: Some(&GateStatus::Open),
        engine: Some(&engine),
        ledger: Some(&Standing::from_rows(&rows)),
        ..record(Outcome::Paused)
    })
}

#[test]
fn a_paused_run_says_when_to_resume_and_lists_who_needs_someone() {
    let s = sample_summary();
    assert_eq!(s.outcome.status, "paused");
    assert_eq!(s.outcome.exit_code, 5);
    assert!(
        s.outcome.message.contains("per_day"),
        "{}",
        s.outcome.message
    );
    let paused = s.paused.as_ref().unwrap();
    assert_eq!(paused.resume_at.as_deref(), Some("2025-03-05T12:30:00Z"));
    assert_eq!(s.gate.status, "open");
    assert_eq!(s.run.seconds, 3.0);
    assert_eq!(s.this_run.unwrap().sent, 3);
    let ledger = s.ledger.as_ref().unwrap();
    assert_eq!(ledger["sent"], 3);
    assert_eq!(ledger["failed"], 1);
    assert_eq!(ledger["pending"], 0, "every state is counted, even at 0");
    assert_eq!(s.failures.total, 1);
    assert_eq!(s.failures.users[0].user, "eve@contoso.com");
    assert!(s.failures.users[0]
        .reply
        .as_deref()
        .unwrap()
        .contains("5.1.1"));
    assert!(s.failures.users[0].this_run, "attempted after the start");
    assert_eq!(s.uncertain.users[0].user, "fay@contoso.com");
    assert!(!s.uncertain.users[0].this_run, "left by an earlier run");
    let input = s.input.as_ref().unwrap();
    assert_eq!((input.users, input.ready, input.warning_count), (7, 5, 1));
}

#[test]
fn held_back_users_are_grouped_by_reason_failed_first_with_the_users_listed() {
    let s = sample_summary();
    assert_eq!(s.held_back.total, 2);
    let reasons: Vec<&str> = s
        .held_back
        .by_reason
        .iter()
        .map(|g| g.reason.as_str())
        .collect();
    assert_eq!(reasons, ["Failed", "not in any move-state export"]);
    let failed = &s.held_back.by_reason[0];
    assert!(failed.action_needed);
    assert!(!s.held_back.by_reason[1].action_needed);
    let bo = &failed.users.users[0];
    assert_eq!(bo.source_upn, "bo@contoso.com");
    assert_eq!(bo.batch.as_deref(), Some("batch-1"));
    assert_eq!(bo.export.as_deref(), Some("batch-1.csv:4"));
    assert_eq!(bo.job_id.as_deref(), Some("job-bo"));
    assert!(
        bo.reason.contains("migration team must fix"),
        "{}",
        bo.reason
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["held_back"]["by_reason"][0]["hold"]["kind"], "state");
    assert_eq!(json["held_back"]["by_reason"][0]["hold"]["state"], "Failed");
    assert_eq!(json["kind"], KIND);
    assert!(
        json.get("delivery").is_none(),
        "filled in only for the file"
    );
}

#[test]
fn a_closed_gate_lists_the_missing_pairs_with_their_commands() {
    let plan = plan();
    let pair = Pair {
        side: crate::config::Side::Target,
        number: 1,
        host_url: "https://fabrikam-my.sharepoint.com/".into(),
        partner_url: "https://contoso-my.sharepoint.com/".into(),
    };
    let gate = GateStatus::Closed {
        missing: vec![pair],
        stale: vec![],
        total: 2,
    };
    let s = build(&RunRecord {
        ended: at("2025-03-05T10:00:01Z"),
        message: Some("trust gate closed: ..."),
        plan: Some(&plan),
        gate: Some(&gate),
        ledger: Some(&Standing::default()),
        ..record(Outcome::GateClosed)
    });
    assert_eq!((s.outcome.status, s.outcome.exit_code), ("gate-closed", 3));
    assert_eq!(s.outcome.message, "trust gate closed: ...");
    assert_eq!(s.gate.status, "closed");
    assert_eq!(s.gate.total_pairs, Some(2));
    assert_eq!(s.gate.missing.len(), 1);
    let missing = &s.gate.missing[0];
    assert_eq!(missing.side, "target");
    assert!(missing
        .remove_command
        .contains("-PartnerRole Source -PartnerCrossTenantHostUrl https://contoso-my"));
    assert!(s.this_run.is_none(), "nothing was sent");
    assert!(s.paused.is_none());
    assert_eq!(s.held_back.total, 2, "held-back users are listed anyway");
}

#[test]
fn invalid_input_lists_the_located_errors_and_never_reached_the_gate() {
    let mut plan = plan();
    plan.diagnostics.error(
        &Arc::from("map.csv"),
        Some(2),
        "column 2 (source tenant ID): `not-a-guid` is not a GUID",
    );
    let s = build(&RunRecord {
        plan: Some(&plan),
        ..record(Outcome::Invalid)
    });
    assert_eq!(
        (s.outcome.status, s.outcome.exit_code),
        ("invalid-input", 2)
    );
    assert_eq!(s.outcome.message, "invalid input; nothing was sent");
    assert_eq!(s.gate.status, "not-checked");
    let input = s.input.unwrap();
    assert_eq!(input.error_count, 1);
    assert!(
        input.errors[0].starts_with("map.csv:2"),
        "{:?}",
        input.errors
    );
    assert!(s.ledger.is_none());
    assert_eq!(s.failures.total, 0);
}

#[test]
fn a_fatal_stop_names_the_reason_and_a_plain_failure_its_error() {
    let engine = RunSummary {
        counts: Counts::default(),
        stop: Some(StopReason::Fatal {
            reason: "535 5.7.3 Authentication unsuccessful".into(),
        }),
        elapsed: Duration::ZERO,
    };
    let record = RunRecord {
        campaign: "c",
        test_to: Some("me@fabrikam.com"),
        gate: Some(&GateStatus::Open),
        engine: Some(&engine),
        ..record(Outcome::Failure)
    };
    let s = build(&record);
    assert_eq!(
        s.outcome.message,
        "Stopped: 535 5.7.3 Authentication unsuccessful"
    );
    assert_eq!(s.test_to.as_deref(), Some("me@fabrikam.com"));
    assert!(s.input.is_none());
    let s = build(&RunRecord {
        engine: None,
        message: Some("ledger t2t.db is locked by another process"),
        ..record
    });
    assert_eq!(
        s.outcome.message,
        "ledger t2t.db is locked by another process"
    );
}

#[test]
fn the_limited_version_keeps_the_counts_and_says_how_many_are_not_listed() {
    let mut plan = plan();
    plan.held_back = (0..10)
        .map(|i| held(&format!("u{i}"), Some(MoveState::Failed)))
        .collect();
    let rows: Vec<DeliveryRow> = (0..5)
        .map(|i| {
            row(
                &format!("f{i}"),
                DeliveryState::Failed,
                "550",
                "2025-03-05T10:00:00Z",
            )
        })
        .collect();
    let full = build(&RunRecord {
        campaign: "c",
        plan: Some(&plan),
        gate: Some(&GateStatus::Open),
        ledger: Some(&Standing::from_rows(&rows)),
        ..record(Outcome::SomeFailed)
    });
    assert_eq!(full.omitted(), 0);
    let short = full.limited(3);
    assert_eq!(short.held_back.total, 10);
    let group = &short.held_back.by_reason[0].users;
    assert_eq!((group.total, group.omitted, group.users.len()), (10, 7, 3));
    assert_eq!((short.failures.total, short.failures.omitted), (5, 2));
    assert_eq!(short.omitted(), 9);
    assert_eq!(
        full.held_back.by_reason[0].users.users.len(),
        10,
        "the full one is untouched"
    );
}
