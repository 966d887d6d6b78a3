//! A one-chunk request body that remembers whether the HTTP connection took it, so a failure
//! after that point is reported as "maybe delivered" and one before it (connection refused,
//! TLS failure) as certainly not.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The body of one request, and a flag that turns true once the connection has taken it.
pub struct TrackedBody {
    data: Option<Bytes>,
    taken: Arc<AtomicBool>,
}

impl TrackedBody {
    /// Wraps `data`; returns the body and the flag to read after the request.
    pub fn new(data: Bytes) -> (TrackedBody, Arc<AtomicBool>) {
        let taken = Arc::new(AtomicBool::new(false));
        let body = TrackedBody {
            data: Some(data),
            taken: Arc::clone(&taken),
        };
        (body, taken)
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        match this.data.take() {
            Some(data) => {
                this.taken.store(true, Ordering::SeqCst);
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn flag_turns_when_the_body_is_taken() {
        let (body, taken) = TrackedBody::new(Bytes::from_static(b"aGVsbG8="));
        assert_eq!(body.size_hint().exact(), Some(8));
        assert!(!taken.load(Ordering::SeqCst));
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(&collected[..], b"aGVsbG8=");
        assert!(taken.load(Ordering::SeqCst));
    }
}
