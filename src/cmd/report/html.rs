//! `report --format html`: one self-contained page for the migration lead (inline CSS and a
//! small inline script, no remote resource, a Content-Security-Policy that forbids any). Totals
//! per batch and per campaign, the users who need someone called out (failed, uncertain, held
//! back with `Failed` first), and a table of every user that the script makes searchable and
//! sortable. Every value is HTML-escaped; the table is plain HTML, so it reads without script.

use std::fmt::Write;

use super::format::{attention, HeldRow, Report, Totals};
use crate::diag::{count, one_line};
use crate::ledger::deliveries::{DeliveryRow, DeliveryState, TestSendRow};
use crate::render::gallery::escape;

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");
/// How many users a callout lists before "and N more" (the table has them all).
const CALLOUT_LISTED: usize = 25;

/// What the page says about itself.
#[derive(Debug, Clone, Default)]
pub struct PageFacts {
    pub generated: String,
    pub ledger: String,
    pub campaign: Option<String>,
    pub batch: Option<String>,
    /// The move-state exports the held-back users come from.
    pub exports: Vec<String>,
}

/// The whole page.
pub fn page(report: &Report, facts: &PageFacts) -> String {
    let mut out = String::with_capacity(4096 + 600 * report.rows().count());
    head(&mut out, report, facts);
    cards(&mut out, report);
    callouts(&mut out, report);
    batch_table(&mut out, report);
    campaign_table(&mut out, report);
    user_table(&mut out, report);
    test_sends(&mut out, &report.tests);
    let _ = write!(out, "</main>\n<script>\n{JS}</script>\n</body>\n</html>\n");
    out
}

fn head(out: &mut String, report: &Report, f: &PageFacts) {
    let scope = match (&f.campaign, &f.batch) {
        (Some(c), Some(b)) => format!("campaign {}, batch {}", escape(c), escape(b)),
        (Some(c), None) => format!("campaign {}", escape(c)),
        (None, Some(b)) => format!("batch {}", escape(b)),
        (None, None) => count(report.totals().len() as u64, "campaign"),
    };
    let exports = if f.exports.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = f.exports.iter().map(|e| escape(e)).collect();
        format!("<span>move-state exports: {}</span>", names.join(", "))
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
<meta name=\"referrer\" content=\"no-referrer\">\n<title>t2t-notify report</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
<header>\n<h1>OneDrive move notices <span class=\"muted\">{scope}</span></h1>\n\
<div class=\"facts small\"><span>generated {}</span><span>ledger {}</span>{exports}</div>\n</header>\n<main>\n",
        escape(&f.generated),
        escape(&f.ledger),
    );
}

fn grand_total(report: &Report) -> Totals {
    let mut t = Totals::default();
    report.rows().for_each(|r| t.add(r.state));
    t
}

fn cards(out: &mut String, report: &Report) {
    let t = grand_total(report);
    let held = report.held_back.len() as u64;
    out.push_str("<section class=\"cards\" id=\"cards\">\n");
    // A card is neutral at zero; a failure is bad, anything uncertain or held back a warning.
    let alert = |n: u64, class| if n > 0 { class } else { "neutral" };
    let cards: [(&str, u64, &str); 7] = [
        ("in the ledger", t.users, "neutral"),
        ("sent", t.sent, "ok"),
        ("failed", t.failed, alert(t.failed, "bad")),
        ("uncertain", t.uncertain, alert(t.uncertain, "warn")),
        ("deferred", t.deferred, "neutral"),
        ("in flight or pending", t.in_flight + t.pending, "neutral"),
        ("held back", held, alert(held, "warn")),
    ];
    for (label, n, class) in cards {
        let _ = writeln!(
            out,
            "<div class=\"card {class}\" data-card=\"{label}\"><div class=\"n\">{n}</div><div class=\"label\">{label}</div></div>"
        );
    }
    out.push_str("</section>\n");
}

