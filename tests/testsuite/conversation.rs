//! The whole migration conversation (issue #20): README's walkthrough on the shipped sample data,
//! command by command (warnings before the move, notices after it, reminders to people who have
//! not signed in), and the day budget shared by the campaigns of one sending mailbox.

use std::path::{Path, PathBuf};

use crate::harness::*;
use crate::sink::Sink;

/// A copy of `sample-data/` and `templates/` (the config finds `../templates`), written to by
/// the file transport and the ledger as README's walkthrough does.
struct Walk {
    dir: tempfile::TempDir,
}

impl Walk {
    fn new() -> Walk {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["sample-data", "templates"] {
            copy_dir(&root().join(folder), &dir.path().join(folder));
        }
        Walk { dir }
    }

    fn data(&self, name: &str) -> PathBuf {
        self.dir.path().join("sample-data").join(name)
    }

    /// t2t-notify with the sample config, the mapping and directory, pacing off (files only).
    fn t2t(&self, command: &str) -> T2t {
        t2t()
            .arg("--config")
            .arg(self.data("t2t-notify.toml"))
            .env("T2T_NOTIFY_PACING_PER_MINUTE", "0")
            .arg(command)
            .arg("--mapping")
            .arg(self.data("identity-map.csv"))
            .arg("--directory")
            .arg(self.data("directory.csv"))
    }

    fn waves(&self, t: T2t) -> T2t {
        ["wave-1.csv", "wave-2.csv", "wave-3.csv"]
            .iter()
            .fold(t, |t, w| t.arg("--move-state").arg(self.data(w)))
    }

