//! `report --journey` on a real ledger (three campaigns written through the ledger writer, a
//! sign-in import) with a config that has `[[campaign]]` tables: the JSON's funnel and
//! attention, the need for a mapping, and the HTML page in headless Chromium (no error, no CSP
//! violation, the funnel's numbers, a chart with bars that is not blank on a screenshot).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{json, Value};
use t2t_notify::ledger::deliveries::{Book, Mark, Resolution, Settled};
use t2t_notify::ledger::sign_ins::SignInFact;
use t2t_notify::ledger::writer::LedgerWriter;
use t2t_notify::ledger::Ledger;

use crate::cdp::Browser;
use crate::harness::*;

const TENANT: &str = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01";
const HOSTILE: &str = "550 5.1.1 <img src=x onerror=alert(1)> rejected";
const CAMPAIGNS: &str = "\n[[campaign]]\nname = \"warn\"\nkind = \"pre-move\"\n\n[[campaign]]\nname = \"notice\"\nkind = \"post-move\"\n\n[[campaign]]\nname = \"nudge\"\nkind = \"reminder\"\nmax_reminders = 2\n";

/// The files of one journey: config, ledger, mapping, move-state export.
struct Journey {
    _dir: tempfile::TempDir,
    config: PathBuf,
    ledger: PathBuf,
    mapping: PathBuf,
    moves: PathBuf,
}

