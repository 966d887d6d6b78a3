//! What the fault tests share: a site with a large synthetic sample and pacing off, `send` runs
//! spawned in the background with their output kept in files, the sink's complete messages
//! parsed (recipient and Message-ID), the ledger as `report --format json` shows it, and the
//! check that nobody got two notices and nobody was skipped outside the reported uncertain users.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::harness::sample_config;
use crate::send::helpers::Site;
use crate::sink::Sink;

/// Messages in flight at once in the fault tests (`[pacing] concurrency`).
pub const CONCURRENCY: usize = 10;

/// A site sending to `port` with pacing and the day budget off, the gate open, and a sample of
/// `users` users; returns the site and the sample's folder.
pub fn fleet(port: u16, users: u64) -> (Site, PathBuf) {
    let site = Site::new(port)
        .env("T2T_NOTIFY_PACING_PER_DAY", "0")
        .env("T2T_NOTIFY_PACING_CONCURRENCY", &CONCURRENCY.to_string());
    site.open_gate();
    let sample = site.sample(users);
    (site, sample)
}

/// The most users one killed run can leave `in-flight`: the engine's window of marks committed
/// ahead plus the messages on the workers (from `send::Settings`, as `send` computes them).
pub fn in_flight_bound() -> usize {
    let text = std::fs::read_to_string(sample_config()).unwrap();
    let env = [
        ("T2T_NOTIFY_TRANSPORT_KIND", "smtp"),
        ("T2T_NOTIFY_TRANSPORT_HOST", "127.0.0.1"),
        ("T2T_NOTIFY_TRANSPORT_SECURITY", "none"),
        ("T2T_NOTIFY_PACING_PER_MINUTE", "0"),
        ("T2T_NOTIFY_PACING_CONCURRENCY", &CONCURRENCY.to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let config =
        t2t_notify::config::Config::from_str_with_env(&text, &sample_config(), &env).unwrap();
    let (transport, _) = t2t_notify::transport::from_config(&config).unwrap();
    let settings = t2t_notify::send::Settings::new(&config, transport.as_ref());
    settings.window + settings.concurrency
}

/// The seed of a randomised test: `T2T_FAULTS_SEED` or the clock; printed so that a failure
/// (whose output the test runner shows) can be replayed.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("T2T_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{test}: seed {seed} (replay with T2T_FAULTS_SEED={seed})");
    seed
}

/// A `send` running in the background, its stdout and stderr going to files.
pub struct Running {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// A `send` that ended.
pub struct Finished {
    /// `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Running {
    /// Starts `send` on `users/identity-map.csv` and `users/directory.csv`; `label` names the
    /// output files in the site's folder.
    pub fn spawn(site: &Site, users: &Path, extra: &[&str], label: &str) -> Running {
        let command = site
            .t2t()
            .args(["send", "--mapping"])
            .arg(users.join("identity-map.csv"))
            .arg("--directory")
            .arg(users.join("directory.csv"))
            .args(extra)
            .command();
        Running::start(command, &site_dir(site), label)
    }

    /// Starts any prepared command with its output going to `<dir>/<label>.out|.err`.
    pub fn start(mut command: std::process::Command, dir: &Path, label: &str) -> Running {
        let stdout = dir.join(format!("{label}.out"));
        let stderr = dir.join(format!("{label}.err"));
        let child = command
            .stdout(Stdio::from(std::fs::File::create(&stdout).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
            .spawn()
            .expect("start t2t-notify");
        Running {
            child,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has ended.
    pub fn has_exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// SIGKILL: no chance to record anything.
    pub fn kill(mut self) -> Finished {
        let _ = self.child.kill();
        self.wait()
    }

    /// Waits for the end and reads the output.
    pub fn wait(mut self) -> Finished {
        let status = self.child.wait().unwrap();
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        Finished {
            code: status.code(),
            stdout: read(&self.stdout),
            stderr: read(&self.stderr),
        }
    }

    /// Polls `ready` until it holds (true) or the run ends first (false).
    pub fn wait_until(&mut self, mut ready: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if ready() {
                return true;
            }
            if self.has_exited() {
                return ready();
            }
            assert!(Instant::now() < deadline, "no progress in 300 s");
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// The site's temporary folder (where its ledger lives).
pub fn site_dir(site: &Site) -> PathBuf {
    site.ledger().parent().unwrap().to_path_buf()
}

/// What the sink received: complete messages by recipient (with their Message-IDs), and
/// transactions cut off before the end of the message (which no server would deliver).
#[derive(Debug, Default)]
pub struct Delivered {
    pub complete: BTreeMap<String, Vec<String>>,
    pub partial: BTreeMap<String, usize>,
}

impl Delivered {
    /// How many complete copies `recipient` got.
    pub fn copies(&self, recipient: &str) -> usize {
        self.complete.get(recipient).map_or(0, Vec::len)
    }
}

/// Reads every message the sink dumped.
pub fn delivered(sink: &Sink) -> Delivered {
    let mut out = Delivered::default();
    for m in sink.messages() {
        let complete = m
            .text
            .trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("--=_t2t_") && l.ends_with("--"));
        for r in m.recipients {
            let r = r.to_lowercase();
            if complete {
                let id = header(&m.text, "message-id").unwrap_or_default();
                out.complete.entry(r).or_default().push(id);
            } else {
                *out.partial.entry(r).or_insert(0) += 1;
            }
        }
    }
    out
}

/// The first header `name` of a dumped message (case-insensitive), unfolded.
pub fn header(text: &str, name: &str) -> Option<String> {
    let prefix = format!("{name}:");
    text.lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.len() > prefix.len() && l[..prefix.len()].eq_ignore_ascii_case(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
}

/// One user as the ledger has it.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub state: String,
    pub recipient: String,
    pub message_id: String,
    pub last_reply: String,
}

/// Every user of the campaign in the ledger, by user key, and the campaign's totals.
pub struct LedgerView {
    pub users: BTreeMap<String, UserRow>,
    pub totals: serde_json::Value,
}

impl LedgerView {
    pub fn read(site: &Site) -> LedgerView {
        let report = site.report();
        let campaign = &report["campaigns"][0];
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let users = campaign["users"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|u| {
                let row = UserRow {
                    state: text(&u["state"]),
                    recipient: text(&u["recipients"][0]).to_lowercase(),
                    message_id: text(&u["message_id"]),
                    last_reply: text(&u["last_reply"]),
                };
                (text(&u["user_key"]), row)
            })
            .collect();
        LedgerView {
            users,
            totals: campaign["totals"].clone(),
        }
    }

    /// The users in `state`.
    pub fn in_state(&self, state: &str) -> BTreeSet<String> {
        self.users
            .iter()
            .filter(|(_, u)| u.state == state)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Recipient address to user key.
    pub fn by_recipient(&self) -> BTreeMap<String, String> {
        self.users
            .iter()
            .map(|(k, u)| (u.recipient.clone(), k.clone()))
            .collect()
    }

    pub fn total(&self, key: &str) -> u64 {
        self.totals[key].as_u64().unwrap_or(0)
    }
}

/// Every one of `expected` users is in the ledger as `sent` or `uncertain`; `sent` users got
/// exactly one complete copy, `uncertain` ones at most one; nobody else got anything; every
/// copy carries its user's Message-ID. `context` goes into every failure message.
pub fn assert_once_except_uncertain(
    ledger: &LedgerView,
    got: &Delivered,
    expected: usize,
    context: &str,
) {
    assert_eq!(
        ledger.users.len(),
        expected,
        "{context}: users in the ledger"
    );
    let by_recipient = ledger.by_recipient();
    for recipient in got.complete.keys() {
        assert!(
            by_recipient.contains_key(recipient),
            "{context}: {recipient} got a notice but is no user of the run"
        );
    }
    for (user, row) in &ledger.users {
        let copies = got.copies(&row.recipient);
        match row.state.as_str() {
            "sent" => assert_eq!(copies, 1, "{context}: {user} (sent) got {copies} copies"),
            "uncertain" => assert!(
                copies <= 1,
                "{context}: {user} (uncertain) got {copies} copies"
            ),
            other => panic!("{context}: {user} is {other}, not sent or uncertain"),
        }
        for id in got.complete.get(&row.recipient).into_iter().flatten() {
            assert_eq!(id, &row.message_id, "{context}: {user}'s Message-ID");
        }
    }
}

/// After `--resend-uncertain`: everybody has at least one copy, and those with two are among
/// `uncertain` (the users reported uncertain before the resend).
pub fn assert_duplicates_only_among(
    ledger: &LedgerView,
    got: &Delivered,
    uncertain: &BTreeSet<String>,
    context: &str,
) {
    for (user, row) in &ledger.users {
        let copies = got.copies(&row.recipient);
        assert_eq!(row.state, "sent", "{context}: {user}");
        match copies {
            1 => {}
            2 => assert!(
                uncertain.contains(user),
                "{context}: {user} got two copies but was never reported uncertain"
            ),
            n => panic!("{context}: {user} got {n} copies"),
        }
    }
}

/// The number in "N users were in flight when an earlier run stopped", 0 when absent.
pub fn reported_in_flight(stderr: &str) -> usize {
    stderr
        .lines()
        .find_map(|l| l.split_once(" users were in flight"))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or(0)
}

/// The number on the summary line that starts with `label` (`sent`, `uncertain`, ...).
pub fn summary_count(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix(label)?;
            let first = rest.split_whitespace().next()?;
            rest.starts_with(' ').then(|| first.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no summary line `{label}` in\n{stdout}"))
}
