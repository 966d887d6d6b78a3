//! `report --format html` in a real browser: headless Chromium opens the page written with
//! `--out` (0600), every user of the ledger and every held-back user has a row, the search box
//! filters, the headers sort, a hostile server reply stays text, nothing is logged as an
//! error, and a screenshot is saved under the test output folder.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde_json::Value;
use t2t_notify::ledger::deliveries::{Book, Mark, Resolution, Settled};
use t2t_notify::ledger::writer::LedgerWriter;
use t2t_notify::ledger::Ledger;

use crate::cdp::Browser;
use crate::harness::*;

const HOSTILE: &str = "550 5.1.1 <img src=x onerror=alert(1)> rejected";
const SOURCE_UPNS: &str =
    "Array.from(document.querySelectorAll('#users tbody tr')).filter(r => !r.hidden).map(r => r.cells[1].textContent)";

/// ana sent (batch-1), fay failed with a hostile reply (batch-2), hal uncertain (batch-3).
fn write_ledger(path: &Path) {
    let ledger = Ledger::open(path).unwrap();
    let book = Book::Campaign {
        campaign: "post-migration".into(),
    };
    let writer = LedgerWriter::spawn(ledger, book, "it-migration@fabrikam.com").unwrap();
    let handle = writer.handle();
    let users = [
        (
            "ana",
            "batch-1",
            Resolution::Sent,
            "250 2.0.0 Ok: queued as A1",
        ),
        ("fay", "batch-2", Resolution::Failed, HOSTILE),
        (
            "hal",
            "batch-3-single",
            Resolution::Uncertain,
            "connection lost after DATA",
        ),
    ];
    let marks = users.map(|(u, batch, _, _)| Mark {
        user_key: format!("{u}@contoso.com"),
        recipients: vec![format!("{u}@fabrikam.com")],
        message_id: format!("<{u}@fabrikam.com>"),
        content_hash: "00".into(),
        batch: Some(batch.into()),
        at: Utc::now(),
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(handle.mark_in_flight(marks.to_vec())).unwrap();
    for (u, _, resolution, reply) in users {
        handle.settle(Settled {
            user_key: format!("{u}@contoso.com"),
            resolution,
            reply: Some(reply.into()),
            at: Utc::now(),
            submitted: u32::from(resolution != Resolution::Failed),
        });
    }
    writer.finish().1.unwrap();
}

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-browser")
}

fn strings(v: Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn search(browser: &mut Browser, page: &str, text: &str) -> Vec<String> {
    let js = format!(
        "(() => {{ const s = document.getElementById('search'); s.value = {}; s.dispatchEvent(new Event('input')); return {SOURCE_UPNS}; }})()",
        serde_json::to_string(text).unwrap()
    );
    strings(browser.eval(page, &js))
}

fn upns(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|n| format!("{n}@contoso.com")).collect();
    v.sort();
    v
}

#[test]
fn the_html_report_lists_everyone_searches_sorts_and_stays_inert() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("t2t.db");
    write_ledger(&ledger);
    let out = dir.path().join("report.html");
    let mut cmd = t2t()
        .arg("--config")
        .arg(sample_config())
        .env("T2T_NOTIFY_LEDGER_PATH", &ledger)
        .args(["report", "--format", "html", "--out"])
        .arg(&out)
        .arg("--mapping")
        .arg(fixture("move-state/map.csv"));
    for e in ["batch-1.csv", "batch-2.json", "batch-3-single.json"] {
        cmd = cmd
            .arg("--move-state")
            .arg(fixture(&format!("move-state/{e}")));
    }
    cmd.run().status(0).contains("Report written to");
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let mut browser = Browser::launch();
    let page = browser.new_page(1400, 1000);
    browser.navigate(&page, &format!("file://{}", out.display()));

    let everyone = upns(&["ana", "fay", "hal", "bo", "cy", "dee", "eve", "gus"]);
    assert_eq!(strings(browser.eval(&page, SOURCE_UPNS)), everyone);
    assert_eq!(
        browser.eval(&page, "document.getElementById('count').textContent"),
        "8 of 8 users"
    );
    let hostile_shown = browser.eval(
        &page,
        "Array.from(document.querySelectorAll('#users tbody tr')).find(r => r.cells[1].textContent === 'fay@contoso.com').cells[5].textContent",
    );
    assert_eq!(hostile_shown, HOSTILE, "the reply is shown as text");
    assert_eq!(
        browser.eval(&page, "document.querySelectorAll('img').length"),
        0,
        "no reply became an element"
    );
    let callouts = browser.eval(
        &page,
        "Array.from(document.querySelectorAll('.callout h2')).map(h => h.textContent)",
    );
    assert_eq!(
        callouts,
        serde_json::json!([
            "Held back: 5 users not notified",
            "Failed in campaign post-migration: 1 user",
            "Uncertain in campaign post-migration: 1 user"
        ])
    );
    browser.screenshot(&page, &shots().join("report.png"));

    assert_eq!(
        search(&mut browser, &page, "batch-2"),
        upns(&["fay", "dee", "eve"])
    );
    assert_eq!(
        search(&mut browser, &page, "HELD BACK failed"),
        upns(&["bo"])
    );
    assert_eq!(search(&mut browser, &page, "onerror"), upns(&["fay"]));
    assert_eq!(
        browser.eval(&page, "document.getElementById('count').textContent"),
        "1 of 8 users"
    );
    assert!(search(&mut browser, &page, "nobody-like-this").is_empty());
    assert_eq!(search(&mut browser, &page, "").len(), 8);

    let by_upn = "(() => { document.querySelector('#users th[data-col=\"1\"] button').click(); return Array.from(document.querySelectorAll('#users tbody tr')).map(r => r.cells[1].textContent); })()";
    let ascending = browser.eval(&page, by_upn);
    assert_eq!(strings(ascending.clone()), everyone);
    assert_eq!(
        ascending.as_array().unwrap().first().unwrap(),
        "ana@contoso.com"
    );
    let descending = browser.eval(&page, by_upn);
    assert_eq!(
        descending.as_array().unwrap().first().unwrap(),
        "hal@contoso.com"
    );
    assert_eq!(
        browser.eval(
            &page,
            "document.querySelector('#users th[data-col=\"1\"]').getAttribute('aria-sort')"
        ),
        "descending"
    );
    search(&mut browser, &page, "fabrikam");
    browser.eval(&page, "document.querySelector('.users').scrollIntoView()");
    browser.screenshot(&page, &shots().join("report-sorted.png"));

    let dialogs: Vec<&Value> = browser
        .events
        .iter()
        .filter(|e| e["method"] == "Page.javascriptDialogOpening")
        .collect();
    assert!(dialogs.is_empty(), "{dialogs:?}");
    let errors = browser.errors();
    assert!(errors.is_empty(), "browser errors: {errors:#?}");
    eprintln!("screenshots in {}", shots().display());
}

