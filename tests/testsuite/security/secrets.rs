//! Secrets (the SMTP password from `password_env`, the Graph client secret, the tokens the
//! stand-in issues) never show up where people or other users can read them: the argv of a
//! running `send` and its children, the logs at every verbosity (`-q`, default, `-v`, `-vv`,
//! `T2T_NOTIFY_LOG=trace`), Debug output, previews, reports in every format, and the bytes of the
//! ledger and its WAL.

mod graph;

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::faults::support::Running;
use crate::harness::root;
use crate::send::helpers::Site;
use crate::tls_server::{TestPki, TlsServer};

const USER: &str = "it-migration@fabrikam.com";
const PASSWORD: &str = "Pw-9f3c1e77-correct-horse";
const WRONG: &str = "Pw-4d0b2a19-battery-staple";

/// The forms a secret travels in: as is, base64 (SASL) and URL-encoded (forms).
pub fn forms(secret: &str) -> Vec<String> {
    vec![
        secret.to_string(),
        STANDARD.encode(secret),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ]
}

/// Fails when any of `secrets` is in `bytes`, naming where.
pub fn assert_absent(secrets: &[String], place: &str, bytes: &[u8]) {
    for s in secrets {
        let found = bytes.windows(s.len()).any(|w| w == s.as_bytes());
        assert!(!found, "a secret ({}...) is in {place}", &s[..4]);
    }
}

/// The argv of `pid` and of every process descended from it.
pub fn argv_of_tree(pid: u32) -> Vec<(u32, Vec<u8>)> {
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(parent) && !tree.contains(&child) {
                tree.push(child);
            }
        }
        i += 1;
    }
    tree.into_iter()
        .filter_map(|p| Some((p, std::fs::read(format!("/proc/{p}/cmdline")).ok()?)))
        .collect()
}

/// Every file under `dir`, with its bytes.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

/// Runs `run` once per verbosity with `--test-to` (so each connects and authenticates again),
/// and returns each run's name and output.
pub fn at_every_verbosity(site: &Site, expected: i32) -> Vec<(String, String)> {
    let levels: [(&str, &[&str], Option<&str>); 5] = [
        ("-q", &["-q"], None),
        ("default", &[], None),
        ("-v", &["-v"], None),
        ("-vv", &["-vv"], None),
        ("T2T_NOTIFY_LOG=trace", &[], Some("trace")),
    ];
    levels
        .iter()
        .map(|(name, flags, log)| {
            let mut t = site
                .t2t()
                .args(*flags)
                .args(["send", "--test-to", "admin@fabrikam.com", "--limit", "1"])
                .arg("--mapping")
                .arg(root().join("sample-data/identity-map.csv"));
            if let Some(level) = log {
                t = t.env("T2T_NOTIFY_LOG", level);
            }
            let run = t.run().status(expected);
            (
                name.to_string(),
                format!("{}{}", run.stdout(), run.stderr()),
            )
        })
        .collect()
}

/// `report` in every format its `--help` lists.
pub fn reports(site: &Site) -> Vec<(String, String)> {
    let help = site
        .t2t()
        .args(["report", "--help"])
        .run()
        .status(0)
        .stdout();
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let formats: Vec<String> = flat
        .split_once("--format <FORMAT>")
        .and_then(|(_, rest)| rest.split_once("[possible values: "))
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list.split(", ").map(String::from).collect())
        .unwrap_or_default();
    assert!(formats.len() >= 3, "report formats: {formats:?}");
    formats
        .iter()
        .map(|f| {
            let run = site.t2t().args(["report", "--format", f]).run().status(0);
            (
                format!("report {f}"),
                format!("{}{}", run.stdout(), run.stderr()),
            )
        })
        .collect()
}