/// Uncertain, or left in flight by a killed run: either may have the notice.
fn unsure(state: DeliveryState) -> bool {
    matches!(state, DeliveryState::Uncertain | DeliveryState::InFlight)
}

fn callouts(out: &mut String, report: &Report) {
    let flagged = report
        .rows()
        .any(|r| r.state == DeliveryState::Failed || unsure(r.state));
    if !flagged && report.held_back.is_empty() {
        out.push_str("<section class=\"callout ok\"><h2>Nobody needs attention</h2><p>No user failed, is uncertain or is held back.</p></section>\n");
        return;
    }
    held_callout(out, &report.held_back);
    // One callout per campaign: the command to run names the campaign.
    for (campaign, rows) in &report.campaigns {
        let of = |wanted: fn(DeliveryState) -> bool| -> Vec<&DeliveryRow> {
            rows.iter().filter(|r| wanted(r.state)).collect()
        };
        let c = escape(campaign);
        row_callout(
            out,
            "failed",
            &format!("Failed in campaign {c}"),
            &format!("The server refused these notices; the reply says why. Fix the address, then <code>send --campaign {c} --retry-failed</code>."),
            &of(|s| s == DeliveryState::Failed),
        );
        row_callout(
            out,
            "uncertain",
            &format!("Uncertain in campaign {c}"),
            &format!("These notices may have been delivered (the connection dropped after the message was sent, or a run stopped). Check a mailbox before <code>send --campaign {c} --resend-uncertain</code>."),
            &of(unsure),
        );
    }
}

fn held_callout(out: &mut String, held: &[HeldRow]) {
    if held.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section class=\"callout warn\" id=\"held-back\"><h2>Held back: {} not notified</h2>\n<p>Their newest move state is not <b>Success</b>. <b>Failed</b> moves need the migration team; the others get their notice from a later run with the next export.</p>\n<ul class=\"reasons\">\n",
        count(held.len() as u64, "user")
    );
    // The report sorts the held-back users by their hold: each hold is one run of rows.
    for users in held.chunk_by(|a, b| a.hold == b.hold) {
        let (hold, action) = (&users[0].hold, users[0].action_needed);
        let class = if action { "bad" } else { "neutral" };
        let note = if action {
            " <span class=\"act\">the migration team must act</span>"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<li><span class=\"chip {class}\">{}: {}</span>{note}<ul>",
            escape(hold),
            users.len()
        );
        for h in users.iter().take(CALLOUT_LISTED) {
            let _ = write!(
                out,
                "<li><b>{}</b> &rarr; {} <span class=\"muted\">{}</span></li>",
                escape(&h.source_upn),
                escape(&h.target_upn),
                escape(&one_line(&h.reason))
            );
        }
        more(out, users.len());
        out.push_str("</ul></li>\n");
    }
    out.push_str("</ul></section>\n");
}

fn row_callout(out: &mut String, id: &str, title: &str, hint: &str, rows: &[&DeliveryRow]) {
    if rows.is_empty() {
        return;
    }
    let class = if id == "failed" { "bad" } else { "warn" };
    let _ = write!(
        out,
        "<section class=\"callout {class}\" data-callout=\"{id}\"><h2>{title}: {}</h2>\n<p>{hint}</p>\n<ul>",
        count(rows.len() as u64, "user")
    );
    for r in rows.iter().take(CALLOUT_LISTED) {
        let _ = write!(
            out,
            "<li><b>{}</b> <span class=\"muted\">({})</span> <span class=\"reply\">{}</span></li>",
            escape(&r.user_key),
            count(r.attempts, "attempt"),
            escape(&one_line(r.last_reply.as_deref().unwrap_or("-")))
        );
    }
    more(out, rows.len());
    out.push_str("</ul></section>\n");
}

fn more(out: &mut String, total: usize) {
    if total > CALLOUT_LISTED {
        let _ = write!(
            out,
            "<li class=\"muted\">and {} more (search the table below)</li>",
            total - CALLOUT_LISTED
        );
    }
}