/// Records `sends` of `campaign` (user key, outcome, reply, when) as `send` would.
fn record(ledger: &Path, campaign: &str, sends: &[(&str, Resolution, &str, DateTime<Utc>)]) {
    let book = Book::Campaign {
        campaign: campaign.into(),
    };
    let writer = LedgerWriter::spawn(
        Ledger::open(ledger).unwrap(),
        book,
        "it-migration@fabrikam.com",
    )
    .unwrap();
    let handle = writer.handle();
    let marks: Vec<Mark> = sends
        .iter()
        .map(|(key, _, _, at)| Mark {
            user_key: key.to_string(),
            recipients: vec![key
                .split('#')
                .next()
                .unwrap()
                .replace("contoso", "fabrikam")],
            message_id: format!("<{}@t2t-notify>", key.replace('#', ".")),
            content_hash: "00".into(),
            batch: Some("batch-1".into()),
            at: *at,
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(handle.mark_in_flight(marks)).unwrap();
    for (key, resolution, reply, at) in sends {
        handle.settle(Settled {
            user_key: key.to_string(),
            resolution: *resolution,
            reply: Some(reply.to_string()),
            at: *at,
            submitted: u32::from(*resolution == Resolution::Sent),
        });
    }
    writer.finish().1.unwrap();
}

/// Six people, moved three days ago (bo's move failed, eve's is in progress): ana, bo and cy
/// warned; ana, cy and dee notified, fay's notice failed; cy reminded twice; ana signed in
/// since her move, dee only before hers.
fn journey() -> Journey {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::config_checks::config_with(dir.path(), "per_day", "per_day = 20");
    let text = std::fs::read_to_string(&config).unwrap();
    // The sample's own campaigns make way for this journey's.
    let mut text = text.split("\n[[campaign]]").next().unwrap().to_string();
    text.push_str(CAMPAIGNS);
    std::fs::write(&config, text).unwrap();
    let names = ["ana", "bo", "cy", "dee", "eve", "fay"];
    let mapping = dir.path().join("map.csv");
    let rows: String = names
        .iter()
        .map(|u| {
            format!(
                "User,{TENANT},{u}@contoso.com,{u}@fabrikam.com,{u}@fabrikam.com,RegularUser\r\n"
            )
        })
        .collect();
    std::fs::write(&mapping, rows).unwrap();
    let moved = Utc::now().duration_trunc(Duration::hours(1)).unwrap() - Duration::days(3);
    let moves = dir.path().join("batch-1.csv");
    let states = [
        "Success",
        "Failed",
        "Success",
        "Success",
        "InProgress",
        "Success",
    ];
    let mut export =
        String::from("SourceUserPrincipalName,TargetUserPrincipalName,MoveState,TimeStamp\n");
    for (u, state) in names.iter().zip(states) {
        export.push_str(&format!(
            "{u}@contoso.com,{u}@fabrikam.com,{state},{}\n",
            moved.to_rfc3339()
        ));
    }
    std::fs::write(&moves, export).unwrap();

    let ledger = dir.path().join("t2t.db");
    let ok = "250 2.0.0 Ok";
    let sent = Resolution::Sent;
    let before = moved - Duration::days(1);
    record(
        &ledger,
        "warn",
        &[
            ("ana@contoso.com", sent, ok, before),
            ("bo@contoso.com", sent, ok, before),
            ("cy@contoso.com", sent, ok, before),
        ],
    );
    let after = moved + Duration::hours(2);
    record(
        &ledger,
        "notice",
        &[
            ("ana@contoso.com", sent, ok, after),
            ("cy@contoso.com", sent, ok, after),
            ("dee@contoso.com", sent, ok, after),
            ("fay@contoso.com", Resolution::Failed, HOSTILE, after),
        ],
    );
    record(
        &ledger,
        "nudge",
        &[
            ("cy@contoso.com#1", sent, ok, moved + Duration::days(1)),
            ("cy@contoso.com#2", sent, ok, moved + Duration::days(2)),
        ],
    );
    let mut l = Ledger::open(&ledger).unwrap();
    let fact = |u: &str, at| SignInFact {
        upn: format!("{u}@fabrikam.com"),
        last_success: Some(at),
    };
    let facts = [
        fact("ana", moved + Duration::hours(5)),
        fact("dee", moved - Duration::days(2)),
    ];
    l.record_sign_ins("graph", &facts, Utc::now() - Duration::hours(1))
        .unwrap();
    Journey {
        _dir: dir,
        config,
        ledger,
        mapping,
        moves,
    }
}

fn report(j: &Journey, args: &[&str]) -> Run {
    t2t()
        .arg("--config")
        .arg(&j.config)
        .env("T2T_NOTIFY_LEDGER_PATH", &j.ledger)
        .args(["report", "--journey", "--mapping"])
        .arg(&j.mapping)
        .arg("--move-state")
        .arg(&j.moves)
        .args(args)
        .run()
}

#[test]
fn the_journey_json_counts_the_funnel_and_names_who_needs_attention() {
    let j = journey();
    let json = report(&j, &["--format", "json"]).status(0).json();
    let counts: Vec<(String, Value)> = ["mapping", "warned", "moved", "notified", "signed_in"]
        .iter()
        .map(|s| (s.to_string(), json["funnel"][s]["count"].clone()))
        .collect();
    let expected: Vec<(String, Value)> = [
        ("mapping", 6),
        ("warned", 3),
        ("moved", 4),
        ("notified", 3),
        ("signed_in", 1),
    ]
    .iter()
    .map(|(s, n)| (s.to_string(), json!(n)))
    .collect();
    assert_eq!(counts, expected);
    assert_eq!(json["funnel"]["warned"]["share"], 0.5);
    let people = json["people"].as_array().unwrap();
    let attention: Vec<(&str, Vec<&str>)> = people
        .iter()
        .filter(|p| !p["attention"].as_array().unwrap().is_empty())
        .map(|p| {
            let kinds = p["attention"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["kind"].as_str().unwrap())
                .collect();
            (p["source_upn"].as_str().unwrap(), kinds)
        })
        .collect();
    assert_eq!(
        attention,
        [
            ("bo@contoso.com", vec!["move"]),
            ("cy@contoso.com", vec!["not-signed-in"]),
            ("fay@contoso.com", vec!["message"]),
        ]
    );
    let cy = &people[2];
    assert_eq!(
        (cy["reminders"].clone(), cy["moved"]["state"].clone()),
        (json!(2), json!("Success"))
    );
    assert_eq!(
        people[3]["signed_in_at"],
        Value::Null,
        "dee signed in before her move only"
    );
    let sent: u64 = json["chart"]["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["sent"].as_u64().unwrap())
        .sum();
    assert_eq!(
        sent, 8,
        "every notice the log holds, fay's failure not among them"
    );
    assert_eq!(json["chart"]["per_day"], 20);

    let human = report(&j, &[]).status(0);
    let text = human.stdout();
    assert!(
        text.starts_with("Journey of 6 people in the mapping (sign-ins as learnt from graph"),
        "{text}"
    );
    assert!(text.contains("Need attention: 3"), "{text}");
    let csv = report(&j, &["--format", "csv"]).status(0);
    assert_eq!(csv.stdout().lines().count(), 7, "{}", csv.stdout());
}

#[test]
fn the_journey_needs_the_mapping() {
    let j = journey();
    t2t()
        .arg("--config")
        .arg(&j.config)
        .env("T2T_NOTIFY_LEDGER_PATH", &j.ledger)
        .args(["report", "--journey"])
        .run()
        .status(2)
        .contains(
            "report --journey follows the people of the identity mapping: pass --mapping FILE",
        );
}

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-browser")
}

/// Counts, inside `rect` of the PNG at `png`, the pixels of the bars' colour and those that are
/// not near-white, decoding the PNG in a blank tab's canvas.
fn ink(browser: &mut Browser, png: &Path, rect: &Value) -> Value {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(std::fs::read(png).unwrap());
    let page = browser.new_page(200, 200);
    let js = format!(
        "(async () => {{ const img = new Image(); img.src = 'data:image/png;base64,{data}'; await img.decode();\
         const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;\
         const g = c.getContext('2d'); g.drawImage(img, 0, 0);\
         const d = g.getImageData({x}, {y}, {w}, {h}).data; let bar = 0, ink = 0;\
         for (let i = 0; i < d.length; i += 4) {{\
           if (Math.abs(d[i] - 15) < 24 && Math.abs(d[i + 1] - 98) < 24 && Math.abs(d[i + 2] - 171) < 24) bar++;\
           if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink++; }}\
         return {{bar, ink, pixels: d.length / 4}}; }})()",
        x = rect["x"].as_f64().unwrap().floor(),
        y = rect["y"].as_f64().unwrap().floor(),
        w = rect["width"].as_f64().unwrap().ceil(),
        h = rect["height"].as_f64().unwrap().ceil(),
    );
    browser.eval(&page, &js)
}

#[test]
fn the_journey_page_leads_with_the_funnel_and_a_chart_that_is_drawn() {
    let j = journey();
    let out = j.ledger.with_file_name("journey.html");
    report(&j, &["--format", "html", "--out", out.to_str().unwrap()])
        .status(0)
        .contains("Report written to");

    let mut browser = Browser::launch();
    let page = browser.new_page(1200, 1600);
    browser.call(
        Some(&page),
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"}),
    );
    browser.navigate(&page, &format!("file://{}", out.display()));

    let funnel = browser.eval(
        &page,
        "Array.from(document.querySelectorAll('#funnel li')).map(li => [li.dataset.step, li.querySelector('.n').textContent, li.querySelector('.share').textContent])",
    );
    assert_eq!(
        funnel,
        json!([
            ["mapping", "6", "100%"],
            ["warned", "3", "50%"],
            ["moved", "4", "67%"],
            ["notified", "3", "50%"],
            ["signed_in", "1", "17%"]
        ])
    );
    let chart = browser.eval(
        &page,
        "(() => { const s = document.getElementById('journey-chart'); const r = s.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height, bars: s.querySelectorAll('.bars rect').length, budget: s.querySelectorAll('line.budget').length, title: s.querySelector('title').textContent, first: document.querySelector('main').firstElementChild.id}; })()",
    );
    assert!(
        chart["width"].as_f64().unwrap() > 300.0 && chart["height"].as_f64().unwrap() > 100.0,
        "{chart}"
    );
    assert_eq!(
        chart["bars"], 4,
        "the warnings' hour, the notices' hour and two reminders: {chart}"
    );
    assert_eq!(chart["budget"], 1, "{chart}");
    assert_eq!(
        chart["first"], "funnel",
        "the page leads with the funnel: {chart}"
    );
    assert!(
        chart["title"].as_str().unwrap().contains("day budget"),
        "{chart}"
    );
    let attention = browser.eval(&page, "document.querySelector('#attention h2').textContent");
    assert_eq!(attention, "Need attention: 3 people");
    assert_eq!(
        browser.eval(&page, "document.querySelectorAll('img').length"),
        0,
        "the reply stays text"
    );

    let shot = shots().join("journey.png");
    browser.screenshot(&page, &shot);
    let painted = ink(&mut browser, &shot, &chart);
    assert!(
        painted["bar"].as_u64().unwrap() > 50,
        "bars painted in the chart: {painted}"
    );
    assert!(
        painted["ink"].as_u64().unwrap() > 500,
        "the chart is not blank: {painted}"
    );

    let search = "(() => { const s = document.getElementById('search'); s.value = 'attention:'; s.dispatchEvent(new Event('input')); return Array.from(document.querySelectorAll('#users tbody tr')).filter(r => !r.hidden).map(r => r.cells[0].textContent); })()";
    assert_eq!(
        browser.eval(&page, search),
        json!(["bo@contoso.com", "cy@contoso.com", "fay@contoso.com"])
    );
    // At phone width the chart scales down and nothing scrolls sideways.
    browser.call(
        Some(&page),
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    );
    let phone = browser.eval(
        &page,
        "(() => { const r = document.getElementById('journey-chart').getBoundingClientRect(); const wide = Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391 && !e.parentElement.closest('.scroll')).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id); return {width: r.width, page: document.documentElement.scrollWidth, wide}; })()",
    );
    assert!(
        phone["width"].as_f64().unwrap() <= 390.0 && phone["page"].as_f64().unwrap() <= 390.0,
        "{phone}"
    );
    browser.screenshot(&page, &shots().join("journey-phone.png"));

    assert_eq!(
        browser.eval(&page, "window.__csp"),
        json!([]),
        "no CSP violation"
    );
    let errors = browser.errors();
    assert!(errors.is_empty(), "browser errors: {errors:#?}");
    eprintln!("screenshots in {}", shots().display());
}
