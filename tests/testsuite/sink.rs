//! Postfix's `smtp-sink` on 127.0.0.1 as a real SMTP server for the sending tests: a free port,
//! fault options (soft and hard rejects, disconnects, 421), every message dumped into a temp
//! folder so tests can count recipients, killed and restarted on the same port for crash tests,
//! and the process stopped by its PID on drop.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

/// A running smtp-sink.
pub struct Sink {
    child: Child,
    pub port: u16,
    dump: tempfile::TempDir,
    args: Vec<String>,
    /// How many times it was started: each start names its dumps apart.
    starts: u32,
}

/// Options for the next sink.
#[derive(Default, Clone)]
pub struct SinkOptions {
    args: Vec<String>,
}

impl SinkOptions {
    /// Soft-reject (4xx) these commands: `RCPT`, `DATA`, `.`.
    pub fn soft_reject(mut self, commands: &str) -> Self {
        self.args.extend(["-r".into(), commands.into()]);
        self
    }
    /// Hard-reject (5xx) these commands.
    pub fn hard_reject(mut self, commands: &str) -> Self {
        self.args.extend(["-f".into(), commands.into()]);
        self
    }
    /// Drop the connection without a reply after these commands.
    pub fn disconnect_after(mut self, commands: &str) -> Self {
        self.args.extend(["-q".into(), commands.into()]);
        self
    }
    /// Reply `421` and disconnect after these commands.
    pub fn reply_421_after(mut self, commands: &str) -> Self {
        self.args.extend(["-Q".into(), commands.into()]);
        self
    }
    /// Use this reply for hard rejects, e.g. `550 5.1.1 User unknown`.
    pub fn hard_reply(mut self, reply: &str) -> Self {
        self.args.extend(["-B".into(), reply.into()]);
        self
    }
    /// Use this reply for soft rejects, e.g. `421 4.4.2 Message submission rate exceeded`.
    pub fn soft_reply(mut self, reply: &str) -> Self {
        self.args.extend(["-b".into(), reply.into()]);
        self
    }
    /// Do not announce PIPELINING: the client must wait for each reply.
    pub fn without_pipelining(mut self) -> Self {
        self.args.push("-p".into());
        self
    }
    /// Wait this many seconds before replying to each DATA: messages stay in flight that long.
    pub fn data_delay(mut self, seconds: u32) -> Self {
        self.args.extend(["-w".into(), seconds.to_string()]);
        self
    }
    /// Starts the sink.
    pub fn start(self) -> Sink {
        Sink::start_with(&self.args)
    }
}

/// One message as the sink dumped it.
#[derive(Debug, Clone)]
pub struct Dumped {
    pub recipients: Vec<String>,
    pub text: String,
}

impl Sink {
    /// A sink that accepts everything.
    pub fn start() -> Sink {
        SinkOptions::default().start()
    }

    /// Options for a sink with faults.
    pub fn options() -> SinkOptions {
        SinkOptions::default()
    }

    fn start_with(args: &[String]) -> Sink {
        let dump = tempfile::tempdir().expect("temp dir for the sink's dumps");
        if as_root(&dump) {
            // smtp-sink refuses to run as root without -u; `nobody` must be able to write dumps.
            std::fs::set_permissions(dump.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        for _ in 0..20 {
            let port = free_port();
            if let Some(child) = spawn_listening(args, &dump, port, 1) {
                return Sink {
                    child,
                    port,
                    dump,
                    args: args.to_vec(),
                    starts: 1,
                };
            }
        }
        panic!("smtp-sink did not start on any free port");
    }

    /// Kills the sink with SIGKILL, as a crashing server dies: connections drop mid-command.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the sink again on the same port and dump folder (after [`Sink::kill`]).
    pub fn restart(&mut self) {
        self.kill();
        self.starts += 1;
        for _ in 0..50 {
            if let Some(child) = spawn_listening(&self.args, &self.dump, self.port, self.starts) {
                self.child = child;
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("smtp-sink did not restart on port {}", self.port);
    }

    /// The PID, for tests that stop it themselves.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many transactions were dumped so far (cheap: only counts files).
    pub fn count(&self) -> usize {
        std::fs::read_dir(self.dump.path())
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Every message dumped so far.
    pub fn messages(&self) -> Vec<Dumped> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dump.path()).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            let recipients = text
                .lines()
                .take_while(|l| !l.is_empty())
                .filter_map(|l| l.strip_prefix("X-Rcpt-Args: "))
                .map(|a| {
                    a.split_whitespace()
                        .next()
                        .unwrap_or("")
                        .trim_matches(['<', '>'])
                        .to_string()
                })
                .collect();
            out.push(Dumped { recipients, text });
        }
        out
    }

    /// How many messages each recipient got.
    pub fn deliveries(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for m in self.messages() {
            for r in m.recipients {
                *counts.entry(r.to_lowercase()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The folder the messages are dumped into.
    pub fn dump_dir(&self) -> PathBuf {
        self.dump.path().to_path_buf()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn as_root(dump: &tempfile::TempDir) -> bool {
    std::fs::metadata(dump.path())
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Runs smtp-sink on `port` dumping into `dump`; `None` if it did not listen there. Each start
/// of a sink has its own file prefix: smtp-sink names dumps with a pseudo-random number whose
/// seed a restart can repeat, and it dies ("mail_file_open: something is looping") when the
/// names it draws are all taken.
fn spawn_listening(
    args: &[String],
    dump: &tempfile::TempDir,
    port: u16,
    start: u32,
) -> Option<Child> {
    let mut cmd = Command::new(SMTP_SINK);
    if as_root(dump) {
        cmd.args(["-u", "nobody"]);
    }
    cmd.args(args)
        .arg("-d")
        .arg(dump.path().join(format!("m{start}.")))
        .arg(format!("127.0.0.1:{port}"))
        .arg("1024")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {SMTP_SINK}: {e}; install the Debian package `postfix` (scripts/test.sh does)"));
    if wait_until_listening(&mut child, port) {
        return Some(child);
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A port nobody listens on right now (the OS picks it; the sink binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on the port; false if the child died first.
pub fn wait_until_listening(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            // A connection to itself (the OS can pick the port as this socket's own) is not
            // the child listening; nor is anything else once the child has exited.
            let own = stream.local_addr().ok() == stream.peer_addr().ok();
            if !own && matches!(child.try_wait(), Ok(None)) {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
