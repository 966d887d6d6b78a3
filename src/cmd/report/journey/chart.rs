//! The journey's chart over time: notices sent per hour (bars, from the submissions log,
//! without test sends), the recipients of the past 24 hours as the day budget counts them (a
//! line, the busiest sending mailbox, test sends included: they spend the budget too) against
//! `[pacing] per_day` (a dashed reference line), and the share of the mapping signed in since
//! their move (a line on the right axis). [`series`] computes the hourly numbers, [`svg`] draws
//! them as an inline SVG; both are pure. Drawn by the tool rather than a chart library: the
//! report's page loads nothing (its Content-Security-Policy forbids it) and a script library
//! would be more code than this.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ledger::journey::LoggedSubmission;
use crate::render::gallery::escape;

const HOUR_MS: i64 = 3_600_000;
/// The chart shows at most the last 14 days, so that an hour stays a visible bar.
pub const MAX_HOURS: usize = 14 * 24;

/// One hour of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hour {
    pub start: DateTime<Utc>,
    /// Notices sent in the hour (test sends not counted).
    pub sent: u64,
    /// Recipients of the 24 hours ending with this hour, for the busiest mailbox.
    pub rolling_24h: u64,
    /// People of the mapping signed in since their move by the end of the hour.
    pub signed_in: u64,
}

/// The hourly numbers, from the first hour with a message or a sign-in to now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chart {
    pub hours: Vec<Hour>,
    /// `[pacing] per_day`; 0: no day budget.
    pub per_day: u32,
    pub mapping: u64,
    /// Earlier hours were left out: the chart shows the last [`MAX_HOURS`].
    pub clipped: bool,
}

fn hour_of(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis().div_euclid(HOUR_MS)
}

/// The hourly numbers of the submissions log and the sign-in times (one per person, the first
/// after their move) up to `now`.
pub fn series(
    log: &[LoggedSubmission],
    signed_in: &[DateTime<Utc>],
    mapping: u64,
    per_day: u32,
    now: DateTime<Utc>,
) -> Chart {
    let hours = log.iter().map(|s| s.at).chain(signed_in.iter().copied());
    let (Some(first), Some(last)) = (hours.clone().map(hour_of).min(), hours.map(hour_of).max())
    else {
        return Chart {
            hours: Vec::new(),
            per_day,
            mapping,
            clipped: false,
        };
    };
    let last = last.max(hour_of(now));
    let n = (last - first + 1) as usize;
    let mut sent = vec![0u64; n];
    let mut per_mailbox: HashMap<Option<&str>, Vec<u64>> = HashMap::new();
    for s in log {
        let i = (hour_of(s.at) - first) as usize;
        if !s.test {
            sent[i] += 1;
        }
        per_mailbox
            .entry(s.mailbox.as_deref())
            .or_insert_with(|| vec![0; n])[i] += u64::from(s.recipients);
    }
    let rolling = rolling_busiest(&per_mailbox, n);
    let mut times = signed_in.to_vec();
    times.sort();
    let mut counted = 0usize;
    let mut out: Vec<Hour> = (0..n)
        .map(|i| {
            let end = (first + i as i64 + 1) * HOUR_MS;
            while counted < times.len() && times[counted].timestamp_millis() < end {
                counted += 1;
            }
            Hour {
                start: DateTime::from_timestamp_millis((first + i as i64) * HOUR_MS)
                    .unwrap_or_default(),
                sent: sent[i],
                rolling_24h: rolling[i],
                signed_in: counted as u64,
            }
        })
        .collect();
    let clipped = out.len() > MAX_HOURS;
    if clipped {
        out.drain(..out.len() - MAX_HOURS);
    }
    Chart {
        hours: out,
        per_day,
        mapping,
        clipped,
    }
}

/// Per hour, the recipients of the 24 hours ending with it for the busiest mailbox. Entries
/// without a mailbox (older ledgers) count for every mailbox, as `send`'s budget counts them.
fn rolling_busiest(per_mailbox: &HashMap<Option<&str>, Vec<u64>>, n: usize) -> Vec<u64> {
    let window = |v: &[u64]| -> Vec<u64> {
        let mut sum = 0u64;
        (0..n)
            .map(|i| {
                sum += v[i];
                if i >= 24 {
                    sum -= v[i - 24];
                }
                sum
            })
            .collect()
    };
    let unnamed = per_mailbox
        .get(&None)
        .map_or_else(|| vec![0; n], |v| window(v));
    let named: Vec<Vec<u64>> = per_mailbox
        .iter()
        .filter(|(m, _)| m.is_some())
        .map(|(_, v)| window(v))
        .collect();
    (0..n)
        .map(|i| named.iter().map(|w| w[i]).max().unwrap_or(0) + unnamed[i])
        .collect()
}

