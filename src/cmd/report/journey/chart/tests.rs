//! The chart's hourly numbers from a canned log, and the SVG drawn from canned hours: bars and
//! lines at the coordinates the layout gives, and an empty chart that says so.

use chrono::{Duration, TimeZone};

use super::*;

fn h(hour: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap() + Duration::hours(hour)
}

fn logged(
    at: DateTime<Utc>,
    recipients: u32,
    test: bool,
    mailbox: Option<&str>,
) -> LoggedSubmission {
    LoggedSubmission {
        at,
        recipients,
        campaign: "notice".into(),
        test,
        mailbox: mailbox.map(str::to_string),
    }
}

#[test]
fn hours_count_notices_the_busiest_mailboxs_day_and_sign_ins() {
    let m = Duration::minutes;
    let log = [
        logged(h(0) + m(1), 1, false, Some("a")),
        logged(h(0) + m(2), 1, false, Some("a")),
        // A test send spends mailbox a's budget but is no notice.
        logged(h(0) + m(3), 3, true, Some("a")),
        logged(h(2) + m(5), 5, false, Some("b")),
        // Written before the log named mailboxes: counts for every mailbox.
        logged(h(2) + m(6), 1, false, None),
    ];
    let signed_in = [h(2) + m(59), h(1) + m(5)];
    let chart = series(&log, &signed_in, 4, 100, h(3) + m(10));
    let got: Vec<(u64, u64, u64)> = chart
        .hours
        .iter()
        .map(|x| (x.sent, x.rolling_24h, x.signed_in))
        .collect();
    assert_eq!(got, [(2, 5, 0), (0, 5, 1), (2, 6, 2), (0, 6, 2)]);
    assert_eq!(chart.hours[0].start, h(0));
    assert_eq!(
        (chart.per_day, chart.mapping, chart.clipped),
        (100, 4, false)
    );
}

#[test]
fn the_rolling_day_forgets_an_hour_after_24_hours_and_old_hours_are_clipped() {
    let chart = series(&[logged(h(0), 1, false, Some("a"))], &[], 1, 0, h(30));
    assert_eq!(chart.hours.len(), 31);
    assert_eq!(chart.hours[23].rolling_24h, 1);
    assert_eq!(chart.hours[24].rolling_24h, 0);
    let long = series(&[logged(h(0), 1, false, Some("a"))], &[], 1, 0, h(400));
    assert_eq!(long.hours.len(), MAX_HOURS);
    assert!(long.clipped);
    assert_eq!(long.hours.last().unwrap().start, h(400));
}

#[test]
fn nothing_logged_gives_no_hours() {
    let chart = series(&[], &[], 10, 100, h(5));
    assert!(chart.hours.is_empty());
}

#[test]
fn the_axis_top_is_one_two_or_five_times_a_power_of_ten() {
    let cases = [
        (0, 1),
        (1, 1),
        (3, 5),
        (10, 10),
        (11, 20),
        (40, 50),
        (9_999, 10_000),
        (10_000, 10_000),
        (10_001, 20_000),
    ];
    for (v, top) in cases {
        assert_eq!(axis_top(v), top, "{v}");
    }
    let numbers = [
        (0, "0"),
        (999, "999"),
        (1_000, "1,000"),
        (1_234_567, "1,234,567"),
    ];
    for (n, text) in numbers {
        assert_eq!(thousands(n), text);
    }
}

fn canned() -> Chart {
    let hours = [(10, 10, 0), (0, 10, 1), (30, 40, 2)]
        .iter()
        .enumerate()
        .map(|(i, &(sent, rolling_24h, signed_in))| Hour {
            start: h(i as i64),
            sent,
            rolling_24h,
            signed_in,
        })
        .collect();
    Chart {
        hours,
        per_day: 100,
        mapping: 4,
        clipped: false,
    }
}

#[test]
fn bars_and_lines_sit_where_the_scales_put_them() {
    // The axis tops at the budget (100) and spans 240 units; an hour is 496 / 3 units wide, a
    // bar 80% of it.
    let svg = svg(&canned());
    assert!(
        svg.contains("viewBox=\"0 0 640 330\" width=\"100%\" role=\"img\""),
        "{svg}"
    );
    assert!(svg.contains("<rect x=\"88.5\" y=\"252.0\" width=\"132.3\" height=\"24.0\"><title>2026-12-05 00:00 UTC: 10 sent</title></rect>"), "{svg}");
    assert!(svg.contains("<rect x=\"419.2\" y=\"204.0\" width=\"132.3\" height=\"72.0\"><title>2026-12-05 02:00 UTC: 30 sent</title></rect>"), "{svg}");
    assert_eq!(
        svg.matches(" sent</title></rect>").count(),
        2,
        "no bar for an hour without notices"
    );
    assert!(
        svg.contains("<line class=\"budget\" x1=\"72\" y1=\"36.0\" x2=\"568\" y2=\"36.0\""),
        "{svg}"
    );
    assert!(
        svg.contains("points=\"154.7,252.0 320.0,252.0 485.3,180.0\""),
        "rolling day: {svg}"
    );
    assert!(
        svg.contains("points=\"154.7,276.0 320.0,216.0 485.3,156.0\""),
        "signed in: {svg}"
    );
    assert!(svg.contains(">per_day budget 100</text>"), "{svg}");
    assert!(legend(&canned()).contains("[pacing] per_day: 100 recipients per rolling 24 hours"));
    assert!(svg.contains("<title id=\"chart-title\">"));
    assert!(svg.contains("aria-labelledby=\"chart-title chart-desc\""));
    assert!(
        svg.contains("50% of the mapping (2 of 4) signed in"),
        "{svg}"
    );
}

#[test]
fn a_bar_far_below_the_budget_stays_visible() {
    let mut chart = canned();
    chart.per_day = 10_000;
    let svg = svg(&chart);
    assert!(
        svg.contains("height=\"1.0\"><title>2026-12-05 00:00 UTC: 10 sent"),
        "{svg}"
    );
}

#[test]
fn an_empty_chart_says_nothing_was_sent_and_divides_by_nothing() {
    let empty = Chart {
        hours: Vec::new(),
        per_day: 0,
        mapping: 0,
        clipped: false,
    };
    let svg = svg(&empty);
    assert!(svg.contains("Nothing sent yet"), "{svg}");
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    // Hours without a message, no budget and nobody mapped: still finite coordinates.
    let quiet = series(&[], &[h(1)], 0, 0, h(3));
    let svg = super::svg(&quiet);
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    assert!(!svg.contains("class=\"budget\""), "{svg}");
    assert!(legend(&quiet).contains("no day budget set"));
    assert!(
        !svg.contains("class=\"signed-in\""),
        "no share of an empty mapping"
    );
}
