//! A small SMTP server on 127.0.0.1 that accepts everything and records what smtp-sink cannot
//! show: how many sessions were opened. It can refuse a connection beyond a number open at once
//! the way Exchange Online does (`432 4.3.2 ... sender thread limit exceeded`). It answers every
//! complete command of a read, then writes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What the peer saw, over all its sessions.
#[derive(Default)]
pub struct Seen {
    pub sessions: AtomicUsize,
    pub messages: AtomicUsize,
    /// Sessions open right now.
    pub open: AtomicUsize,
    /// Connections refused for being one too many.
    pub refused: AtomicUsize,
}

pub struct Peer {
    pub port: u16,
    pub seen: Arc<Seen>,
}

impl Peer {
    pub fn start() -> Peer {
        Peer::launch(usize::MAX)
    }

    /// A peer that refuses every connection beyond `max` open at once with `432 4.3.2`.
    pub fn limiting_connections(max: usize) -> Peer {
        Peer::launch(max)
    }

    fn launch(max: usize) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        let shared = Arc::clone(&seen);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                if shared.open.load(Ordering::SeqCst) >= max {
                    shared.refused.fetch_add(1, Ordering::SeqCst);
                    let _ = stream.write_all(
                        b"432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded\r\n",
                    );
                    continue;
                }
                shared.sessions.fetch_add(1, Ordering::SeqCst);
                shared.open.fetch_add(1, Ordering::SeqCst);
                let seen = Arc::clone(&shared);
                std::thread::spawn(move || {
                    serve(stream, &seen);
                    seen.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Peer { port, seen }
    }

    pub fn count(&self, what: impl Fn(&Seen) -> &AtomicUsize) -> usize {
        what(&self.seen).load(Ordering::SeqCst)
    }
}

fn serve(mut stream: TcpStream, seen: &Seen) {
    let _ = stream.write_all(b"220 peer ESMTP\r\n");
    let mut pending = Vec::new();
    let mut in_data = false;
    let mut buf = vec![0; 256 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut replies = String::new();
        while let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = pending.drain(..end + 2).collect();
            let line = String::from_utf8_lossy(&line[..end]).to_string();
            if in_data {
                if line == "." {
                    in_data = false;
                    let n = seen.messages.fetch_add(1, Ordering::SeqCst) + 1;
                    replies.push_str(&format!("250 2.0.0 Ok: queued as {n}\r\n"));
                }
                continue;
            }
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" => replies.push_str("250-peer\r\n250 8BITMIME\r\n"),
                "DATA" => {
                    in_data = true;
                    replies.push_str("354 End data with <CR><LF>.<CR><LF>\r\n");
                }
                "QUIT" => {
                    replies.push_str("221 2.0.0 Bye\r\n");
                    let _ = stream.write_all(replies.as_bytes());
                    return;
                }
                _ => replies.push_str("250 2.0.0 Ok\r\n"),
            }
        }
        if stream.write_all(replies.as_bytes()).is_err() {
            return;
        }
    }
}