    /// The messages the file transport wrote into `outbox/<sub>` (not its subfolders).
    fn outbox(&self, sub: &str) -> Vec<String> {
        let dir = self.data("outbox").join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut texts: Vec<String> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        texts.sort();
        texts
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The value of header `name` in a message.
fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[test]
fn the_sample_walks_thirty_people_through_warned_notified_and_reminded() {
    let walk = Walk::new();
    let schedule = walk.data("schedule.csv");
    // 1. The warning before the move: no trust gate, from the source tenant, to the source mailbox.
    walk.t2t("send")
        .args(["--campaign", "move-warning", "--schedule"])
        .arg(&schedule)
        .run()
        .status(0);
    let warnings = walk.outbox("move-warning");
    assert_eq!(warnings.len(), 30);
    for w in &warnings {
        assert!(
            header(w, "From")
                .unwrap()
                .contains("it-migration@contoso.com"),
            "{w}"
        );
        let to = header(w, "To").unwrap();
        assert!(
            to.contains("@contoso.com") || to.contains("@partner.example"),
            "{to}"
        );
        assert!(
            !w.contains("microsoft365.com"),
            "no sign-in link before the move: {w}"
        );
    }
    // A reminder before anyone was notified, and without sign-in evidence: refused.
    walk.waves(walk.t2t("send"))
        .args(["--campaign", "sign-in-reminder"])
        .run()
        .status(2)
        .contains("no sign-in evidence yet");
    // 2. The notice after the move waits for the trust removal on both tenants.
    walk.waves(walk.t2t("send")).run().status(3);
    t2t()
        .arg("--config")
        .arg(walk.data("t2t-notify.toml"))
        .args(["trust", "confirm"])
        .arg(walk.data("trust-evidence-source.json"))
        .arg(walk.data("trust-evidence-target.json"))
        .run()
        .status(0);
    walk.waves(walk.t2t("send"))
        .run()
        .status(0)
        .contains("held back");
    let notices = walk.outbox("");
    assert_eq!(notices.len(), 28, "Failed and Rescheduled are held back");
    // 3. Who signed in since the move; the others are reminded, once.
    t2t()
        .arg("--config")
        .arg(walk.data("t2t-notify.toml"))
        .arg("sign-ins")
        .arg(walk.data("sign-ins.csv"))
        .run()
        .status(0)
        .contains("sign-ins.csv: 30 users, 21 with a successful sign-in");
    walk.waves(walk.t2t("send"))
        .args(["--campaign", "sign-in-reminder"])
        .run()
        .status(0);
    let after = walk.outbox("");
    assert_eq!(after.len(), 28 + 8);
    let reminded: Vec<&String> = after.iter().filter(|m| !notices.contains(m)).collect();
    let soren = reminded
        .iter()
        .filter(|m| m.contains("soren.odegaard3@fabrikam.com"))
        .count();
    assert_eq!(soren, 1, "a sign-in before the move does not count");
    assert!(
        !reminded
            .iter()
            .any(|m| m.contains("ana.martinez0@fabrikam.com")),
        "signed in after the move: no reminder"
    );
    // Every step again: nobody gets anything twice.
    walk.t2t("send")
        .args(["--campaign", "move-warning", "--schedule"])
        .arg(&schedule)
        .run()
        .status(0);
    walk.waves(walk.t2t("send")).run().status(0);
    walk.waves(walk.t2t("send"))
        .args(["--campaign", "sign-in-reminder"])
        .run()
        .status(0);
    assert_eq!(walk.outbox("move-warning").len(), 30);
    assert_eq!(walk.outbox("").len(), 36);
    // The per-campaign report lists only what each campaign sent: the plan's pending people
    // belong to the post-move campaign alone.
    let report = walk
        .waves(walk.t2t("report"))
        .args(["--format", "json"])
        .run()
        .status(0)
        .json();
    let mut per_campaign = std::collections::BTreeMap::new();
    for c in report["campaigns"].as_array().unwrap() {
        let users = c["users"].as_array().unwrap();
        let pending = users.iter().filter(|u| u["state"] == "pending").count();
        per_campaign.insert(
            c["campaign"].as_str().unwrap().to_string(),
            (users.len(), pending),
        );
    }
    let expected = [
        ("move-warning", (30, 0)),
        ("post-migration", (28, 0)),
        ("sign-in-reminder", (8, 0)),
    ];
    let expected: std::collections::BTreeMap<String, (usize, usize)> =
        expected.iter().map(|(c, n)| (c.to_string(), *n)).collect();
    assert_eq!(per_campaign, expected);
    // 4. The journey report shows the walk: JSON counts, and the page in Chromium.
    let json = walk
        .waves(walk.t2t("report"))
        .args(["--journey", "--format", "json"])
        .run()
        .status(0)
        .json();
    let funnel: Vec<(String, serde_json::Value)> =
        ["mapping", "warned", "moved", "notified", "signed_in"]
            .iter()
            .map(|s| (s.to_string(), json["funnel"][s]["count"].clone()))
            .collect();
    let expected = [
        ("mapping", 30),
        ("warned", 30),
        ("moved", 28),
        ("notified", 28),
        ("signed_in", 20),
    ];
    let expected: Vec<(String, serde_json::Value)> = expected
        .iter()
        .map(|(s, n)| (s.to_string(), (*n).into()))
        .collect();
    assert_eq!(funnel, expected);
    let reminded = json["people"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["reminders"] == 1)
        .count();
    assert_eq!(reminded, 8);
    journey_page_shows_the_walk(&walk);
}

/// The journey page of the walkthrough in headless Chromium: the funnel's numbers, a chart
/// with bars and the budget line, no console error, no CSP violation.
fn journey_page_shows_the_walk(walk: &Walk) {
    let out = walk.dir.path().join("journey.html");
    walk.waves(walk.t2t("report"))
        .args(["--journey", "--format", "html", "--out"])
        .arg(&out)
        .run()
        .status(0);
    let mut browser = crate::cdp::Browser::launch();
    let page = browser.new_page(1200, 1600);
    browser.call(
        Some(&page),
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({"source": "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective));"}),
    );
    browser.navigate(&page, &format!("file://{}", out.display()));
    let funnel = browser.eval(
        &page,
        "Array.from(document.querySelectorAll('#funnel li')).map(li => li.querySelector('.n').textContent)",
    );
    assert_eq!(funnel, serde_json::json!(["30", "30", "28", "28", "20"]));
    let chart = browser.eval(
        &page,
        "(() => { const s = document.getElementById('journey-chart'); const r = s.getBoundingClientRect(); return {width: r.width, height: r.height, bars: s.querySelectorAll('.bars rect').length, budget: s.querySelectorAll('line.budget').length}; })()",
    );
    assert!(chart["width"].as_f64().unwrap() > 300.0, "{chart}");
    assert!(chart["bars"].as_u64().unwrap() >= 1, "{chart}");
    assert_eq!(chart["budget"], 1, "{chart}");
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conversation-journey.png");
    browser.screenshot(&page, &shot);
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot with content"
    );
    assert_eq!(browser.eval(&page, "window.__csp"), serde_json::json!([]));
    let errors = browser.errors();
    assert!(errors.is_empty(), "browser errors: {errors:#?}");
}

/// A config with three campaigns: two from one mailbox, one from another, each mailbox
/// allowed `per_day` recipients.
fn budget_config(dir: &Path, port: u16, per_day: u32) -> PathBuf {
    let sample = std::fs::read_to_string(sample_config()).unwrap();
    let top = sample.split("\n[[campaign]]").next().unwrap();
    let smtp = format!("kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"");
    let top = top
        .replace("kind = \"file\"\ndir = \"outbox\"", &smtp)
        .replace("per_day = 10000", &format!("per_day = {per_day}"))
        .replace("per_minute = 30", "per_minute = 0")
        .replace(
            "path = \"t2t-notify.db\"",
            &format!("path = \"{}\"", dir.join("l.db").display()),
        )
        .replace(
            "templates = \"../templates\"",
            &format!("templates = \"{}\"", root().join("templates").display()),
        );
    let campaigns = format!(
        "[[campaign]]\nname = \"notice\"\nkind = \"post-move\"\n\n\
         [[campaign]]\nname = \"notice-again\"\nkind = \"post-move\"\n\n\
         [[campaign]]\nname = \"warning\"\nkind = \"pre-move\"\nscheduled_only = false\nfrom = \"Contoso IT <it@contoso.com>\"\n\
         [campaign.transport]\n{smtp}\n[campaign.pacing]\nper_minute = 0\nper_day = {per_day}\n"
    );
    let path = dir.join("t2t-notify.toml");
    std::fs::write(&path, format!("{top}\n{campaigns}")).unwrap();
    path
}

#[test]
fn campaigns_of_one_mailbox_share_its_day_budget_and_another_mailbox_has_its_own() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let config = budget_config(dir.path(), sink.port, 20);
    let send = |campaign: &str| {
        t2t()
            .arg("--config")
            .arg(&config)
            .env(ANY_EVIDENCE_AGE.0, ANY_EVIDENCE_AGE.1)
            .args(["send", "--campaign", campaign, "--mapping"])
            .arg(root().join("sample-data/identity-map.csv"))
            .run()
    };
    t2t()
        .arg("--config")
        .arg(&config)
        .env(ANY_EVIDENCE_AGE.0, ANY_EVIDENCE_AGE.1)
        .args(["trust", "confirm"])
        .arg(fixture("trust/accepted-source.json"))
        .arg(fixture("trust/accepted-target.json"))
        .run()
        .status(0);
    // 20 of 30 notices, then the budget of it-migration@fabrikam.com is spent.
    send("notice").status(5);
    assert_eq!(sink.count(), 20);
    // The same mailbox's other campaign gets nothing today.
    send("notice-again").status(5);
    assert_eq!(sink.count(), 20);
    // Another mailbox: its own 20.
    send("warning").status(5);
    assert_eq!(sink.count(), 40);
    let from_contoso = sink
        .messages()
        .iter()
        .filter(|m| m.text.contains("<it@contoso.com>"))
        .count();
    assert_eq!(from_contoso, 20);
}
