//! The steps of one SMTP session (connect, TLS, authenticate; then MAIL, RCPT and DATA for each
//! message) with lettre's connection, keeping track of the phase a failure happened in. The
//! phase is what tells a message that surely did not arrive (the connection dropped before the
//! content was sent) from one that may have (dropped while waiting for the reply to the
//! content), which lettre's all-in-one `send` cannot tell apart: the first is retried, the
//! second is `uncertain` and only sent again on the admin's word (`--resend-uncertain`). That is
//! the reason these steps are ours and not lettre's pooled transport, for every kind of
//! authentication (password, none, XOAUTH2).

use std::future::Future;
use std::time::Duration;

use lettre::address::Envelope as LettreEnvelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Quit, Rcpt, Rset};
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::Error as SmtpError;

use super::{Endpoint, SmtpSettings};
use crate::config::Security;
use crate::diag::error_chain;
use crate::secret::Secret;
use crate::transport::FailureClass;

/// Where in the session a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// TCP, TLS, greeting, EHLO, STARTTLS, AUTH.
    Connect,
    Mail,
    Rcpt,
    Data,
    /// The message was being sent or its reply awaited.
    Content,
}

/// What went wrong.
#[derive(Debug)]
pub(super) enum FailureKind {
    /// The server answered with a negative reply.
    Reply { code: u16, text: String },
    /// No answer within the timeout.
    Timeout,
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
    /// The connection broke or the server's answer could not be read.
    Broken(String),
    /// Refused here before anything was sent, with the class it deserves.
    Local(FailureClass, String),
}

#[derive(Debug)]
pub(super) struct Failure {
    pub phase: Phase,
    pub kind: FailureKind,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            FailureKind::Reply { code, text } => write!(f, "{code} {text}"),
            FailureKind::Timeout => f.write_str("no answer in time"),
            FailureKind::Tls(detail) | FailureKind::Broken(detail) => f.write_str(detail),
            FailureKind::Local(_, text) => f.write_str(text),
        }
    }
}

impl Failure {
    pub fn new(phase: Phase, kind: FailureKind) -> Failure {
        Failure { phase, kind }
    }

    /// `535`: the server refused the credentials.
    pub fn is_auth_refusal(&self) -> bool {
        matches!(self.kind, FailureKind::Reply { code: 535, .. })
    }

    /// Refused while logging in because the account has too many connections already
    /// (`432 4.3.2`, Exchange's "sender thread limit exceeded").
    pub fn is_connection_limit(&self) -> bool {
        self.phase == Phase::Connect
            && matches!(&self.kind, FailureKind::Reply { code, text }
                if *code == 432 || (*code == 421 && text.starts_with("4.3.2")))
    }

    /// Whether the connection can still carry the next message (after a reset).
    pub fn leaves_connection_usable(&self) -> bool {
        matches!(self.kind, FailureKind::Reply { code, .. } if code != 421)
            || matches!(self.kind, FailureKind::Local(..))
    }
}

/// An open session, ready for MAIL.
pub(super) type Session = AsyncSmtpConnection;

/// Opens a session ready for MAIL: connected, encrypted as configured, authenticated with
/// `auth` (mechanism, username, secret) when given.
pub(super) async fn connect(
    endpoint: &Endpoint,
    auth: Option<(Mechanism, &str, &Secret)>,
) -> Result<Session, Failure> {
    let fail = |kind| Failure::new(Phase::Connect, kind);
    let SmtpSettings {
        host,
        port,
        security,
        timeout,
        ..
    } = &endpoint.settings;
    let (timeout, hello) = (*timeout, &endpoint.hello);
    let implicit_tls = match security {
        Security::Tls => endpoint.tls.clone(),
        _ => None,
    };
    let mut conn = timed(
        timeout,
        AsyncSmtpConnection::connect_tokio1(
            (host.as_str(), *port),
            Some(timeout),
            hello,
            implicit_tls,
            None,
        ),
    )
    .await
    .map_err(&fail)?;
    if *security == Security::Starttls {
        if !conn.can_starttls() {
            return Err(fail(FailureKind::Local(
                FailureClass::Fatal,
                format!(
                    "{host}:{port} does not offer STARTTLS; use security = \"tls\" for an implicit-TLS port (465), or check host and port"
                ),
            )));
        }
        let tls = endpoint
            .tls
            .clone()
            .expect("starttls always has TLS parameters");
        timed(timeout, conn.starttls(tls, hello))
            .await
            .map_err(&fail)?;
    }
    if let Some((mechanism, username, password)) = auth {
        let credentials = Credentials::new(username.to_string(), password.expose().to_string());
        timed(timeout, conn.auth(&[mechanism], &credentials))
            .await
            .map_err(&fail)?;
    }
    Ok(conn)
}

/// Opens the transaction for one message (MAIL, each RCPT, DATA, each waiting for its reply);
/// `Ok` once the server waits for the content.
pub(super) async fn open(
    conn: &mut Session,
    envelope: &LettreEnvelope,
    message_is_ascii: bool,
    timeout: Duration,
) -> Result<(), Failure> {
    let params = mail_parameters(conn, envelope, message_is_ascii)
        .map_err(|k| Failure::new(Phase::Mail, k))?;
    let mail = Mail::new(envelope.from().cloned(), params);
    timed(timeout, conn.command(mail))
        .await
        .map_err(|k| Failure::new(Phase::Mail, k))?;
    for address in envelope.to() {
        timed(timeout, conn.command(Rcpt::new(address.clone(), vec![])))
            .await
            .map_err(|k| Failure::new(Phase::Rcpt, k))?;
    }
    timed(timeout, conn.command(Data))
        .await
        .map(drop)
        .map_err(|k| Failure::new(Phase::Data, k))
}

