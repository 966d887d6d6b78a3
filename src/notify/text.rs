//! The admin summary as plain text, for the mail to `[notify].admin_email`: the outcome, the
//! gate, the counts, then the users who need someone (held back with `Failed` first, failed
//! with their replies, uncertain). Pure; the JSON travels with it.

use std::fmt::Write;

use super::summary::{AdminSummary, LedgerUser, Listed};
use crate::diag::{count, one_line};
use crate::ledger::deliveries::DeliveryState;

/// The subject line: campaign, outcome and the numbers that matter.
pub fn subject(s: &AdminSummary) -> String {
    let sent = s.this_run.map_or(0, |c| c.sent);
    let failed = s.failures.total;
    let test = if s.test_to.is_some() {
        " (test run)"
    } else {
        ""
    };
    format!(
        "t2t-notify {}{test}: {} (exit {}): {sent} sent, {} held back, {failed} failed",
        s.campaign, s.outcome.status, s.outcome.exit_code, s.held_back.total
    )
}

/// The whole text.
pub fn render(s: &AdminSummary) -> String {
    let mut out = String::new();
    head(&mut out, s);
    counts(&mut out, s);
    held_back(&mut out, s);
    ledger_list(&mut out, "Failed", "the server refused these users; the reply says why (--retry-failed tries again after a fix)", &s.failures);
    ledger_list(
        &mut out,
        "Uncertain",
        "they may have the notice; --resend-uncertain sends again",
        &s.uncertain,
    );
    if s.omitted() > 0 {
        let _ = writeln!(
            out,
            "\n{} more users are not listed here; the summary file on the admin's machine lists them all.",
            s.omitted()
        );
    }
    out
}

fn head(out: &mut String, s: &AdminSummary) {
    let _ = writeln!(out, "t2t-notify send, campaign {}", s.campaign);
    if let Some(to) = &s.test_to {
        let _ = writeln!(out, "Test run: every message went to {to}");
    }
    let _ = writeln!(
        out,
        "Outcome: {} (exit {}): {}",
        s.outcome.status, s.outcome.exit_code, s.outcome.message
    );
    let _ = writeln!(
        out,
        "Run: {} to {} ({:.1} s)",
        s.run.started_at, s.run.ended_at, s.run.seconds
    );
    if let Some(p) = &s.paused {
        let why = match &p.resume_at {
            Some(at) => format!("resume at {at}"),
            None => p.reason.clone(),
        };
        let _ = writeln!(out, "Paused: {why}");
    }
    match s.gate.status {
        "closed" => {
            let _ = writeln!(
                out,
                "Trust gate: closed, {} of {} host pairs not confirmed removed:",
                s.gate.missing.len(),
                s.gate.total_pairs.unwrap_or(0)
            );
            for p in &s.gate.missing {
                let _ = writeln!(
                    out,
                    "  {} {} -> {}: run {}",
                    p.side, p.host_url, p.partner_url, p.remove_command
                );
            }
        }
        status => {
            let _ = writeln!(out, "Trust gate: {status}");
        }
    }
}

fn counts(out: &mut String, s: &AdminSummary) {
    if let Some(input) = &s.input {
        let exports = if input.move_state_exports.is_empty() {
            "no move-state exports (every mapped user is a candidate)".to_string()
        } else {
            format!("move-state exports {}", input.move_state_exports.join(", "))
        };
        let _ = writeln!(
            out,
            "Input: {} users in {}; {exports}; {} ready, {} held back; {} errors, {} warnings",
            input.users,
            input.mapping,
            input.ready,
            s.held_back.total,
            input.error_count,
            input.warning_count
        );
        for e in &input.errors {
            let _ = writeln!(out, "  {e}");
        }
    }
    if let Some(c) = &s.this_run {
        let _ = writeln!(
            out,
            "This run: {} sent, {} deferred, {} failed, {} uncertain; skipped {} already sent, {} failed before, {} uncertain",
            c.sent, c.deferred, c.failed, c.uncertain, c.skipped_sent, c.skipped_failed, c.skipped_uncertain
        );
    }
    if let Some(ledger) = &s.ledger {
        let parts: Vec<String> = DeliveryState::ALL
            .iter()
            .map(|s| format!("{} {s}", ledger.get(s.as_str()).copied().unwrap_or(0)))
            .collect();
        let _ = writeln!(out, "Ledger, campaign {}: {}", s.campaign, parts.join(", "));
    }
}

fn held_back(out: &mut String, s: &AdminSummary) {
    if s.held_back.total == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "\nHeld back, not notified: {} users",
        s.held_back.total
    );
    for group in &s.held_back.by_reason {
        let note = if group.action_needed {
            " - the migration team must act"
        } else {
            ""
        };
        let _ = writeln!(out, "  {} ({}){note}:", group.reason, group.users.total);
        for u in &group.users.users {
            let _ = writeln!(
                out,
                "    {} -> {}: {}",
                u.source_upn, u.target_upn, u.reason
            );
        }
        if group.users.omitted > 0 {
            let _ = writeln!(out, "    ... and {} more", group.users.omitted);
        }
    }
}

fn ledger_list(out: &mut String, title: &str, hint: &str, list: &Listed<LedgerUser>) {
    if list.total == 0 {
        return;
    }
    let users = count(list.total as u64, "user");
    let _ = writeln!(out, "\n{title}: {users} ({hint})");
    for u in &list.users {
        let _ = writeln!(
            out,
            "  {} ({}, {}): {}",
            u.user,
            u.recipients.join(", "),
            count(u.attempts, "attempt"),
            one_line(u.reply.as_deref().unwrap_or("-"))
        );
    }
    if list.omitted > 0 {
        let _ = writeln!(out, "  ... and {} more", list.omitted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::summary::tests::sample_summary;

    #[test]
    fn the_text_says_what_happened_and_who_needs_someone() {
        let s = sample_summary();
        let text = render(&s);
        assert!(
            text.starts_with("t2t-notify send, campaign post-migration\n"),
            "{text}"
        );
        for line in [
            "Outcome: paused (exit 5): Paused: the rolling 24 h budget",
            "Paused: resume at 2025-03-05T12:30:00Z",
            "Trust gate: open",
            "Ledger, campaign post-migration: 3 sent, 0 deferred, 1 failed, 1 uncertain, 0 in-flight, 0 pending",
            "  eve@contoso.com (eve@fabrikam.com, 1 attempt): 550 5.1.1 <eve@fabrikam.com>: Recipient address rejected",
            "\nUncertain: 1 user ",
        ] {
            assert!(text.contains(line), "{line:?} missing: {text}");
        }
        let failed_hold = text
            .find("  Failed (1) - the migration team must act:")
            .unwrap();
        let missing = text.find("  not in any move-state export (1):").unwrap();
        assert!(failed_hold < missing, "Failed first: {text}");
        assert!(!text.contains("not listed here"), "{text}");
    }

    #[test]
    fn a_short_version_says_how_many_are_not_listed() {
        let text = render(&sample_summary().limited(0));
        assert!(text.contains("    ... and 1 more"), "{text}");
        assert!(text.contains("4 more users are not listed here"), "{text}");
    }
}