/// `preview` of the sample into the site's folder, with the site's variables (secrets set).
pub fn preview_files(site: &Site) -> Vec<(PathBuf, Vec<u8>)> {
    let out = site.ledger().parent().unwrap().join("preview");
    site.t2t()
        .args(["preview", "--limit", "5", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
        .arg("--directory")
        .arg(root().join("sample-data/directory.csv"))
        .arg("--out")
        .arg(&out)
        .run()
        .status(0);
    files_under(&out)
}

/// Scans a running `send`: its argv (and its children's) and the ledger files as they are now.
pub fn scan_running(secrets: &[String], running: &Running, ledger: &Path) {
    let argv = argv_of_tree(running.pid());
    assert!(!argv.is_empty(), "the send is running");
    for (pid, cmdline) in argv {
        assert_absent(secrets, &format!("/proc/{pid}/cmdline"), &cmdline);
    }
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", ledger.display()));
        if let Ok(bytes) = std::fs::read(&path) {
            assert_absent(secrets, &path.display().to_string(), &bytes);
        }
    }
}

fn starttls_site(server: &TlsServer, pki: &TestPki, password: &str) -> Site {
    Site::new(server.port)
        .env("T2T_NOTIFY_TRANSPORT_SECURITY", "starttls")
        .env("T2T_NOTIFY_TRANSPORT_AUTH", "login")
        .env("T2T_NOTIFY_TRANSPORT_USERNAME", USER)
        .env("T2T_NOTIFY_TRANSPORT_CA_FILE", pki.ca().to_str().unwrap())
        .env(
            "T2T_NOTIFY_TRANSPORT_PASSWORD_ENV",
            "T2T_TEST_SMTP_PASSWORD",
        )
        .env("T2T_TEST_SMTP_PASSWORD", password)
        .env("T2T_NOTIFY_PACING_PER_MINUTE", "600")
}

#[test]
fn the_smtp_password_is_nowhere_to_be_read() {
    let pki = TestPki::new();
    let server = TlsServer::start(&pki, USER, PASSWORD);
    let site = starttls_site(&server, &pki, PASSWORD);
    site.open_gate();
    let mut secrets = forms(PASSWORD);
    secrets.extend(forms(&format!("\0{USER}\0{PASSWORD}")));
    secrets.extend(forms(WRONG));

    let dir = site.ledger().parent().unwrap().to_path_buf();
    let sample = root().join("sample-data");
    let mut running = Running::spawn(&site, &sample, &["-vv"], "send");
    if !running.wait_until(|| !server.received().is_empty()) {
        panic!("the send ended before sending:\n{}", running.wait());
    }
    scan_running(&secrets, &running, &site.ledger());
    let sent = running.wait();
    assert_eq!(sent.code, Some(0), "{sent}");
    assert_eq!(server.received().len(), 30);

    let mut outputs = at_every_verbosity(&site, 0);
    let trace = &outputs.last().unwrap().1;
    assert!(
        trace.contains("TRACE") && trace.len() > outputs[1].1.len() * 3,
        "trace logging is on:\n{trace}"
    );
    let wrong = starttls_site(&server, &pki, WRONG);
    outputs.extend(at_every_verbosity(&wrong, 1));
    outputs.extend(reports(&site));
    for (what, text) in &outputs {
        assert_absent(&secrets, what, text.as_bytes());
    }
    for (path, bytes) in preview_files(&site).into_iter().chain(files_under(&dir)) {
        assert_absent(&secrets, &path.display().to_string(), &bytes);
    }
}

#[test]
fn debug_output_of_smtp_settings_and_errors_shows_no_password() {
    use t2t_notify::secret::Secret;
    use t2t_notify::transport::smtp::SmtpSettings;
    let settings = SmtpSettings {
        host: "smtp.office365.com".into(),
        port: 587,
        security: t2t_notify::config::Security::Starttls,
        auth: Some((
            lettre::transport::smtp::authentication::Mechanism::Login,
            USER.into(),
            Secret::new(PASSWORD),
        )),
        ca_file: None,
        timeout: std::time::Duration::from_secs(5),
    };
    let shown = format!("{settings:?} {settings:#?} {}", settings.describe());
    assert!(shown.contains(USER), "the Debug output is real: {shown}");
    assert_absent(&forms(PASSWORD), "Debug of SmtpSettings", shown.as_bytes());
}
