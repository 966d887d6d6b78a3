//! A real SMTP server with STARTTLS and AUTH (Debian's python3-aiosmtpd, run by the system
//! Python, not whatever `python3` is first on PATH) and a private CA made with `openssl` for it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::harness::fixture;
use crate::sink::free_port;

const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// A CA and a server certificate it signed, for `localhost` and 127.0.0.1.
pub struct TestPki {
    pub dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> TestPki {
        let dir = tempfile::tempdir().unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            dir.path(),
            &[
                &["req", "-x509"],
                &ec[..],
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=t2t-notify test CA",
                ],
            ]
            .concat(),
        );
        openssl(
            dir.path(),
            &[
                &["req"],
                &ec[..],
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=localhost",
                ],
            ]
            .concat(),
        );
        std::fs::write(
            dir.path().join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            dir.path(),
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        );
        TestPki { dir }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl: install the Debian package `openssl` (scripts/test.sh does)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The running server.
pub struct TlsServer {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
    received: PathBuf,
}

impl TlsServer {
    /// Starts the server with the PKI's certificate, accepting only `user`/`password`.
    pub fn start(pki: &TestPki, user: &str, password: &str) -> TlsServer {
        let received = pki.dir.path().join("received.txt");
        for _ in 0..10 {
            let port = free_port();
            let mut child = Command::new(SYSTEM_PYTHON)
                .arg(fixture("send/tls_smtp_server.py"))
                .arg(port.to_string())
                .arg(pki.dir.path().join("server.pem"))
                .arg(pki.dir.path().join("server.key"))
                .args([user, password])
                .arg(&received)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(std::fs::File::create(pki.dir.path().join("server.log")).unwrap())
                .spawn()
                .expect("start /usr/bin/python3: install the Debian package `python3-aiosmtpd` (scripts/test.sh does)");
            let stdin = child.stdin.take().unwrap();
            let mut line = String::new();
            let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
            if line.trim() == "READY" {
                return TlsServer {
                    child,
                    _stdin: stdin,
                    port,
                    received,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let log = std::fs::read_to_string(pki.dir.path().join("server.log")).unwrap_or_default();
        if log.contains("No module named") {
            panic!("Python's aiosmtpd is missing: install the Debian package `python3-aiosmtpd` (scripts/test.sh does)\n{log}");
        }
        panic!("the aiosmtpd test server did not start:\n{log}");
    }

    /// The recipients of every message it accepted.
    pub fn received(&self) -> Vec<String> {
        std::fs::read_to_string(&self.received)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
