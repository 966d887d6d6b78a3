//! Sends after each migration batch with overlapping move-state exports: nobody is notified
//! twice, each user keeps the batch they were first sent in, and `report --batch` shows one
//! batch.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{send_batches, ALL_EXPORTS};
use crate::send::helpers::Site;
use crate::sink::Sink;

/// `(user, batch)` of every delivery row.
fn batches(site: &Site) -> BTreeMap<String, String> {
    let report = site.report();
    report["campaigns"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["user_key"].as_str().unwrap().to_string(),
                u["batch"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter()
        .map(|(u, b)| (format!("{u}@contoso.com"), b.to_string()))
        .collect()
}

fn batch_report(site: &Site, batch: &str) -> Value {
    site.t2t()
        .args(["report", "--format", "json", "--batch", batch])
        .run()
        .status(0)
        .json()
}

#[test]
fn overlapping_exports_never_notify_anyone_twice() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.open_gate();

    // After batch 1 only ana's move has succeeded.
    send_batches(&site, &["batch-1.csv"], &[])
        .status(0)
        .contains("sent                           1");
    assert_eq!(batches(&site), pairs(&[("ana", "batch-1")]));

    // At the end, every export: fay (Success in batch 2, newer than her InProgress in batch 1)
    // and hal are new; ana is skipped although batch 2 has an older entry for her.
    send_batches(&site, &ALL_EXPORTS, &[])
        .status(0)
        .contains("sent                           2")
        .contains("skipped, already sent          1");
    // The same exports again, and with another label: nothing to send, nobody relabelled.
    send_batches(&site, &ALL_EXPORTS, &[])
        .status(0)
        .contains("sent                           0")
        .contains("skipped, already sent          3");
    send_batches(&site, &ALL_EXPORTS, &["--batch", "final"])
        .status(0)
        .contains("skipped, already sent          3");

    let got = sink.deliveries();
    let expected: BTreeMap<String, usize> = ["ana", "fay", "hal"]
        .iter()
        .map(|u| (format!("{u}@fabrikam.com"), 1))
        .collect();
    assert_eq!(got, expected, "each successful user exactly once");
    assert_eq!(
        batches(&site),
        pairs(&[
            ("ana", "batch-1"),
            ("fay", "batch-2"),
            ("hal", "batch-3-single")
        ])
    );

    let two = batch_report(&site, "batch-2");
    let users = two["campaigns"][0]["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["user_key"], "fay@contoso.com");
    let none = site
        .t2t()
        .args(["report", "--batch", "final"])
        .run()
        .status(0)
        .contains("No user of batch `final` in the ledger; its batches are: batch-1, batch-2, batch-3-single");
    assert!(none.stdout().contains("No deliveries recorded."));
}

#[test]
fn a_user_deferred_in_one_batch_keeps_that_batch_when_sent_later() {
    let refusing = Sink::options().soft_reject("RCPT").start();
    let mut site = Site::new(refusing.port).env("T2T_NOTIFY_TRANSPORT_MAX_ATTEMPTS", "1");
    site.open_gate();
    send_batches(&site, &["batch-1.csv"], &["--batch", "wave-1"]).status(5);
    assert_eq!(batches(&site), pairs(&[("ana", "wave-1")]));

    let healthy = Sink::start();
    site.port(healthy.port);
    send_batches(&site, &ALL_EXPORTS, &[]).status(0);
    assert_eq!(
        batches(&site),
        pairs(&[
            ("ana", "wave-1"),
            ("fay", "batch-2"),
            ("hal", "batch-3-single")
        ])
    );
    assert_eq!(healthy.messages().len(), 3);
    let states = site.states();
    assert!(states.values().all(|s| s == "sent"), "{states:?}");
}