/// The drawing area in the SVG's own units (`viewBox`); the page scales it to its width.
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 330.0;
pub const LEFT: f64 = 72.0;
pub const RIGHT: f64 = 568.0;
pub const TOP: f64 = 36.0;
pub const BOTTOM: f64 = 276.0;

/// The smallest of 1, 2, 5 times a power of ten that is at least `v` (1 for 0): the top of
/// the left axis.
pub fn axis_top(v: u64) -> u64 {
    let mut p = 1u64;
    while p.saturating_mul(10) <= v {
        p *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * p)
        .find(|&top| top >= v)
        .unwrap_or(10 * p)
}

/// `10,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// The chart as an inline SVG that scales to its container's width.
pub fn svg(chart: &Chart) -> String {
    let mut out = String::with_capacity(2048 + 160 * chart.hours.len());
    let (title, desc) = caption(chart);
    let _ = writeln!(
        out,
        "<svg id=\"journey-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" font-family=\"system-ui, sans-serif\" font-size=\"16\">\
<title id=\"chart-title\">{}</title><desc id=\"chart-desc\">{}</desc>",
        escape(&title),
        escape(&desc)
    );
    let _ = writeln!(
        out,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"#fafbfc\" stroke=\"#d8dde3\"/>",
        RIGHT - LEFT,
        BOTTOM - TOP
    );
    if chart.hours.is_empty() {
        let _ = write!(
            out,
            "<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#5b6570\">Nothing sent yet: the submissions log is empty</text>\n</svg>",
            (LEFT + RIGHT) / 2.0,
            (TOP + BOTTOM) / 2.0
        );
        return out;
    }
    let top = axis_top(
        chart
            .hours
            .iter()
            .map(|h| h.sent.max(h.rolling_24h))
            .max()
            .unwrap_or(0)
            .max(u64::from(chart.per_day)),
    );
    let plot = Plot {
        top,
        slot: (RIGHT - LEFT) / chart.hours.len() as f64,
    };
    axes(&mut out, chart, &plot);
    bars(&mut out, chart, &plot);
    lines(&mut out, chart, &plot);
    out.push_str("</svg>");
    out
}

/// The scales of one chart.
struct Plot {
    /// The value at the top of the left axis.
    top: u64,
    /// The width of one hour.
    slot: f64,
}

impl Plot {
    fn y(&self, v: u64) -> f64 {
        BOTTOM - v as f64 / self.top as f64 * (BOTTOM - TOP)
    }
    fn y_share(&self, share: f64) -> f64 {
        BOTTOM - share * (BOTTOM - TOP)
    }
    fn centre(&self, i: usize) -> f64 {
        LEFT + (i as f64 + 0.5) * self.slot
    }
}

fn caption(chart: &Chart) -> (String, String) {
    let title = "Notices per hour against the day budget, and the share of the mapping signed in";
    let (Some(first), Some(last)) = (chart.hours.first(), chart.hours.last()) else {
        return (
            title.into(),
            "Nothing sent yet: no message in the submissions log, and no sign-in since a move."
                .into(),
        );
    };
    let sent: u64 = chart.hours.iter().map(|h| h.sent).sum();
    let peak = chart.hours.iter().map(|h| h.sent).max().unwrap_or(0);
    let busiest = chart.hours.iter().map(|h| h.rolling_24h).max().unwrap_or(0);
    let budget = match chart.per_day {
        0 => "no day budget is set".to_string(),
        b => format!("the day budget is {}", thousands(u64::from(b))),
    };
    let share = share(last.signed_in, chart.mapping);
    let desc = format!(
        "From {} to {}{}: {} notices sent, at most {} in an hour; the busiest 24 hours of a mailbox had {} recipients and {budget}; {} of the mapping ({} of {}) signed in since their move.",
        first.start.format("%Y-%m-%d %H:00 UTC"),
        last.start.format("%Y-%m-%d %H:00 UTC"),
        if chart.clipped { " (the last 14 days)" } else { "" },
        thousands(sent),
        thousands(peak),
        thousands(busiest),
        percent(share),
        thousands(last.signed_in),
        thousands(chart.mapping)
    );
    (title.into(), desc)
}

