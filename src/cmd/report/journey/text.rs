//! The journey as text: the funnel first, then who needs attention and why, then a line per
//! person (human); one row per person (CSV, safe to open in Excel). The JSON is the report
//! serialized as it is (`{funnel, people, chart, sign_in_evidence, rows_outside_mapping}`).

use super::{short_time, Journey, JourneyReport};
use crate::cmd::report::format::{cell, table};
use crate::diag::one_line;

/// The funnel's lines: step, count, share of the mapping.
pub fn funnel_lines(r: &JourneyReport) -> Vec<String> {
    let mut lines = vec![format!(
        "Journey of {} people in the mapping{}",
        r.funnel.mapping.count,
        match &r.sign_in_evidence {
            Some(e) => format!(
                " (sign-ins as learnt from {} at {})",
                e.source,
                short_time(e.learnt_at)
            ),
            None => " (no sign-in evidence imported yet: nobody counts as signed in)".into(),
        }
    )];
    let steps = r.funnel.steps();
    let width = steps.iter().map(|(_, l, _)| l.len()).max().unwrap_or(0);
    for (_, label, step) in steps {
        lines.push(format!(
            "  {label:<width$}  {:>7}  {:>4.0}%",
            step.count,
            step.share * 100.0
        ));
    }
    if r.rows_outside_mapping > 0 {
        lines.push(format!(
            "  ({} of people not in this mapping: not part of any journey; `report` without --journey lists them)",
            crate::diag::count(r.rows_outside_mapping, "ledger row")
        ));
    }
    lines
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "-".into(), short_time)
}

fn moved(j: &Journey) -> String {
    match &j.moved {
        Some(m) => match m.at {
            Some(at) => format!("{} {} ({})", m.state, short_time(at), m.batch),
            None => format!("{} ({})", m.state, m.batch),
        },
        None if j.notified_at.is_some() => "notified (no export entry)".into(),
        None => "-".into(),
    }
}

fn reminders(j: &Journey) -> String {
    match j.last_reminder_at {
        Some(at) => format!("{}, last {}", j.reminders, short_time(at)),
        None => j.reminders.to_string(),
    }
}

/// The funnel, the people who need attention with the reasons, then a line per person.
pub fn human(r: &JourneyReport) -> String {
    let mut out = funnel_lines(r).join("\n");
    out.push_str("\n\n");
    let attention: Vec<&Journey> = r.needing_attention().collect();
    if attention.is_empty() {
        out.push_str("Nobody needs attention.\n\n");
    } else {
        out.push_str(&format!("Need attention: {}\n", attention.len()));
        for j in &attention {
            for a in &j.attention {
                out.push_str(&format!(
                    "  {}  {}\n",
                    j.source_upn,
                    one_line(&a.describe())
                ));
            }
        }
        out.push('\n');
    }
    let header = [
        "SOURCE",
        "TARGET",
        "WARNED",
        "MOVED",
        "NOTIFIED",
        "SIGNED IN",
        "REMINDERS",
    ];
    let rows = r.people.iter().map(|j| {
        [
            j.source_upn.clone(),
            j.target_upn.clone(),
            time(j.warned_at),
            moved(j),
            time(j.notified_at),
            time(j.signed_in_at),
            reminders(j),
        ]
    });
    out.push_str(&table(&header, rows));
    out
}

/// One row per person with a header.
pub fn csv(r: &JourneyReport) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "source_upn",
        "target_upn",
        "warned_at",
        "move_state",
        "batch",
        "moved_at",
        "notified_at",
        "signed_in_at",
        "reminders",
        "last_reminder_at",
        "attention",
    ])?;
    let at = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    for j in &r.people {
        let m = j.moved.as_ref();
        let attention: Vec<String> = j
            .attention
            .iter()
            .map(|a| one_line(&a.describe()))
            .collect();
        w.write_record([
            cell(&j.source_upn),
            cell(&j.target_upn),
            at(j.warned_at),
            cell(m.map_or("", |m| m.state.as_str())),
            cell(m.map_or("", |m| m.batch.as_str())),
            at(m.and_then(|m| m.at)),
            at(j.notified_at),
            at(j.signed_in_at),
            j.reminders.to_string(),
            at(j.last_reminder_at),
            cell(&attention.join("; ")),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
