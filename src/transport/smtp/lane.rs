//! The SMTP transport's connections. Each lane is a task that owns one session (opened when it
//! first has a message, opened again after the server dropped it) and takes messages from a
//! queue all lanes share, so a run never holds more than `connections` sessions, however many
//! messages wait.
//!
//! With a server that offers PIPELINING, a lane writes the next waiting message's envelope in
//! the same write as this message's content (RFC 2920 3.1 lets the content open a command
//! group): one round trip per message instead of two. The reply to the content comes first and
//! settles this message; the replies after it belong to the next one. The next message's
//! content only leaves after its own `354`, so nothing that happens to this message can deliver
//! the next one by accident: if the connection is lost, the next content never left, and the
//! next message starts again on a new session.
//!
//! A quota or fatal reply halts the queue at once (as does the engine when the run stops for
//! another reason): waiting messages come back withdrawn, unsent, and no new one starts.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use lettre::address::Envelope as LettreEnvelope;
use lettre::transport::smtp::response::Response;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

use super::pipeline;
use super::session::{self, data_block, timed, Block, Failure, FailureKind, Group, Phase, Session};
use super::Endpoint;
use crate::transport::{FailureClass, SendError};

/// What the server said to one message, or why it did not get there.
pub(super) type Outcome = Result<Response, SendError>;

/// One message for a lane, and where its outcome goes.
pub(super) struct Request {
    envelope: LettreEnvelope,
    content: Content,
    ascii: bool,
    reply: oneshot::Sender<Outcome>,
    /// Already moved once to a new session after its envelope met a closed one.
    moved: bool,
}

impl Request {
    pub fn new(
        envelope: LettreEnvelope,
        message: &[u8],
        reply: oneshot::Sender<Outcome>,
    ) -> Request {
        Request {
            envelope,
            content: Content::of(message),
            ascii: message.is_ascii(),
            reply,
            moved: false,
        }
    }

    fn answer(self, outcome: Outcome) {
        // The sender may have stopped waiting (the run is ending): nothing to tell it then.
        let _ = self.reply.send(outcome);
    }

    /// Gives the message back unsent: the run is stopping.
    fn withdraw(self, why: &str) {
        self.answer(Err(SendError::new(FailureClass::Withdrawn, why)));
    }

    /// The sender stopped waiting before anything of this message was sent.
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }
}

/// The message content ready for the wire.
enum Content {
    /// Dot-stuffed and ending with `CRLF . CRLF`: written as one block.
    Block(String),
    /// Not UTF-8: lettre's `message` stuffs and ends it (and nothing rides behind it).
    Raw(Vec<u8>),
}

impl Content {
    fn of(message: &[u8]) -> Content {
        match String::from_utf8(data_block(message)) {
            Ok(block) => Content::Block(block),
            Err(_) => Content::Raw(message.to_vec()),
        }
    }
}

/// A message and how far its envelope got.
enum Step {
    /// Nothing of it was sent on this lane's session.
    Fresh(Request),
    /// Its envelope went out behind the previous message's content; its replies come next.
    Sent(Request),
}

