//! `report` on a ledger written through the library: every user with state and totals, in the
//! human, JSON and CSV formats; a missing ledger is not an error. `browser` opens the HTML page.

mod browser;
mod journey;

use chrono::Utc;
use t2t_notify::ledger::deliveries::{Book, Mark, Resolution, Settled};
use t2t_notify::ledger::writer::LedgerWriter;
use t2t_notify::ledger::Ledger;

use crate::harness::*;

fn write_ledger(path: &std::path::Path) {
    let ledger = Ledger::open(path).unwrap();
    let book = Book::Campaign {
        campaign: "post-migration".into(),
    };
    let writer = LedgerWriter::spawn(ledger, book, "it-migration@fabrikam.com").unwrap();
    let handle = writer.handle();
    let marks = ["ana", "jose", "zoe"].map(|u| Mark {
        user_key: format!("{u}@contoso.com"),
        recipients: vec![format!("{u}@fabrikam.com")],
        message_id: format!("<{u}@t2t-notify>"),
        content_hash: "00".into(),
        batch: None,
        at: Utc::now(),
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(handle.mark_in_flight(marks.to_vec())).unwrap();
    for (u, resolution, reply) in [
        ("ana", Resolution::Sent, "250 2.0.0 Ok: queued as A1"),
        ("jose", Resolution::Failed, "550 5.1.1 User unknown"),
        ("zoe", Resolution::Deferred, "450 4.2.1 try later"),
    ] {
        handle.settle(Settled {
            user_key: format!("{u}@contoso.com"),
            resolution,
            reply: Some(reply.into()),
            at: Utc::now(),
            submitted: u32::from(resolution == Resolution::Sent),
        });
    }
    writer.finish().1.unwrap();
}

fn report(ledger: &std::path::Path, format: &str) -> Run {
    t2t()
        .arg("--config")
        .arg(sample_config())
        .env("T2T_NOTIFY_LEDGER_PATH", ledger)
        .args(["report", "--format", format])
        .run()
}

#[test]
fn every_user_with_state_reply_and_totals_in_each_format() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("t2t.db");
    write_ledger(&ledger);
    report(&ledger, "human")
        .status(0)
        .contains("Campaign post-migration: 3 users: 1 sent, 1 deferred, 1 failed")
        .contains("550 5.1.1 User unknown")
        .contains("<ana@t2t-notify>");
    let json = report(&ledger, "json").status(0).json();
    let users = json["campaigns"][0]["users"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(json["campaigns"][0]["totals"]["sent"], 1);
    let ana = users
        .iter()
        .find(|u| u["user_key"] == "ana@contoso.com")
        .unwrap();
    assert_eq!(ana["state"], "sent");
    assert_eq!(ana["attempts"], 1);
    assert!(ana["sent_at"].is_string());
    let csv = report(&ledger, "csv").status(0);
    assert_eq!(csv.stdout().lines().count(), 4, "{}", csv.stdout());
    assert!(csv.stderr().contains("3 users"), "{}", csv.stderr());
}

#[test]
fn no_ledger_yet_is_reported_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    report(&dir.path().join("none.db"), "human")
        .status(0)
        .contains("nothing has been sent");
    assert!(
        !dir.path().join("none.db").exists(),
        "report does not create a ledger"
    );
}

/// ana, jose and zoe (in the ledger), and kim and lou, whom the campaign never tried.
fn mapping_of_five(dir: &std::path::Path) -> std::path::PathBuf {
    let rows: String = ["ana", "jose", "zoe", "kim", "lou"]
        .iter()
        .map(|u| {
            format!("User,6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01,{u}@contoso.com,{u}@fabrikam.com,{u}@fabrikam.com,RegularUser\r\n")
        })
        .collect();
    let path = dir.join("map.csv");
    std::fs::write(&path, rows).unwrap();
    path
}

#[test]
fn with_the_mapping_people_never_tried_are_counted_and_listed_as_pending() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("t2t.db");
    write_ledger(&ledger);
    let mapping = mapping_of_five(dir.path());
    let run = |format: &str| {
        t2t()
            .arg("--config")
            .arg(sample_config())
            .env("T2T_NOTIFY_LEDGER_PATH", &ledger)
            .args(["report", "--format", format, "--mapping"])
            .arg(&mapping)
            .run()
    };
    run("human")
        .status(0)
        .contains("Campaign post-migration: 5 users: 1 sent, 1 deferred, 1 failed, 0 uncertain, 0 in flight, 2 pending")
        .contains("kim@contoso.com")
        .contains("lou@contoso.com")
        .contains("not yet sent: in the mapping, never tried");
    let json = run("json").status(0).json();
    let pending: Vec<&str> = json["campaigns"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["state"] == "pending")
        .map(|u| u["user_key"].as_str().unwrap())
        .collect();
    assert_eq!(pending, ["kim@contoso.com", "lou@contoso.com"]);
    let html = run("html").status(0).stdout();
    assert!(
        html.contains("<td>kim<wbr>@contoso.com</td>"),
        "the page lists them"
    );
}