/// Forty users as a real campaign leaves them: long UPNs, real Message-IDs (32 hex digits),
/// Exchange's long replies, a batch label and three timestamps each.
fn write_realistic_ledger(path: &Path) {
    let ledger = Ledger::open(path).unwrap();
    let book = Book::Campaign {
        campaign: "post-migration".into(),
    };
    let writer = LedgerWriter::spawn(ledger, book, "it-migration@fabrikam.com").unwrap();
    let handle = writer.handle();
    let user = |i: usize| format!("alexandra.konstantinopoulou{i}@contoso.onmicrosoft.com");
    let marks: Vec<Mark> = (0..40)
        .map(|i| Mark {
            user_key: user(i),
            recipients: vec![format!("alexandra.konstantinopoulou{i}@fabrikam.com")],
            message_id: format!(
                "<{:032x}@fabrikam.com>",
                (0x9f3a_u128 * (i as u128 + 1)) << 64
            ),
            content_hash: "00".into(),
            batch: Some("wave-2026-11-28".into()),
            at: Utc::now(),
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(handle.mark_in_flight(marks)).unwrap();
    for i in 0..40 {
        let (resolution, reply) = if i % 7 == 3 {
            (Resolution::Failed, "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")
        } else {
            (Resolution::Sent, "250 2.6.0 <9f3a@fabrikam.com> [InternalId=123456789012, Hostname=AM0PR01MB1234.eurprd01.prod.exchangelabs.com] 12345 bytes in 0.123, 97.123 KB/sec Queued mail for delivery")
        };
        handle.settle(Settled {
            user_key: user(i),
            resolution,
            reply: Some(reply.into()),
            at: Utc::now(),
            submitted: u32::from(resolution != Resolution::Failed),
        });
    }
    writer.finish().1.unwrap();
}

#[test]
fn the_html_report_table_fits_1900_pixels_with_one_line_rows() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("t2t.db");
    write_realistic_ledger(&ledger);
    let out = dir.path().join("report.html");
    t2t()
        .arg("--config")
        .arg(sample_config())
        .env("T2T_NOTIFY_LEDGER_PATH", &ledger)
        .args(["report", "--format", "html", "--out"])
        .arg(&out)
        .run()
        .status(0);
    let mut browser = Browser::launch();
    let page = browser.new_page(1900, 1000);
    browser.navigate(&page, &format!("file://{}", out.display()));
    let layout = browser.eval(
        &page,
        "(() => { const s = document.querySelector('.scroll'); const rows = Array.from(document.querySelectorAll('#users tbody tr')); const heights = rows.map(r => r.getBoundingClientRect().height); return {scrollWidth: s.scrollWidth, clientWidth: s.clientWidth, rows: rows.length, tallest: Math.max(...heights), messageId: rows[0].cells[6].textContent}; })()",
    );
    browser.screenshot(&page, &shots().join("report-1900.png"));
    assert_eq!(layout["rows"], 40, "{layout}");
    assert!(
        layout["messageId"]
            .as_str()
            .unwrap()
            .ends_with("@fabrikam.com>"),
        "the whole Message-ID is in the cell (search and copy find it): {layout}"
    );
    assert!(
        layout["scrollWidth"].as_f64().unwrap() <= layout["clientWidth"].as_f64().unwrap(),
        "the table does not scroll sideways at 1900 px: {layout}"
    );
    assert!(
        layout["tallest"].as_f64().unwrap() <= 48.0,
        "no row is taller than two lines: {layout}"
    );
    let errors = browser.errors();
    assert!(errors.is_empty(), "browser errors: {errors:#?}");
}