fn share(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

/// The chart's legend, as HTML beside the SVG so that it wraps at phone width: each line's
/// colour and what it is.
pub fn legend(chart: &Chart) -> String {
    let budget = match chart.per_day {
        0 => "no day budget set ([pacing] per_day = 0)".to_string(),
        b => format!(
            "the day budget, [pacing] per_day: {} recipients per rolling 24 hours",
            thousands(u64::from(b))
        ),
    };
    let items = [
        ("bar", "notices sent per hour (bars, left axis; test sends not counted)".to_string()),
        ("rolling", "recipients in the past 24 hours, busiest sending mailbox, test sends included (left axis)".to_string()),
        ("budget", budget),
        ("signed-in", "share of the mapping signed in since their move (right axis)".to_string()),
    ];
    let mut out = String::from("<ul class=\"chart-legend\">");
    for (class, text) in items {
        let _ = write!(
            out,
            "<li><span class=\"key {class}\"></span>{}</li>",
            escape(&text)
        );
    }
    out.push_str("</ul>");
    out
}

fn axes(out: &mut String, chart: &Chart, plot: &Plot) {
    out.push_str("<g class=\"axes\" fill=\"#5b6570\">");
    for (v, share) in [(0, 0.0), (plot.top / 2, 0.5), (plot.top, 1.0)] {
        let y = plot.y(v);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{RIGHT}\" y2=\"{y:.1}\" stroke=\"#e5e8ec\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            LEFT - 6.0,
            y + 6.0,
            thousands(v),
            RIGHT + 6.0,
            plot.y_share(share) + 6.0,
            percent(share)
        );
    }
    let last = chart.hours.len() - 1;
    let mut ticks = vec![(0, "start")];
    if last > 0 {
        ticks.push((last, "end"));
    }
    for (i, anchor) in ticks {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            if anchor == "start" { LEFT } else { RIGHT },
            BOTTOM + 24.0,
            chart.hours[i].start.format("%b %d %H:00")
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">hour (UTC)</text>\
<text x=\"8\" y=\"{}\">messages</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">signed in</text></g>",
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 50.0,
        TOP - 14.0,
        WIDTH - 8.0,
        TOP - 14.0
    );
}

fn bars(out: &mut String, chart: &Chart, plot: &Plot) {
    let gap = plot.slot * 0.1;
    out.push_str("<g class=\"bars\" fill=\"#0f62ab\">");
    for (i, h) in chart.hours.iter().enumerate().filter(|(_, h)| h.sent > 0) {
        // A sent hour stays visible however high the axis goes.
        let height = (BOTTOM - plot.y(h.sent)).max(1.0);
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{height:.1}\"><title>{}: {} sent</title></rect>",
            LEFT + i as f64 * plot.slot + gap,
            BOTTOM - height,
            plot.slot - 2.0 * gap,
            h.start.format("%Y-%m-%d %H:00 UTC"),
            thousands(h.sent)
        );
    }
    out.push_str("</g>\n");
}

fn lines(out: &mut String, chart: &Chart, plot: &Plot) {
    let points = |y: &dyn Fn(&Hour) -> f64| -> String {
        let pts: Vec<String> = chart
            .hours
            .iter()
            .enumerate()
            .map(|(i, h)| format!("{:.1},{:.1}", plot.centre(i), y(h)))
            .collect();
        pts.join(" ")
    };
    let _ = writeln!(
        out,
        "<polyline class=\"rolling\" fill=\"none\" stroke=\"#b7791f\" stroke-width=\"3\" points=\"{}\"/>",
        points(&|h| plot.y(h.rolling_24h))
    );
    if chart.per_day > 0 {
        let y = plot.y(u64::from(chart.per_day));
        let _ = writeln!(
            out,
            "<line class=\"budget\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{RIGHT}\" y2=\"{y:.1}\" stroke=\"#b42318\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\
<text class=\"budget-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#b42318\">per_day budget {}</text>",
            RIGHT - 6.0,
            y + 20.0,
            thousands(u64::from(chart.per_day))
        );
    }
    if chart.mapping > 0 {
        let _ = writeln!(
            out,
            "<polyline class=\"signed-in\" fill=\"none\" stroke=\"#1a7f37\" stroke-width=\"3\" points=\"{}\"/>",
            points(&|h| plot.y_share(share(h.signed_in, chart.mapping)))
        );
    }
}

#[cfg(test)]
mod tests;