/// The state columns of a totals table: name, count, and the class a count above zero takes.
fn state_columns(t: &Totals) -> [(&'static str, u64, &'static str); 7] {
    [
        ("users", t.users, "num"),
        ("sent", t.sent, "num"),
        ("deferred", t.deferred, "num"),
        ("failed", t.failed, "num bad"),
        ("uncertain", t.uncertain, "num warn"),
        ("in flight", t.in_flight, "num"),
        ("pending", t.pending, "num"),
    ]
}

fn totals_header(out: &mut String, first: &str, held: bool) {
    let _ = write!(out, "<thead><tr><th>{first}</th>");
    for (c, _, _) in state_columns(&Totals::default()) {
        let _ = write!(out, "<th class=\"num\">{c}</th>");
    }
    if held {
        out.push_str("<th class=\"num\">held back</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
}

fn totals_row(out: &mut String, name: &str, t: &Totals, held: Option<u64>) {
    let _ = write!(out, "<tr><th scope=\"row\">{name}</th>");
    let held = held.map(|h| ("held back", h, "num warn"));
    for (_, n, class) in state_columns(t).into_iter().chain(held) {
        let class = if n > 0 { class } else { "num" };
        let _ = write!(out, "<td class=\"{class}\">{n}</td>");
    }
    out.push_str("</tr>\n");
}

fn batch_table(out: &mut String, report: &Report) {
    let batches = report.batch_totals();
    if batches.is_empty() {
        return;
    }
    let held = !report.held_back.is_empty();
    out.push_str(
        "<section class=\"panel\"><h2>Per batch</h2>\n<table class=\"totals\" id=\"batches\">\n",
    );
    totals_header(out, "batch", held);
    for (batch, (totals, held_n)) in &batches {
        let name = match batch {
            Some(b) => escape(b),
            None => "<span class=\"muted\">no batch</span>".into(),
        };
        totals_row(out, &name, totals, held.then_some(*held_n));
    }
    out.push_str("</tbody></table></section>\n");
}

fn campaign_table(out: &mut String, report: &Report) {
    let totals = report.totals();
    if totals.is_empty() {
        out.push_str("<section class=\"panel\"><h2>Per campaign</h2><p class=\"muted\">No deliveries recorded.</p></section>\n");
        return;
    }
    out.push_str("<section class=\"panel\"><h2>Per campaign</h2>\n<table class=\"totals\" id=\"campaigns\">\n");
    totals_header(out, "campaign", false);
    for (campaign, t) in &totals {
        totals_row(out, &escape(campaign), t, None);
    }
    out.push_str("</tbody></table></section>\n");
}

const USER_COLUMNS: [(&str, &str); 11] = [
    ("campaign", "text"),
    ("source UPN", "text"),
    ("target", "text"),
    ("state", "state"),
    ("attempts", "num"),
    ("last reply or reason", "text"),
    ("Message-ID", "text"),
    ("batch", "text"),
    ("first attempt", "text"),
    ("last attempt", "text"),
    ("sent", "text"),
];

fn user_table(out: &mut String, report: &Report) {
    let total = report.rows().count() + report.held_back.len();
    let _ = write!(
        out,
        "<section class=\"panel users\"><h2>Users</h2>\n<div class=\"searchbar\"><input id=\"search\" type=\"search\" placeholder=\"Search: UPN, address, state, reply, Message-ID, batch\" aria-label=\"Search users\" autocomplete=\"off\"> <span id=\"count\" class=\"muted\">{total} of {total} users</span></div>\n<div class=\"scroll\"><table id=\"users\">\n<thead><tr>"
    );
    for (i, (name, kind)) in USER_COLUMNS.iter().enumerate() {
        let _ = write!(
            out,
            "<th data-col=\"{i}\" data-kind=\"{kind}\" aria-sort=\"none\"><button type=\"button\">{name}</button></th>"
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in report.rows() {
        delivery_row(out, r);
    }
    for h in &report.held_back {
        held_row(out, h);
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

fn cell(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) if !v.is_empty() => {
            let _ = write!(out, "<td>{}</td>", escape(v));
        }
        _ => out.push_str("<td class=\"muted\">-</td>"),
    }
}

/// A cell that may wrap before each `at` (`name<wbr>@domain`, `date<wbr>Ttime`) and nowhere
/// else, so that long UPNs and times take two short lines rather than widening the table.
fn breaking_cell(out: &mut String, value: Option<&str>, at: char) {
    match value {
        Some(v) if !v.is_empty() => {
            let parts: Vec<String> = v.split(at).map(escape).collect();
            let _ = write!(out, "<td>{}</td>", parts.join(&format!("<wbr>{at}")));
        }
        _ => cell(out, None),
    }
}

/// A cell shown clipped (`class` sets how: the Message-ID on one line, a reply on two), whole
/// in its tooltip; search, sorting and copying use the whole value.
fn clipped_cell(out: &mut String, class: &str, value: Option<&str>) {
    match value {
        Some(v) if !v.is_empty() => {
            let v = escape(v);
            let _ = write!(
                out,
                "<td class=\"{class}\"><span title=\"{v}\">{v}</span></td>"
            );
        }
        _ => cell(out, None),
    }
}

fn delivery_row(out: &mut String, r: &DeliveryRow) {
    let state = r.state.as_str();
    let _ = write!(
        out,
        "<tr class=\"s-{state}\" data-rank=\"{}\">",
        attention(r.state)
    );
    cell(out, Some(&r.campaign));
    breaking_cell(out, Some(&r.user_key), '@');
    breaking_cell(out, Some(&r.recipients.join(", ")), '@');
    let _ = write!(
        out,
        "<td><span class=\"state s-{state}\">{state}</span></td>"
    );
    let _ = write!(out, "<td class=\"num\">{}</td>", r.attempts);
    clipped_cell(
        out,
        "reply",
        r.last_reply.as_deref().map(one_line).as_deref(),
    );
    clipped_cell(out, "mid", r.message_id.as_deref());
    cell(out, r.batch.as_deref());
    for at in [&r.first_attempt_at, &r.last_attempt_at, &r.sent_at] {
        breaking_cell(out, at.as_deref(), 'T');
    }
    out.push_str("</tr>\n");
}

fn held_row(out: &mut String, h: &HeldRow) {
    out.push_str("<tr class=\"s-held-back\" data-rank=\"9\">");
    cell(out, None);
    breaking_cell(out, Some(&h.source_upn.to_lowercase()), '@');
    breaking_cell(out, Some(&h.target_upn), '@');
    let _ = write!(
        out,
        "<td><span class=\"state s-held-back\">held back</span> <span class=\"hold{}\">{}</span></td>",
        if h.action_needed { " act" } else { "" },
        escape(&h.hold)
    );
    out.push_str("<td class=\"num\">0</td>");
    clipped_cell(out, "reply", Some(&one_line(&h.reason)));
    cell(out, None);
    cell(out, h.batch.as_deref());
    for _ in 0..3 {
        cell(out, None);
    }
    out.push_str("</tr>\n");
}

fn test_sends(out: &mut String, tests: &[TestSendRow]) {
    if tests.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section class=\"panel\"><h2>Test sends and admin summaries: {}</h2>\n<p class=\"muted\">Sent to one address (<code>--test-to</code>, <code>[notify] admin_email</code>); no user counts as notified by them.</p>\n<table class=\"totals\" id=\"tests\"><thead><tr><th>run</th><th>to</th><th>user</th><th>state</th><th>sent</th><th>reply</th></tr></thead><tbody>\n",
        tests.len()
    );
    for t in tests {
        out.push_str("<tr>");
        cell(out, Some(&t.run));
        cell(out, Some(&t.test_to));
        cell(out, Some(&t.user_key));
        cell(out, Some(t.state.as_str()));
        cell(out, t.sent_at.as_deref());
        cell(out, t.last_reply.as_deref().map(one_line).as_deref());
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></section>\n");
}

#[cfg(test)]
mod tests;
