//! The HTML page on canned rows: every user, totals per batch, callouts, and no value that can
//! become markup.

use super::*;

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// The format tests' row, tried twice, of migration batch `batch`.
fn row(user: &str, state: DeliveryState, reply: &str, batch: Option<&str>) -> DeliveryRow {
    DeliveryRow {
        attempts: 2,
        batch: batch.map(str::to_string),
        ..super::super::format::tests::row(user, state, reply)
    }
}

fn held(user: &str, hold: &str, action: bool) -> HeldRow {
    HeldRow {
        source_upn: user.into(),
        target_upn: user.replace("contoso", "fabrikam"),
        hold: hold.into(),
        action_needed: action,
        reason: format!("move {hold} (batch batch-1, batch-1.csv:4)"),
        batch: Some("batch-1".into()),
        export: Some("batch-1.csv:4".into()),
    }
}

fn report() -> Report {
    let rows = [
        ("ana", DeliveryState::Sent, "250 2.0.0 Ok", Some("batch-1")),
        ("eve", DeliveryState::Failed, HOSTILE, Some("batch-2")),
        ("fay", DeliveryState::Uncertain, "connection lost", None),
    ]
    .map(|(name, state, reply, batch)| row(&format!("{name}@contoso.com"), state, reply, batch));
    Report::new(
        rows.into(),
        Vec::new(),
        vec![
            held("bo@contoso.com", "Failed", true),
            held("cy@contoso.com", "InProgress", false),
        ],
    )
}

fn facts() -> PageFacts {
    PageFacts {
        generated: "2025-03-05 10:00 UTC".into(),
        ledger: "/srv/t2t/<ledger>.db".into(),
        campaign: None,
        batch: Some("\"><script>alert(2)</script>".into()),
        exports: vec!["batch-1.csv".into()],
    }
}

#[test]
fn hostile_values_are_escaped_everywhere() {
    let html = page(&report(), &facts());
    assert!(!html.contains("<img"), "a reply became markup");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(
        !html.contains("<script>alert"),
        "the batch filter became markup"
    );
    assert!(html.contains("&lt;ledger&gt;.db"));
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
}

#[test]
fn the_page_is_self_contained() {
    let html = page(&report(), &facts());
    for remote in ["http://", "https://", "src=\"", "<link", "@import", "url("] {
        assert!(!html.contains(remote), "{remote} in the page");
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("default-src 'none'"));
}

#[test]
fn every_user_has_a_row_and_the_ones_who_need_someone_are_called_out() {
    let html = page(&report(), &facts());
    let tbody = &html[html.find("<tbody>\n<tr class=\"s-").unwrap()..];
    let rows = tbody[..tbody.find("</tbody>").unwrap()]
        .matches("<tr ")
        .count();
    assert_eq!(rows, 5, "3 ledger users and 2 held back");
    assert!(html.contains("5 of 5 users"));
    for user in ["ana", "eve", "fay", "bo", "cy"] {
        assert!(
            html.contains(&format!("<td>{user}<wbr>@contoso.com</td>")),
            "{user}"
        );
    }
    for callout in [
        "<h2>Failed in campaign post-migration: 1 user</h2>",
        "<h2>Uncertain in campaign post-migration: 1 user</h2>",
        "<code>send --campaign post-migration --retry-failed</code>",
        "(2 attempts)",
        "<h2>Held back: 2 users not notified</h2>",
    ] {
        assert!(html.contains(callout), "{callout}");
    }
    let failed_first = html.find("Failed: 1</span> <span class=\"act\">").unwrap();
    let in_progress = html.find("InProgress: 1</span>").unwrap();
    assert!(failed_first < in_progress, "Failed is listed first");
}

#[test]
fn totals_per_batch_count_states_and_held_back_users() {
    let html = page(&report(), &facts());
    let batches = &html[html.find("id=\"batches\"").unwrap()..];
    let batches = &batches[..batches.find("</table>").unwrap()];
    // batch-1: ana sent, plus bo and cy held back.
    assert!(
        batches.contains(
            "<th scope=\"row\">batch-1</th><td class=\"num\">1</td><td class=\"num\">1</td>"
        ),
        "{batches}"
    );
    assert!(
        batches.contains("<td class=\"num warn\">2</td>"),
        "{batches}"
    );
    assert!(
        batches.contains("<td class=\"num bad\">1</td>"),
        "batch-2 has a failure: {batches}"
    );
    assert!(batches.contains("no batch"), "{batches}");
}

#[test]
fn an_empty_ledger_says_so_and_nobody_needs_attention() {
    let html = page(&Report::default(), &PageFacts::default());
    assert!(html.contains("No deliveries recorded."));
    assert!(html.contains("Nobody needs attention"));
    assert!(html.contains("0 of 0 users"));
}

#[test]
fn callouts_name_each_campaign_and_count_one_attempt_in_the_singular() {
    let mut once = row("eve@contoso.com", DeliveryState::Failed, "550 no", None);
    once.attempts = 1;
    let mut other = row("fay@contoso.com", DeliveryState::Failed, "550 no", None);
    other.campaign = "reminder".into();
    let html = page(
        &Report::new(vec![once, other], Vec::new(), Vec::new()),
        &facts(),
    );
    assert!(html.contains("<b>eve@contoso.com</b> <span class=\"muted\">(1 attempt)</span>"));
    assert!(!html.contains("(1 attempts)"));
    assert!(html.contains("<h2>Failed in campaign post-migration: 1 user</h2>"));
    assert!(html.contains("<h2>Failed in campaign reminder: 1 user</h2>"));
}
