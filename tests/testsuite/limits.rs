//! Field limits of the mapping and directory files end to end: a 50 MB field is a located
//! error, and reading it keeps memory flat (the child's peak RSS from `/proc/<pid>/status`); a
//! row of empty fields is an error with its line.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::Stdio;

use crate::harness::*;

const T: &str = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01";

/// Runs `cmd` to the end and returns its exit status, stderr and peak resident memory in KB
/// (the largest `VmHWM` of `/proc/<pid>/status` seen while it ran: `wait4`'s maximum would also
/// count the test process it was forked from).
fn run_measured(cmd: T2t, dir: &std::path::Path) -> (i32, String, u64) {
    let err = dir.join("stderr.txt");
    let mut cmd = cmd.command();
    cmd.stdout(Stdio::null())
        .stderr(File::create(&err).unwrap());
    let mut child = cmd.spawn().unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            peak = peak.max(vm_hwm_kb(&text));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let stderr = std::fs::read_to_string(&err).unwrap();
    (status.code().unwrap_or(-1), stderr, peak)
}

fn vm_hwm_kb(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_50_mb_sixth_field_is_a_located_error_read_in_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("identity-map.csv");
    let mut w = BufWriter::new(File::create(&mapping).unwrap());
    write!(
        w,
        "User,{T},a@contoso.com,a@fabrikam.com,a@fabrikam.com,RegularUser\r\n"
    )
    .unwrap();
    write!(w, "User,{T},b@contoso.com,b@fabrikam.com,b@fabrikam.com,").unwrap();
    let chunk = vec![b'R'; 1024 * 1024];
    for _ in 0..50 {
        w.write_all(&chunk).unwrap();
    }
    w.write_all(b"\r\n").unwrap();
    w.flush().unwrap();
    drop(w);
    let (code, stderr, max_rss_kb) = run_measured(
        t2t().args(["validate", "--mapping"]).arg(&mapping),
        dir.path(),
    );
    assert_eq!(code, 2, "{stderr}");
    let located = format!("{}:2: column 6 (user type): is too long", mapping.display());
    assert!(stderr.contains(&located), "{stderr}");
    assert!(
        max_rss_kb > 0 && max_rss_kb < 40 * 1024,
        "peak RSS {max_rss_kb} KB: the 50 MB field was read into memory"
    );
}

#[test]
fn a_row_of_empty_fields_is_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("identity-map.csv");
    std::fs::write(
        &mapping,
        format!("User,{T},a@contoso.com,a@fabrikam.com,a@fabrikam.com,RegularUser\r\n,,,,,\r\n"),
    )
    .unwrap();
    t2t()
        .args(["validate", "--mapping"])
        .arg(&mapping)
        .run()
        .status(2)
        .contains(&format!("{}:2: ", mapping.display()))
        .contains("every field of this row is empty");
}

#[test]
fn a_50_mb_display_name_in_the_directory_is_a_located_error_read_in_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("identity-map.csv");
    let rows: String = ["a", "b", "c"]
        .iter()
        .map(|u| {
            format!("User,{T},{u}@contoso.com,{u}@fabrikam.com,{u}@fabrikam.com,RegularUser\r\n")
        })
        .collect();
    std::fs::write(&mapping, rows).unwrap();
    let directory = dir.path().join("directory.csv");
    let mut w = BufWriter::new(File::create(&directory).unwrap());
    w.write_all(b"UserPrincipalName,DisplayName,GivenName,Mail\r\n")
        .unwrap();
    w.write_all(b"a@fabrikam.com,Ana,Ana,a@fabrikam.com\r\n")
        .unwrap();
    w.write_all(b"b@fabrikam.com,\"").unwrap();
    let chunk = vec![b'N'; 1024 * 1024];
    for _ in 0..50 {
        w.write_all(&chunk).unwrap();
    }
    w.write_all(b"\",Bo,b@fabrikam.com\r\n").unwrap();
    write!(
        w,
        "c@fabrikam.com,Cy,{},c@fabrikam.com\r\n",
        "G".repeat(300)
    )
    .unwrap();
    w.flush().unwrap();
    drop(w);
    let (code, stderr, max_rss_kb) = run_measured(
        t2t()
            .args(["validate", "--mapping"])
            .arg(&mapping)
            .arg("--directory")
            .arg(&directory),
        dir.path(),
    );
    assert_eq!(code, 2, "{stderr}");
    let d = directory.display();
    assert!(
        stderr.contains(&format!(
            "{d}:3: column 2 (DisplayName): is too long: the row passes 64 KB"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{d}:4: column 3 (GivenName): `GGG"))
            && stderr.contains("is too long for a given name (at most 256 characters)"),
        "every error of the file is reported: {stderr}"
    );
    assert!(
        max_rss_kb > 0 && max_rss_kb < 40 * 1024,
        "peak RSS {max_rss_kb} KB: the 50 MB field was read into memory"
    );
}
