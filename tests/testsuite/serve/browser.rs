//! The dashboard in headless Chromium while `serve` sends to `smtp-sink`: sign in with the
//! token, the numbers move as notices go out, Pause (confirmed in its dialog) stops new
//! messages within a second and keeps the service, Resume sends the rest exactly once, the
//! search finds a person's journey, nothing is logged as an error (a CSP violation would be),
//! nothing scrolls sideways at phone width, and screenshots are saved under the test output
//! folder.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::dashboard::{serving_with_dashboard, TOKEN};
use super::wait_for;
use crate::cdp::Browser;
use crate::send::helpers::{once_each, sample_recipients, Site};
use crate::sink::Sink;

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-browser")
}

/// Evaluates `expression` until it is `true`, at most `patience`; `what` names it on failure.
fn eval_until(browser: &mut Browser, page: &str, expression: &str, patience: Duration, what: &str) {
    let deadline = Instant::now() + patience;
    loop {
        if browser.eval(page, expression) == Value::Bool(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {expression}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count(browser: &mut Browser, page: &str, class: &str) -> u64 {
    let expression = format!(
        "(document.querySelector('.campaign[data-name=\"post-migration\"] .{class}') || {{}}).textContent || ''"
    );
    let text = browser.eval(page, &expression);
    text.as_str()
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Clicks `#button`, types the name into the dialog and confirms.
fn confirm(browser: &mut Browser, page: &str, button: &str) {
    browser.eval(
        page,
        &format!("document.getElementById('{button}').click()"),
    );
    eval_until(
        browser,
        page,
        "document.getElementById('confirm-dialog').open === true",
        Duration::from_secs(5),
        "the confirmation dialog",
    );
    browser.eval(
        page,
        "document.getElementById('actor').value = 'Ana Martínez'; document.getElementById('confirm').click()",
    );
}

#[test]
fn the_dashboard_shows_a_send_live_and_pauses_and_resumes_it() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_MINUTE", "120");
    site.open_gate();
    let (mut serving, api) = serving_with_dashboard(&site);
    let mut browser = Browser::launch();
    let page = browser.new_page(1280, 900);
    browser.navigate(&page, &format!("{}/", api.base));

    // Signed out: the sign-in form, nothing of the service.
    eval_until(
        &mut browser,
        &page,
        "!document.getElementById('signin').hidden && document.getElementById('dashboard').hidden",
        Duration::from_secs(10),
        "the sign-in form",
    );
    browser.screenshot(&page, &shots().join("signed-out.png"));
    browser.eval(
        &page,
        &format!("document.getElementById('token').value = '{TOKEN}'; document.getElementById('login').requestSubmit()"),
    );
    eval_until(
        &mut browser,
        &page,
        "!document.getElementById('dashboard').hidden && !!document.querySelector('.campaign[data-name=\"post-migration\"]')",
        Duration::from_secs(10),
        "the dashboard after signing in",
    );

    // The numbers move while the notices go out (two a second).
    wait_for("a first notice", || sink.count() >= 1, || serving.log());
    let first = count(&mut browser, &page, "sent");
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(&mut browser, &page, "sent") <= first.max(1) {
        assert!(
            Instant::now() < deadline,
            "the sent count does not move on the page"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let shown = count(&mut browser, &page, "sent") as usize;
    assert!(
        shown <= sink.count(),
        "the page shows no more than were sent"
    );
    browser.screenshot(&page, &shots().join("sending.png"));

    // Pause: within a second nothing new starts; the service keeps running.
    confirm(&mut browser, &page, "pause");
    eval_until(
        &mut browser,
        &page,
        "!document.getElementById('paused-banner').hidden",
        Duration::from_secs(3),
        "the paused banner",
    );
    std::thread::sleep(Duration::from_secs(1));
    let at_pause = sink.count();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        sink.count(),
        at_pause,
        "nothing new while paused:\n{}",
        serving.log()
    );
    assert!(
        at_pause < sample_recipients().len(),
        "paused before the end"
    );
    assert!(serving.running(), "a pause keeps the service");
    eval_until(
        &mut browser,
        &page,
        "document.querySelector('.campaign[data-name=\"post-migration\"] .state').dataset.state === 'paused'",
        Duration::from_secs(5),
        "the campaign shown as paused",
    );
    let banner = browser.eval(
        &page,
        "document.getElementById('paused-banner').textContent",
    );
    assert!(
        banner.as_str().unwrap().contains("Ana Martínez"),
        "{banner}"
    );
    eval_until(
        &mut browser,
        &page,
        "document.getElementById('audit').textContent.includes('Ana Martínez (dashboard, 127.0.0.1)')",
        Duration::from_secs(10),
        "the pause in the audit log",
    );
    browser.screenshot(&page, &shots().join("paused.png"));

    // Resume: the rest go out, each person once, and the page reaches 30.
    confirm(&mut browser, &page, "resume");
    let everyone = once_each(&sample_recipients());
    wait_for(
        "everyone's notice",
        || sink.deliveries() == everyone,
        || serving.log(),
    );
    eval_until(
        &mut browser,
        &page,
        "document.querySelector('.campaign[data-name=\"post-migration\"] .sent').textContent.trim() === '30'",
        Duration::from_secs(5),
        "30 sent on the page",
    );

    // The search finds a person's journey.
    browser.eval(
        &page,
        "var s = document.getElementById('search'); s.value = 'ana.martinez0'; s.dispatchEvent(new Event('input', {bubbles: true}))",
    );
    eval_until(
        &mut browser,
        &page,
        "document.querySelectorAll('#results .person').length === 1 && document.getElementById('results').textContent.includes('ana.martinez0@fabrikam.com')",
        Duration::from_secs(15),
        "the search result",
    );
    let chart_bars = browser.eval(
        &page,
        "document.querySelectorAll('#chart svg rect.bar').length",
    );
    assert!(chart_bars.as_u64().unwrap_or(0) >= 1, "bars: {chart_bars}");
    browser.screenshot(&page, &shots().join("done.png"));

    // At phone width nothing scrolls sideways.
    let phone = browser.new_page(375, 800);
    browser.navigate(&phone, &format!("{}/", api.base));
    eval_until(
        &mut browser,
        &phone,
        "!document.getElementById('dashboard').hidden && !!document.querySelector('.campaign')",
        Duration::from_secs(10),
        "the dashboard on a phone (the session cookie is shared)",
    );
    let overflow = browser.eval(
        &phone,
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    assert_eq!(overflow.as_i64(), Some(0), "sideways scroll at 375 px");
    browser.screenshot(&phone, &shots().join("phone.png"));

    let errors = browser.errors();
    assert!(errors.is_empty(), "errors in the page: {errors:#?}");
    eprintln!("screenshots in {}", shots().display());
    serving.wait_for_log("campaign post-migration: pass done");
    serving.signal(libc::SIGTERM);
    assert_eq!(serving.wait().0, 0);
}
