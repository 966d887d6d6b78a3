//! The journey page on the model's canned people: funnel first, chart, attention, every
//! journey, the report's CSP, and no value that can become markup.

use super::*;
use crate::cmd::report::journey::tests::sample;

fn facts() -> PageFacts {
    PageFacts {
        generated: "2026-12-09 12:00 UTC".into(),
        ledger: "t2t.db".into(),
        mapping: "map.csv".into(),
    }
}

#[test]
fn the_page_leads_with_the_funnel_and_chart_then_attention_then_everyone() {
    let html = page(&sample(), &facts());
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {html}"))
    };
    assert!(at("id=\"funnel\"") < at("id=\"journey-chart\""));
    assert!(at("id=\"journey-chart\"") < at("id=\"attention\""));
    assert!(at("id=\"attention\"") < at("<table id=\"users\">"));
    assert!(html.contains("<li data-step=\"signed_in\"><span class=\"label\">signed in since the move</span><span class=\"track\"><span class=\"fill\" style=\"width:33.3%\"></span></span><span class=\"n\">3</span> <span class=\"share muted\">33%</span></li>"), "{html}");
    assert!(html.contains("<h2>Need attention: 6 people</h2>"));
    assert_eq!(
        html.matches("<tr data-rank=").count(),
        9,
        "a row per person"
    );
    assert!(
        html.contains("id=\"chart-numbers\""),
        "the chart's numbers as a table"
    );
}

#[test]
fn the_page_loads_nothing_and_escapes_every_value() {
    let html = page(&sample(), &facts());
    assert!(html.contains(
        "content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\""
    ));
    for remote in [
        "src=\"http",
        "href=\"http",
        "<link",
        "<script src",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(remote), "{remote}");
    }
    assert!(!html.contains("<img"), "a reply stays text");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn an_empty_journey_still_makes_a_page() {
    let report = crate::cmd::report::journey::build(crate::cmd::report::journey::Sources {
        people: &[],
        campaigns: &Default::default(),
        deliveries: &[],
        sign_ins: &Default::default(),
        submissions: &[],
        per_day: 0,
        now: chrono::Utc::now(),
    });
    let html = page(&report, &facts());
    assert!(html.contains("Nothing sent yet"));
    assert!(html.contains("Nobody needs attention"));
    assert!(html.contains("0 of 0 users"));
}