/// The lanes of one transport and the queue they share.
pub(super) struct Lanes {
    endpoint: Endpoint,
    /// The most lanes (sessions) at once.
    max: usize,
    queue: Mutex<Queue>,
    /// Wakes an idle lane when a message arrives, and every lane when the queue closes.
    arrived: Notify,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Set once the server accepted a message: from then on, connection failures are treated
    /// as a passing problem rather than a wrong setting.
    accepted_any: AtomicBool,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Request>,
    /// Lanes waiting for a message.
    idle: usize,
    lanes: usize,
    /// The transport was shut down: lanes finish what waits, then stop.
    closed: bool,
    /// The run is stopping: nothing waiting is sent.
    halted: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Lanes {
    pub fn new(endpoint: Endpoint, max: usize) -> Lanes {
        Lanes {
            endpoint,
            max: max.max(1),
            queue: Mutex::new(Queue::default()),
            arrived: Notify::new(),
            tasks: Mutex::new(Vec::new()),
            accepted_any: AtomicBool::new(false),
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Queues a message; starts a lane for it when none is idle and there is room for one.
    /// Must be called inside the tokio runtime.
    pub fn submit(self: &Arc<Self>, request: Request) {
        let (start, wake) = {
            let mut q = lock(&self.queue);
            if q.closed || q.halted {
                drop(q);
                request.withdraw("not sent: the run is stopping");
                return;
            }
            q.waiting.push_back(request);
            let start = q.idle == 0 && q.lanes < self.max;
            if start {
                q.lanes += 1;
            }
            (start, q.idle > 0)
        };
        if start {
            let task = tokio::spawn(lane(Arc::clone(self)));
            lock(&self.tasks).push(task);
        } else if wake {
            self.arrived.notify_one();
        }
    }

    /// Withdraws every waiting message and every later one; those on their way finish.
    pub fn halt(&self) {
        let waiting = {
            let mut q = lock(&self.queue);
            q.halted = true;
            std::mem::take(&mut q.waiting)
        };
        for request in waiting {
            request.withdraw("not sent: the run is stopping");
        }
    }

    fn is_halted(&self) -> bool {
        lock(&self.queue).halted
    }

    /// Answers a message with what its session said, as the error the engine acts on. A
    /// quota or fatal failure halts the queue before the sender hears of it.
    fn settle(&self, request: Request, result: Result<Response, Failure>) {
        let outcome = match result {
            Ok(response) => {
                self.accepted_any.store(true, Ordering::Relaxed);
                Ok(response)
            }
            Err(failure) => {
                let first_contact = !self.accepted_any.load(Ordering::Relaxed);
                let error = self.endpoint.send_error(failure, first_contact);
                if matches!(error.class, FailureClass::Quota | FailureClass::Fatal) {
                    self.halt();
                }
                Err(error)
            }
        };
        request.answer(outcome);
    }

    /// Lets the lanes finish what is queued, end their sessions politely (QUIT) and stop.
    pub async fn close(&self) {
        lock(&self.queue).closed = true;
        self.arrived.notify_waiters();
        let tasks = std::mem::take(&mut *lock(&self.tasks));
        for task in tasks {
            let _ = task.await;
        }
    }

    /// The next message for an idle lane; `None` once the queue is closed and empty.
    async fn next(&self) -> Option<Request> {
        let mut counted_idle = false;
        loop {
            let arrived = self.arrived.notified();
            {
                let mut q = lock(&self.queue);
                if let Some(request) = q.waiting.pop_front() {
                    if counted_idle {
                        q.idle -= 1;
                    }
                    if !q.waiting.is_empty() && q.idle > 0 {
                        // One wake-up may have stood for several messages: pass it on.
                        self.arrived.notify_one();
                    }
                    return Some(request);
                }
                if q.closed {
                    if counted_idle {
                        q.idle -= 1;
                    }
                    return None;
                }
                if !counted_idle {
                    q.idle += 1;
                    counted_idle = true;
                }
            }
            arrived.await;
        }
    }

    /// A waiting message to send behind the current content, if one is queued right now.
    fn waiting(&self) -> Option<Request> {
        let mut q = lock(&self.queue);
        while let Some(request) = q.waiting.pop_front() {
            if !request.abandoned() {
                return Some(request);
            }
        }
        None
    }
}

/// One lane: takes messages until the queue closes, then ends its session.
async fn lane(lanes: Arc<Lanes>) {
    let mut session = None;
    let mut pending = None;
    loop {
        let step = match pending.take() {
            Some(step) => step,
            None => match lanes.next().await {
                Some(request) => Step::Fresh(request),
                None => break,
            },
        };
        pending = carry(&lanes, &mut session, step).await;
    }
    if let Some(session) = session {
        session::quit(session.conn, lanes.endpoint.settings.timeout).await;
    }
}

/// Carries one message on the lane's session (opening one if needed) and answers it. Returns
/// the next message when its envelope already went out behind this one's content.
async fn carry(lanes: &Lanes, slot: &mut Option<Session>, step: Step) -> Option<Step> {
    let timeout = lanes.endpoint.settings.timeout;
    let (mut request, sent) = match step {
        Step::Fresh(request) if request.abandoned() => return None,
        Step::Fresh(request) if lanes.is_halted() => {
            request.withdraw("not sent: the run is stopping");
            return None;
        }
        Step::Fresh(request) => (request, false),
        Step::Sent(request) => (request, slot.is_some()),
    };
    let reused = slot.is_some();
    let session = match slot {
        Some(session) => session,
        None => match session::connect(&lanes.endpoint.login()).await {
            Ok(session) => slot.insert(session),
            Err(failure) => {
                lanes.settle(request, Err(failure));
                return None;
            }
        },
    };
    let opened = if sent {
        let mail_reply = timed(timeout, session.conn.read_response()).await;
        pipeline::replies(
            &mut session.conn,
            mail_reply,
            request.envelope.to(),
            timeout,
        )
        .await
    } else {
        session::open(session, &request.envelope, request.ascii, timeout).await
    };
    if let Err(failure) = opened {
        if reused && !request.moved && is_stale_session(&failure) {
            tracing::debug!("an SMTP session had been closed by the server; reconnecting");
            *slot = None;
            request.moved = true;
            return Some(Step::Fresh(request));
        }
        if !(failure.leaves_connection_usable() && session::reset(&mut session.conn, timeout).await)
        {
            *slot = None;
        }
        lanes.settle(request, Err(failure));
        return None;
    }
    let next = match &request.content {
        Content::Block(_) if session.pipelining => next_envelope(lanes, session),
        _ => None,
    };
    let reply = write_content(session, &request.content, next.as_ref(), timeout).await;
    let usable = match &reply {
        Ok(_) => true,
        Err(kind) => matches!(kind, FailureKind::Reply { code, .. } if *code != 421),
    };
    if !usable {
        *slot = None;
    }
    lanes.settle(
        request,
        reply.map_err(|kind| Failure::new(Phase::Content, kind)),
    );
    next.map(|(next, _)| match usable {
        true => Step::Sent(next),
        // Its envelope went to a session that is gone, its content never left: start again.
        false => Step::Fresh(next),
    })
}

/// The next waiting message and its envelope's commands for this session. A message this
/// session cannot carry (8-bit content without 8BITMIME) is answered at once.
fn next_envelope(lanes: &Lanes, session: &Session) -> Option<(Request, String)> {
    loop {
        let request = lanes.waiting()?;
        match session::mail_command(session, &request.envelope, request.ascii) {
            Ok(mail) => {
                let commands = pipeline::commands(mail, request.envelope.to());
                return Some((request, commands));
            }
            Err(refused) => lanes.settle(request, Err(refused)),
        }
    }
}

/// Writes the content (with the next envelope behind it) and reads the content's reply.
async fn write_content(
    session: &mut Session,
    content: &Content,
    next: Option<&(Request, String)>,
    timeout: std::time::Duration,
) -> Result<Response, FailureKind> {
    let conn = &mut session.conn;
    match (content, next) {
        (Content::Block(block), Some((_, envelope))) => {
            let group = Group {
                content: block,
                next_envelope: envelope,
            };
            timed(timeout, conn.command(group)).await
        }
        (Content::Block(block), None) => timed(timeout, conn.command(Block(block))).await,
        (Content::Raw(message), _) => timed(timeout, conn.message(message)).await,
    }
}

/// A session the server had already closed: it fails on MAIL without a reply, or with the
/// `421` a server sends when it times an idle session out.
fn is_stale_session(failure: &Failure) -> bool {
    failure.phase == Phase::Mail
        && matches!(
            failure.kind,
            FailureKind::Broken(_) | FailureKind::Reply { code: 421, .. }
        )
}
