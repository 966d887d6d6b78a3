//! `report --journey --format html`: one self-contained page, like the report's (its CSS and
//! search script, the same Content-Security-Policy, nothing remote). It leads with the funnel
//! (bars) and the chart over time (inline SVG, with its numbers in a table for those who
//! cannot see it), then the people who need attention, then a searchable, sortable table of
//! every journey. Every value is HTML-escaped.

use std::fmt::Write;

use super::chart::{self, thousands, Chart};
use super::{short_time, Journey, JourneyReport};
use crate::diag::{count, one_line};
use crate::render::gallery::escape;

const CSS: &str = include_str!("../report.css");
const JOURNEY_CSS: &str = include_str!("journey.css");
const JS: &str = include_str!("../report.js");
/// How many people the attention list shows before "and N more" (the table has them all).
const LISTED: usize = 50;

/// What the page says about itself.
#[derive(Debug, Clone, Default)]
pub struct PageFacts {
    pub generated: String,
    pub ledger: String,
    pub mapping: String,
}

/// The whole page.
pub fn page(r: &JourneyReport, facts: &PageFacts) -> String {
    let mut out = String::with_capacity(8192 + 400 * r.people.len());
    head(&mut out, facts);
    funnel(&mut out, r);
    chart_panel(&mut out, &r.chart);
    attention(&mut out, r);
    people(&mut out, r);
    let _ = writeln!(out, "</main>\n<script>\n{JS}</script>\n</body>\n</html>");
    out
}

fn head(out: &mut String, f: &PageFacts) {
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
<meta name=\"referrer\" content=\"no-referrer\">\n<title>t2t-notify journey</title>\n<style>\n{CSS}{JOURNEY_CSS}</style>\n</head>\n<body class=\"journey\">\n\
<header>\n<h1>The migration journey <span class=\"muted\">warned, moved, notified, signed in</span></h1>\n\
<div class=\"facts small\"><span>generated {}</span><span>ledger {}</span><span>mapping {}</span></div>\n</header>\n<main>",
        escape(&f.generated),
        escape(&f.ledger),
        escape(&f.mapping),
    );
}

fn funnel(out: &mut String, r: &JourneyReport) {
    let evidence = match &r.sign_in_evidence {
        Some(e) => format!(
            "Sign-ins as learnt from {} at {}.",
            escape(&e.source),
            short_time(e.learnt_at)
        ),
        None => "No sign-in evidence imported yet: nobody counts as signed in.".into(),
    };
    let _ = writeln!(
        out,
        "<section class=\"panel\" id=\"funnel\" aria-label=\"Funnel\"><h2>How far people got</h2>\n<p class=\"muted small\">{evidence} Each bar is a share of the mapping.</p>\n<ol class=\"funnel\">"
    );
    for (key, label, step) in r.funnel.steps() {
        let share = step.share * 100.0;
        let _ = writeln!(
            out,
            "<li data-step=\"{key}\"><span class=\"label\">{label}</span><span class=\"track\"><span class=\"fill\" style=\"width:{share:.1}%\"></span></span><span class=\"n\">{}</span> <span class=\"share muted\">{share:.0}%</span></li>",
            thousands(step.count)
        );
    }
    out.push_str("</ol>\n");
    if r.rows_outside_mapping > 0 {
        let _ = writeln!(
            out,
            "<p class=\"muted small\">{} of people not in this mapping are not part of any journey.</p>",
            count(r.rows_outside_mapping, "ledger row")
        );
    }
    out.push_str("</section>\n");
}

fn chart_panel(out: &mut String, c: &Chart) {
    let _ = writeln!(
        out,
        "<section class=\"panel\" id=\"over-time\"><h2>Over time{}</h2>\n<div class=\"chart\">{}{}</div>",
        if c.clipped { " (the last 14 days)" } else { "" },
        chart::legend(c),
        chart::svg(c)
    );
    numbers(out, c);
    out.push_str("</section>\n");
}

/// The chart's numbers: every hour something was sent or someone signed in, and the last.
fn numbers(out: &mut String, c: &Chart) {
    if c.hours.is_empty() {
        return;
    }
    out.push_str("<details><summary>The chart's numbers</summary>\n<table class=\"totals\" id=\"chart-numbers\"><thead><tr><th>hour (UTC)</th><th class=\"num\">notices sent</th><th class=\"num\">recipients, past 24 h</th><th class=\"num\">signed in</th><th class=\"num\">share</th></tr></thead><tbody>\n");
    let mut before = 0;
    for (i, h) in c.hours.iter().enumerate() {
        let last = i + 1 == c.hours.len();
        if h.sent == 0 && h.signed_in == before && !last {
            continue;
        }
        before = h.signed_in;
        let share = if c.mapping == 0 {
            0.0
        } else {
            h.signed_in as f64 * 100.0 / c.mapping as f64
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{share:.0}%</td></tr>",
            h.start.format("%Y-%m-%d %H:00"),
            thousands(h.sent),
            thousands(h.rolling_24h),
            thousands(h.signed_in)
        );
    }
    let budget = match c.per_day {
        0 => "No day budget is set ([pacing] per_day = 0).".to_string(),
        b => format!("The day budget ([pacing] per_day) is {} recipients per rolling 24 hours per sending mailbox.", thousands(u64::from(b))),
    };
    let _ = writeln!(
        out,
        "</tbody></table>\n<p class=\"muted small\">{budget} Test sends count toward it but are not notices.</p></details>"
    );
}

