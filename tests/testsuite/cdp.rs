//! A minimal Chrome DevTools Protocol client for browser tests: starts the system Chromium
//! headless with a fresh profile, talks to it over its WebSocket on 127.0.0.1, and records
//! console messages and exceptions. Chromium missing is a test failure, never a skip.

#![allow(dead_code)]

use std::io::ErrorKind;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long to wait for Chromium to start or answer before failing (a safeguard, not a goal).
const PATIENCE: Duration = Duration::from_secs(90);

/// The Chromium binary: `T2T_CHROMIUM`, else the Debian package's `/usr/bin/chromium`.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("T2T_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// A running headless Chromium.
pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Every event received so far (`method`, `params`, `sessionId`).
    pub events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium; panics with what to install when it is missing.
    pub fn launch() -> Browser {
        let exe = chromium_path();
        assert!(
            exe.exists(),
            "Chromium is not installed at {}: install the Debian package `chromium` (scripts/test.sh does) or set T2T_CHROMIUM",
            exe.display()
        );
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(&exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let (port, path) = wait_for_port(profile.path());
        let (ws, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}{path}"))
            .expect("connect to Chromium's DevTools");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(PATIENCE)).unwrap();
        }
        Browser {
            child,
            ws,
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        }
    }

    /// Sends a command (to a page when `session` is given) and returns its result.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to Chromium");
        loop {
            let v = self.receive();
            if v["id"] == json!(id) {
                if let Some(err) = v.get("error") {
                    panic!("{method} failed: {err}");
                }
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    /// Waits for an event `method`, looking at those already received first.
    pub fn wait_event(&mut self, method: &str) -> Value {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            return self.events.remove(i);
        }
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            let v = self.receive();
            if v["method"] == method {
                return v;
            }
            self.events.push(v);
        }
        panic!("no {method} event from Chromium");
    }

    fn receive(&mut self) -> Value {
        loop {
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    return serde_json::from_str(t.as_str()).expect("JSON from Chromium")
                }
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                    panic!("Chromium did not answer")
                }
                Err(e) => panic!("lost Chromium: {e}"),
            }
        }
    }

    /// Opens a new tab attached with its own session; returns the session ID.
    pub fn new_page(&mut self, width: u32, height: u32) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        for method in ["Page.enable", "Runtime.enable", "Log.enable"] {
            self.call(Some(&session), method, json!({}));
        }
        self.call(
            Some(&session),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        session
    }

    /// Loads `url` in the page and waits for its load event.
    pub fn navigate(&mut self, session: &str, url: &str) {
        self.events.retain(|e| e["method"] != "Page.loadEventFired");
        self.call(Some(session), "Page.navigate", json!({"url": url}));
        self.wait_event("Page.loadEventFired");
    }

    /// Evaluates `expression` in the page and returns its JSON value.
    pub fn eval(&mut self, session: &str, expression: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("{expression} threw: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Saves a PNG of the page's viewport to `path`.
    pub fn screenshot(&mut self, session: &str, path: &Path) {
        use base64::Engine;
        let r = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({"format": "png"}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().expect("png data"))
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Console errors, uncaught exceptions and error log entries seen so far.
    pub fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e["method"].as_str()? {
                "Runtime.exceptionThrown" => {
                    Some(format!("exception: {}", e["params"]["exceptionDetails"]))
                }
                "Runtime.consoleAPICalled"
                    if matches!(e["params"]["type"].as_str(), Some("error" | "assert")) =>
                {
                    Some(format!(
                        "console.{}: {}",
                        e["params"]["type"], e["params"]["args"]
                    ))
                }
                "Log.entryAdded" if e["params"]["entry"]["level"] == "error" => {
                    Some(format!("log: {}", e["params"]["entry"]))
                }
                _ => None,
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.ws.send(Message::text(
            json!({"id": 0, "method": "Browser.close"}).to_string(),
        ));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `DevToolsActivePort` (port, then browser path) once Chromium has written it.
fn wait_for_port(profile: &Path) -> (u16, String) {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return (
                    port.trim().parse().expect("port number"),
                    path.trim().to_string(),
                );
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "Chromium did not start within {PATIENCE:?} (no {})",
        file.display()
    );
}
