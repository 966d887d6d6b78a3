//! No clear text to another host and no way to turn certificate checks off: `security = "none"`
//! (and plain-HTTP Graph or token URLs) to anything but loopback is refused with exit 2 before
//! a connection; no key or variable disables verification; a self-signed server, or one whose
//! certificate names another host, fails without being sent anything.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::process::Command;

use super::support::assert_never_connected;
use crate::send::helpers::Site;
use crate::tls_server::{TestPki, TlsServer};

const USER: &str = "it-migration@fabrikam.com";
const PASSWORD: &str = "correct horse";

/// A listener on every local address, so a connection to any of them is seen.
fn listener_on_all() -> TcpListener {
    let l = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    l.set_nonblocking(true).unwrap();
    l
}

/// This machine's own non-loopback address, if it has one (a UDP connect sends nothing).
fn own_address() -> Option<String> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then(|| ip.to_string())
}

#[test]
fn clear_text_to_anything_but_loopback_is_refused_before_connecting() {
    let l = listener_on_all();
    let port = l.local_addr().unwrap().port().to_string();
    let mut hosts = vec!["0.0.0.0".to_string(), "localhost.localdomain".to_string()];
    hosts.extend(own_address());
    for host in &hosts {
        for auth in ["none", "xoauth2"] {
            let site = Site::new(1)
                .env("T2T_NOTIFY_TRANSPORT_HOST", host)
                .env("T2T_NOTIFY_TRANSPORT_PORT", &port)
                .env("T2T_NOTIFY_TRANSPORT_AUTH", auth)
                .env("T2T_NOTIFY_TRANSPORT_USERNAME", USER)
                .env(
                    "T2T_NOTIFY_TRANSPORT_TENANT_ID",
                    "3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15",
                )
                .env(
                    "T2T_NOTIFY_TRANSPORT_CLIENT_ID",
                    "0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b",
                )
                .env("T2T_NOTIFY_TRANSPORT_CLIENT_SECRET_ENV", "PATH");
            site.open_gate();
            for extra in [&[][..], &["--test-to", "admin@fabrikam.com"][..]] {
                site.send(extra)
                    .status(2)
                    .contains(&format!("security = \"none\" sends passwords and notices in clear text; it is only allowed for a server on this machine (localhost), not {host}"));
            }
        }
    }
    for key in ["GRAPH_URL", "AUTHORITY"] {
        let site = Site::new(1)
            .env("T2T_NOTIFY_TRANSPORT_KIND", "graph")
            .env("T2T_NOTIFY_TRANSPORT_SENDER", USER)
            .env(
                "T2T_NOTIFY_TRANSPORT_TENANT_ID",
                "3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15",
            )
            .env(
                "T2T_NOTIFY_TRANSPORT_CLIENT_ID",
                "0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b",
            )
            .env("T2T_NOTIFY_TRANSPORT_CLIENT_SECRET_ENV", "PATH")
            .env(
                &format!("T2T_NOTIFY_TRANSPORT_{key}"),
                &format!("http://0.0.0.0:{port}"),
            );
        site.open_gate();
        site.send(&[])
            .status(2)
            .contains("must start with https://");
    }
    assert_never_connected(&l);
}

#[test]
fn no_key_or_value_turns_certificate_checks_off() {
    for key in [
        "INSECURE",
        "VERIFY",
        "TLS_VERIFY",
        "VERIFY_CERTIFICATE",
        "SKIP_VERIFY",
        "DANGER_ACCEPT_INVALID_CERTS",
        "ACCEPT_INVALID_HOSTNAMES",
    ] {
        let name = format!("T2T_NOTIFY_TRANSPORT_{key}");
        let value = if key.contains("VERIFY") {
            "false"
        } else {
            "true"
        };
        Site::new(1)
            .env(&name, value)
            .send(&[])
            .status(2)
            .contains(&format!("unknown field `{}`", key.to_ascii_lowercase()));
    }
    let run = Site::new(1)
        .env("T2T_NOTIFY_TRANSPORT_SECURITY", "starttls-no-verify")
        .send(&[])
        .status(2);
    assert!(
        run.stderr()
            .contains("expected one of `starttls`, `tls`, `none`"),
        "the only values: {}",
        run.stderr()
    );
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Replaces the PKI's server certificate with a self-signed one for 127.0.0.1.
fn self_signed(pki: &TestPki) {
    openssl(
        pki.dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
    );
}

/// Replaces the server certificate with one the PKI's CA signed for another host name only.
fn signed_for_another_host(pki: &TestPki) {
    let dir = pki.dir.path();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "other.csr",
            "-subj",
            "/CN=mail.fabrikam.example",
        ],
    );
    std::fs::write(
        dir.join("other.cnf"),
        "subjectAltName=DNS:mail.fabrikam.example\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "other.csr",
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
            "other.cnf",
        ],
    );
}

fn starttls_site(port: u16) -> Site {
    Site::new(port)
        .env("T2T_NOTIFY_TRANSPORT_SECURITY", "starttls")
        .env("T2T_NOTIFY_TRANSPORT_AUTH", "login")
        .env("T2T_NOTIFY_TRANSPORT_USERNAME", USER)
        .env(
            "T2T_NOTIFY_TRANSPORT_PASSWORD_ENV",
            "T2T_TEST_SMTP_PASSWORD",
        )
        .env("T2T_TEST_SMTP_PASSWORD", PASSWORD)
}

#[test]
fn a_self_signed_server_or_a_certificate_for_another_host_fails_and_gets_nothing() {
    let pki = TestPki::new();
    self_signed(&pki);
    let server = TlsServer::start(&pki, USER, PASSWORD);
    let site = starttls_site(server.port);
    site.open_gate();
    site.send(&[]).status(1).contains("TLS").contains("ca_file");
    assert!(server.received().is_empty());
    assert!(site.states().is_empty(), "nobody recorded");
    drop(server);

    let pki = TestPki::new();
    signed_for_another_host(&pki);
    let server = TlsServer::start(&pki, USER, PASSWORD);
    let site =
        starttls_site(server.port).env("T2T_NOTIFY_TRANSPORT_CA_FILE", pki.ca().to_str().unwrap());
    site.open_gate();
    site.send(&[]).status(1).contains("TLS");
    assert!(
        server.received().is_empty(),
        "the CA is trusted, the name is not"
    );
}