/// Sends the content and reads its reply. Valid UTF-8 goes as one write of the dot-stuffed
/// block: lettre's `message` writes the content and the final `.` separately, and that
/// write-write-read pattern waits out Nagle's algorithm and the server's delayed ACK on every
/// message. Other bytes go through lettre's `message`, which stuffs and ends them itself.
pub(super) async fn content(
    conn: &mut Session,
    message: &[u8],
    timeout: Duration,
) -> Result<Response, FailureKind> {
    match String::from_utf8(data_block(message)) {
        Ok(block) => timed(timeout, conn.command(Block(&block))).await,
        Err(_) => timed(timeout, conn.message(message)).await,
    }
}

/// Text for one write.
struct Block<'a>(&'a str);

impl std::fmt::Display for Block<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// The DATA block: every line that starts with `.` gets another one (RFC 5321 4.5.2), and the
/// block ends with `CRLF . CRLF`. Lines are found with memchr and copied whole.
fn data_block(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    let mut line_start = 0;
    for lf in memchr::memchr_iter(b'\n', message) {
        if lf == 0 || message[lf - 1] != b'\r' {
            continue;
        }
        copy_line(&message[line_start..=lf], &mut out);
        line_start = lf + 1;
    }
    copy_line(&message[line_start..], &mut out);
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

fn copy_line(line: &[u8], out: &mut Vec<u8>) {
    if line.first() == Some(&b'.') {
        out.push(b'.');
    }
    out.extend_from_slice(line);
}

/// Clears a refused transaction so the session can carry the next message.
pub(super) async fn reset(conn: &mut AsyncSmtpConnection, timeout: Duration) -> bool {
    timed(timeout, conn.command(Rset)).await.is_ok()
}

/// Ends a session politely.
pub(super) async fn quit(mut conn: AsyncSmtpConnection, timeout: Duration) {
    let _ = timed(timeout, conn.command(Quit)).await;
}

/// `BODY=8BITMIME` and `SMTPUTF8` when the message or addresses need them and the server
/// offers them; a refusal for this message when it does not.
fn mail_parameters(
    conn: &AsyncSmtpConnection,
    envelope: &LettreEnvelope,
    message_is_ascii: bool,
) -> Result<Vec<MailParameter>, FailureKind> {
    let info = conn.server_info();
    let mut params = Vec::new();
    let non_ascii = |a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii();
    if envelope.from().is_some_and(non_ascii) || envelope.to().iter().any(non_ascii) {
        if !info.supports_feature(Extension::SmtpUtfEight) {
            return Err(FailureKind::Local(
                FailureClass::Permanent,
                "an address has non-ASCII characters and the server does not offer SMTPUTF8".into(),
            ));
        }
        params.push(MailParameter::SmtpUtfEight);
    }
    if !message_is_ascii {
        if !info.supports_feature(Extension::EightBitMime) {
            return Err(FailureKind::Local(
                FailureClass::Permanent,
                "the message has 8-bit content and the server does not offer 8BITMIME".into(),
            ));
        }
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    Ok(params)
}

/// Runs one step with a time limit and turns lettre's error into a [`FailureKind`] by type.
async fn timed<T>(
    limit: Duration,
    step: impl Future<Output = Result<T, SmtpError>>,
) -> Result<T, FailureKind> {
    match tokio::time::timeout(limit, step).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(kind_of(&e)),
        Err(_) => Err(FailureKind::Timeout),
    }
}

fn kind_of(e: &SmtpError) -> FailureKind {
    if let Some(code) = e.status() {
        let text = std::error::Error::source(e)
            .map(ToString::to_string)
            .unwrap_or_default();
        return FailureKind::Reply {
            code: code.into(),
            text,
        };
    }
    if e.is_timeout() {
        return FailureKind::Timeout;
    }
    let detail = error_chain(e);
    if e.is_tls() || is_tls_failure(e) {
        FailureKind::Tls(detail)
    } else {
        FailureKind::Broken(detail)
    }
}

/// Whether rustls is somewhere in the error's causes (lettre reports a failed handshake as a
/// connection error; the rustls error inside says what it really was).
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(cause) = current {
        let inner_io = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .is_some_and(|inner| inner.is::<rustls::Error>());
        if inner_io || cause.is::<rustls::Error>() {
            return true;
        }
        current = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::data_block;

    #[test]
    fn leading_dots_are_doubled_and_the_block_is_terminated_once() {
        assert_eq!(
            data_block(b".a\r\nb\r\n.\r\n..c\r\n"),
            b"..a\r\nb\r\n..\r\n...c\r\n.\r\n"
        );
        assert_eq!(data_block(b"no newline"), b"no newline\r\n.\r\n");
        assert_eq!(data_block(b""), b"\r\n.\r\n");
        assert_eq!(
            data_block(b"a\n.b\r\n"),
            b"a\n.b\r\n.\r\n",
            "only CRLF ends a line"
        );
        assert_eq!(data_block(b"\n.a\r\n.b"), b"\n.a\r\n..b\r\n.\r\n");
        assert_eq!(data_block(b"a\r\n"), b"a\r\n.\r\n");
    }
}