fn attention(out: &mut String, r: &JourneyReport) {
    let people: Vec<&Journey> = r.needing_attention().collect();
    if people.is_empty() {
        out.push_str("<section class=\"callout ok\" id=\"attention\"><h2>Nobody needs attention</h2></section>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<section class=\"callout bad\" id=\"attention\"><h2>Need attention: {}</h2>\n<ul class=\"reasons\">",
        match people.len() {
            1 => "1 person".to_string(),
            n => format!("{} people", thousands(n as u64)),
        }
    );
    for j in people.iter().take(LISTED) {
        let reasons: Vec<String> = j
            .attention
            .iter()
            .map(|a| escape(&one_line(&a.describe())))
            .collect();
        let _ = writeln!(
            out,
            "<li><strong>{}</strong>: {}</li>",
            escape(&j.source_upn),
            reasons.join("; ")
        );
    }
    if people.len() > LISTED {
        let _ = writeln!(
            out,
            "<li class=\"muted\">and {} more (search the table below for \"attention\")</li>",
            people.len() - LISTED
        );
    }
    out.push_str("</ul></section>\n");
}

const COLUMNS: [(&str, &str); 8] = [
    ("source UPN", "text"),
    ("target UPN", "text"),
    ("warned (UTC)", "text"),
    ("moved", "text"),
    ("notified (UTC)", "text"),
    ("signed in (UTC)", "text"),
    ("reminders", "num"),
    ("attention", "text"),
];

fn people(out: &mut String, r: &JourneyReport) {
    let total = r.people.len();
    // The table keeps the report's ids (`users`, `search`, `count`): its script drives both.
    let _ = write!(
        out,
        "<section class=\"panel users\"><h2>Every journey</h2>\n<div class=\"searchbar\"><input id=\"search\" type=\"search\" placeholder=\"Search: UPN, state, batch, attention\" aria-label=\"Search journeys\" autocomplete=\"off\"> <span id=\"count\" class=\"muted\">{total} of {total} users</span></div>\n<div class=\"scroll\"><table id=\"users\">\n<thead><tr>"
    );
    for (i, (name, kind)) in COLUMNS.iter().enumerate() {
        let _ = write!(
            out,
            "<th data-col=\"{i}\" data-kind=\"{kind}\" aria-sort=\"none\"><button type=\"button\">{name}</button></th>"
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for j in &r.people {
        row(out, j);
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// A time in the table, whose headers say UTC: `2026-12-05 14:03`.
fn cell_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn time_cell(out: &mut String, t: Option<chrono::DateTime<chrono::Utc>>) {
    match t {
        Some(t) => {
            let _ = write!(out, "<td><span class=\"t\">{}</span></td>", cell_time(t));
        }
        None => out.push_str("<td class=\"muted\">-</td>"),
    }
}

/// A UPN that may wrap before its `@` and nowhere else.
fn breaking_at(upn: &str) -> String {
    let parts: Vec<String> = upn.split('@').map(escape).collect();
    parts.join("<wbr>@")
}

fn row(out: &mut String, j: &Journey) {
    let rank = if j.attention.is_empty() { 5 } else { 0 };
    let _ = write!(
        out,
        "<tr data-rank=\"{rank}\"><td>{}</td><td>{}</td>",
        breaking_at(&j.source_upn),
        breaking_at(&j.target_upn)
    );
    time_cell(out, j.warned_at);
    match &j.moved {
        Some(m) => {
            let at =
                m.at.map(|t| format!(" <span class=\"t\">{}</span>", cell_time(t)))
                    .unwrap_or_default();
            let _ = write!(
                out,
                "<td><span class=\"state{}\">{}</span>{at} <span class=\"muted\">{}</span></td>",
                if m.success { " s-sent" } else { "" },
                escape(&m.state),
                escape(&m.batch)
            );
        }
        None if j.notified_at.is_some() => {
            out.push_str("<td class=\"muted\">notified (no export entry)</td>")
        }
        None => out.push_str("<td class=\"muted\">-</td>"),
    }
    time_cell(out, j.notified_at);
    time_cell(out, j.signed_in_at);
    let _ = write!(out, "<td class=\"num\">{}</td>", j.reminders);
    if j.attention.is_empty() {
        out.push_str("<td class=\"muted\">-</td>");
    } else {
        let reasons: Vec<String> = j
            .attention
            .iter()
            .map(|a| escape(&one_line(&a.describe())))
            .collect();
        let _ = write!(
            out,
            "<td class=\"bad\"><span class=\"hidden-word\">attention: </span>{}</td>",
            reasons.join("<br>")
        );
    }
    out.push_str("</tr>\n");
}

#[cfg(test)]
mod tests;