#[test]
fn a_damaged_ledger_exits_1_as_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("t2t.db");
    std::fs::write(&ledger, vec![0x42u8; 8192]).unwrap();
    report(&ledger, "human")
        .status(1)
        .contains("is not a t2t-notify ledger or is damaged");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains("exits 0, or 1 when the ledger cannot be\nread"),
        "README's Report section gives the same exit status"
    );
}

/// The users of a report's JSON in `state`, and the held-back users' source UPNs with hold.
fn pending_and_held(json: &serde_json::Value) -> (Vec<String>, Vec<(String, String)>) {
    let pending = json["campaigns"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["state"] == "pending")
        .map(|u| u["user_key"].as_str().unwrap().to_string())
        .collect();
    let held = json["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let s = |k: &str| h[k].as_str().unwrap().to_string();
            (s("source_upn"), s("hold"))
        })
        .collect();
    (pending, held)
}

#[test]
fn a_plain_report_reads_the_configs_inputs_and_its_directory_reaches_guests() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("t2t.db");
    write_ledger(&ledger);
    let tenant = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01";
    std::fs::write(
        dir.path().join("map.csv"),
        format!(
            "User,{tenant},ana@contoso.com,ana@fabrikam.com,ana@fabrikam.com,RegularUser\n\
             User,{tenant},kim@contoso.com,kim@fabrikam.com,kim@fabrikam.com,RegularUser\n\
             User,{tenant},odd.guest@contoso.com,odd@fabrikam.com,odd@fabrikam.com,GuestUser\n"
        ),
    )
    .unwrap();
    // The guest's only mailbox is the directory's Mail (their UPN is no #EXT# address).
    std::fs::write(
        dir.path().join("directory.csv"),
        "UserPrincipalName,DisplayName,Mail\nodd.guest@contoso.com,Odd Guest,odd@partner.example\n",
    )
    .unwrap();
    let nameless = dir.path().join("nameless.csv");
    std::fs::write(
        &nameless,
        "UserPrincipalName,DisplayName\nodd.guest@contoso.com,Odd Guest\n",
    )
    .unwrap();
    let config =
        crate::config_checks::config_with(dir.path(), "recipient", "recipient = \"source-upn\"");
    let text = std::fs::read_to_string(&config).unwrap();
    let inputs = "[inputs]\nmapping = \"map.csv\"\ndirectory = \"directory.csv\"\n";
    assert!(
        text.contains("\n[inputs]\n"),
        "the sample config has [inputs]"
    );
    std::fs::write(
        &config,
        text.replace("\n[inputs]\n", &format!("\n{inputs}")),
    )
    .unwrap();
    let report = |extra: &[&std::ffi::OsStr]| {
        t2t()
            .arg("--config")
            .arg(&config)
            .env("T2T_NOTIFY_LEDGER_PATH", &ledger)
            .args(["report", "--format", "json"])
            .args(extra)
            .run()
            .status(0)
            .json()
    };

    let (pending, held) = pending_and_held(&report(&[]));
    assert_eq!(pending, ["kim@contoso.com", "odd.guest@contoso.com"]);
    assert!(
        held.is_empty(),
        "the directory's Mail reaches the guest: {held:?}"
    );

    let (pending, held) = pending_and_held(&report(&["--directory".as_ref(), nameless.as_ref()]));
    assert_eq!(pending, ["kim@contoso.com"], "the flag replaces [inputs]");
    assert_eq!(
        held,
        [(
            "odd.guest@contoso.com".to_string(),
            "guest without a mail address".to_string()
        )]
    );

    let bare = crate::config_checks::config_with(dir.path(), "recipient", "");
    t2t()
        .arg("--config")
        .arg(&bare)
        .env("T2T_NOTIFY_LEDGER_PATH", &ledger)
        .args(["report", "--directory"])
        .arg(&nameless)
        .run()
        .status(2)
        .contains("need the identity mapping: pass --mapping FILE");
}
