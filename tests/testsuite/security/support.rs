//! What the security tests share: a listener that proves nothing connected to it, files written
//! into a test folder, and `preview` of a mapping and directory with the sample config.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::harness::{sample_config, t2t, T2t};

/// A listener on 127.0.0.1 that counts every connection made to it.
pub fn listener() -> TcpListener {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    l
}

/// Fails when anything connected to `l`.
pub fn assert_never_connected(l: &TcpListener) {
    match l.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("something connected: {other:?}"),
    }
}

/// Writes `content` to `dir/name`.
pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// `preview --mapping M --directory D --out OUT` with the sample config.
pub fn preview_into(mapping: &Path, directory: &Path, out: &Path) -> T2t {
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["preview", "--mapping"])
        .arg(mapping)
        .arg("--directory")
        .arg(directory)
        .arg("--out")
        .arg(out)
}
