//! A minimal SMTP submission server on 127.0.0.1 port 0 that offers only `AUTH XOAUTH2` and
//! checks the SASL string like Exchange Online does: `user=<mailbox>^Aauth=Bearer <token>^A^A`
//! with a token the (HTTP) stand-in issued. It answers `535 5.7.3` otherwise, or when told to
//! refuse the next attempts, and records every AUTH string and every message. It can also drop
//! the connection on DATA, or once a message's content arrived, without answering.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::standin::StandIn;

/// What the SMTP stand-in saw.
#[derive(Default)]
pub struct Seen {
    /// Decoded XOAUTH2 initial responses, in order.
    pub auth: Vec<String>,
    /// (MAIL FROM, RCPT TO list, DATA bytes without the final dot line) per accepted message.
    pub messages: Vec<(String, Vec<String>, Vec<u8>)>,
    /// How many of the next AUTH attempts to refuse whatever they carry.
    pub refuse_next: usize,
    /// Where to close the connection without answering, if anywhere.
    pub drop_at: Option<DropAt>,
}

/// A point in a transaction where the stand-in can drop the connection.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DropAt {
    /// On the DATA command, before any content was sent.
    Data,
    /// Once the content arrived, before answering it.
    Content,
}

#[derive(Clone)]
pub struct SmtpStandIn {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Seen>>,
}

impl SmtpStandIn {
    /// Starts the server; tokens are checked against `tokens`, the user against `user`.
    pub async fn start(tokens: StandIn, user: &'static str) -> SmtpStandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let server = SmtpStandIn { addr, seen };
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (s, tokens) = (s.clone(), tokens.clone());
                tokio::spawn(async move { s.session(stream, tokens, user).await });
            }
        });
        server
    }

    async fn session(&self, stream: TcpStream, tokens: StandIn, user: &str) -> Option<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write
            .write_all(b"220 standin.example ESMTP\r\n")
            .await
            .ok()?;
        let (mut from, mut to, mut authed) = (String::new(), Vec::new(), false);
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await.ok()? == 0 {
                return None;
            }
            let upper = line.trim_end().to_ascii_uppercase();
            let answer: String = if upper.starts_with("EHLO") {
                "250-standin.example\r\n250-8BITMIME\r\n250-AUTH XOAUTH2\r\n250 SMTPUTF8\r\n".into()
            } else if upper.starts_with("AUTH XOAUTH2 ") {
                let arg = line.trim_end()["AUTH XOAUTH2 ".len()..].trim();
                let sasl = STANDARD
                    .decode(arg)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default();
                authed = self.check_auth(&sasl, &tokens, user);
                if authed {
                    "235 2.7.0 Authentication successful\r\n".into()
                } else {
                    "535 5.7.3 Authentication unsuccessful\r\n".into()
                }
            } else if upper.starts_with("MAIL FROM:") {
                if !authed {
                    "530 5.7.57 Client not authenticated to send mail\r\n".into()
                } else {
                    from = address(&line);
                    "250 2.1.0 Sender OK\r\n".into()
                }
            } else if upper.starts_with("RCPT TO:") {
                to.push(address(&line));
                "250 2.1.5 Recipient OK\r\n".into()
            } else if upper == "DATA" {
                if self.seen.lock().unwrap().drop_at == Some(DropAt::Data) {
                    return None;
                }
                write
                    .write_all(b"354 Start mail input; end with <CRLF>.<CRLF>\r\n")
                    .await
                    .ok()?;
                let data = read_data(&mut lines).await?;
                let mut seen = self.seen.lock().unwrap();
                seen.messages
                    .push((std::mem::take(&mut from), std::mem::take(&mut to), data));
                if seen.drop_at == Some(DropAt::Content) {
                    return None;
                }
                drop(seen);
                "250 2.0.0 OK queued as STANDIN\r\n".into()
            } else if upper == "RSET" || upper == "NOOP" {
                "250 2.0.0 OK\r\n".into()
            } else if upper == "QUIT" {
                write.write_all(b"221 2.0.0 Bye\r\n").await.ok()?;
                return Some(());
            } else {
                "502 5.5.2 Command not implemented\r\n".into()
            };
            write.write_all(answer.as_bytes()).await.ok()?;
        }
    }

    fn check_auth(&self, sasl: &str, tokens: &StandIn, user: &str) -> bool {
        let mut seen = self.seen.lock().unwrap();
        seen.auth.push(sasl.to_string());
        if seen.refuse_next > 0 {
            seen.refuse_next -= 1;
            return false;
        }
        let Some(rest) = sasl.strip_prefix(&format!("user={user}\x01auth=Bearer ")) else {
            return false;
        };
        let Some(token) = rest.strip_suffix("\x01\x01") else {
            return false;
        };
        tokens.accepts(token)
    }
}

fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line.rfind('>').unwrap_or(line.len());
    line[start..end].to_string()
}

async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let mut line = Vec::new();
        if lines.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        if line == b".\r\n" {
            return Some(data);
        }
        let unstuffed = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(unstuffed);
    }
}
