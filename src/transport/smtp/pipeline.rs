//! SMTP PIPELINING (RFC 2920): MAIL, the RCPTs and, for a single recipient, DATA go out in one
//! write and their replies are read in order. With several recipients DATA waits for the RCPT
//! replies: once a server has said `354` to DATA, the only way not to deliver to the recipients
//! it accepted would be to drop the connection. The envelope can also ride behind the previous
//! message's content ([`super::lane`]), so a message costs one round trip.
//!
//! The first refusal is the answer (a refused RCPT fails the message as it does without
//! pipelining); the replies after it are still read, so the session stays in step.

use std::time::Duration;

use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::response::Response;
use lettre::Address;

use super::session::{data, timed, Block, Failure, FailureKind, Phase};

/// Sends the envelope (MAIL, RCPTs, DATA) pipelined; `Ok` once the server waits for the content.
pub(super) async fn envelope(
    conn: &mut AsyncSmtpConnection,
    mail: Mail,
    to: &[Address],
    timeout: Duration,
) -> Result<(), Failure> {
    let group = commands(mail, to);
    let first = timed(timeout, conn.command(Block(&group))).await;
    replies(conn, first, to, timeout).await
}

/// Reads the replies to an envelope that is already on its way, the MAIL reply first; `Ok`
/// once the server waits for the content.
pub(super) async fn replies(
    conn: &mut AsyncSmtpConnection,
    mail_reply: Result<Response, FailureKind>,
    to: &[Address],
    timeout: Duration,
) -> Result<(), Failure> {
    let mut first = None;
    note(&mut first, Phase::Mail, mail_reply)?;
    for _ in to {
        let reply = timed(timeout, conn.read_response()).await;
        note(&mut first, Phase::Rcpt, reply)?;
    }
    if !with_data(to) {
        return match first {
            Some(refused) => Err(refused),
            None => data(conn, timeout).await,
        };
    }
    let reply = timed(timeout, conn.read_response()).await;
    match (first, reply) {
        (None, reply) => reply.map(drop).map_err(|k| Failure::new(Phase::Data, k)),
        (Some(refused), Ok(_)) => {
            // DATA accepted although its only recipient was refused: end the empty message.
            let _ = timed(timeout, conn.command(Block(".\r\n"))).await;
            Err(refused)
        }
        (Some(refused), Err(_)) => Err(refused),
    }
}

/// DATA goes in the same group as the envelope only for a single recipient.
fn with_data(to: &[Address]) -> bool {
    to.len() == 1
}

/// The commands of one envelope as one block of text.
pub(super) fn commands(mail: Mail, to: &[Address]) -> String {
    let mut group = mail.to_string();
    for address in to {
        group.push_str(&Rcpt::new(address.clone(), vec![]).to_string());
    }
    if with_data(to) {
        group.push_str(&Data.to_string());
    }
    group
}

/// Takes one reply into account: the first refusal is kept and reading goes on; a lost
/// connection ends the envelope (with the refusal before it, if any, as the answer).
fn note(
    first: &mut Option<Failure>,
    phase: Phase,
    reply: Result<Response, FailureKind>,
) -> Result<(), Failure> {
    match reply {
        Ok(_) => Ok(()),
        Err(kind @ FailureKind::Reply { .. }) => {
            if first.is_none() {
                *first = Some(Failure::new(phase, kind));
            }
            Ok(())
        }
        Err(kind) => Err(first.take().unwrap_or_else(|| Failure::new(phase, kind))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(a: &str) -> Address {
        a.parse().unwrap()
    }

    fn refusal(code: u16) -> Result<Response, FailureKind> {
        Err(FailureKind::Reply {
            code,
            text: "refused".into(),
        })
    }

    #[test]
    fn one_recipient_sends_data_in_the_same_write() {
        let mail = Mail::new(Some(address("it@fabrikam.com")), vec![]);
        assert_eq!(
            commands(mail, &[address("ana@fabrikam.com")]),
            "MAIL FROM:<it@fabrikam.com>\r\nRCPT TO:<ana@fabrikam.com>\r\nDATA\r\n"
        );
        let mail = Mail::new(Some(address("it@fabrikam.com")), vec![]);
        let two = [address("a@fabrikam.com"), address("a@contoso.com")];
        assert_eq!(
            commands(mail, &two),
            "MAIL FROM:<it@fabrikam.com>\r\nRCPT TO:<a@fabrikam.com>\r\nRCPT TO:<a@contoso.com>\r\n"
        );
    }

    #[test]
    fn the_first_refusal_is_the_answer_and_reading_goes_on() {
        let mut first = None;
        note(&mut first, Phase::Rcpt, refusal(550)).unwrap();
        note(&mut first, Phase::Data, refusal(554)).unwrap();
        let answer = first.unwrap();
        assert_eq!(answer.phase, Phase::Rcpt);
        assert!(matches!(answer.kind, FailureKind::Reply { code: 550, .. }));
    }

    #[test]
    fn a_lost_connection_ends_with_the_earlier_refusal_or_itself() {
        let mut first = None;
        let lost = note(&mut first, Phase::Mail, Err(FailureKind::Timeout)).unwrap_err();
        assert_eq!(lost.phase, Phase::Mail);
        assert!(matches!(lost.kind, FailureKind::Timeout));
        note(&mut first, Phase::Mail, refusal(421)).unwrap();
        let answer = note(
            &mut first,
            Phase::Rcpt,
            Err(FailureKind::Broken("eof".into())),
        )
        .unwrap_err();
        assert!(matches!(answer.kind, FailureKind::Reply { code: 421, .. }));
    }
}
