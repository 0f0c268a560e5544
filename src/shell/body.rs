//! Reading a request's JSON body, bounded: a body larger than the endpoint
//! accepts is refused before it is read whole.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use worker::ByteStream;

use crate::core::body;
use crate::core::refusal::Refusal;
use crate::shell::incoming::Incoming;

/// Largest JSON body accepted by the admin and key endpoints.
pub const MAX_JSON_BODY: usize = 64 * 1024;

fn unreadable<E>(_: E) -> Refusal {
    Refusal::RejectJson {
        detail: "the body could not be read".into(),
    }
}

/// Reads a JSON body of at most `limit` bytes, refusing larger ones before
/// reading them whole, and duplicate keys.
pub async fn read_json(req: &Incoming, limit: usize) -> Result<Value, Refusal> {
    let declared = req
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Refusal::RejectBodySize { limit });
    }
    let mut bytes = Vec::new();
    if declared.is_some_and(|n| n > 0) {
        // Its length is declared and within the limit, and the platform
        // holds a body to its Content-Length: read it in one call.
        bytes = req.whole_body().await.map_err(unreadable)?;
        if bytes.len() > limit {
            return Err(Refusal::RejectBodySize { limit });
        }
    } else if declared.is_none()
        && let Some(mut stream) = req.stream()
    {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(unreadable)?;
            if bytes.len() + chunk.len() > limit {
                return Err(Refusal::RejectBodySize { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
    }
    if bytes.is_empty() {
        return Err(Refusal::RejectJson {
            detail: "the body is empty".into(),
        });
    }
    body::parse(&bytes)
}

/// A request body read by `multer`, shared with the handler so that what is
/// left of it can still be read after `multer` gave up (`drain`).
#[derive(Clone)]
pub struct Shared(Rc<RefCell<Pin<Box<ByteStream>>>>);

/// `Shared`, as the stream of bytes `multer` reads. wasm32 has one thread, so
/// the body, a JS stream, never moves between threads: `Send` holds
/// trivially.
pub struct Reader(Shared);

// SAFETY: the worker runs on wasm32, which has a single thread.
unsafe impl Send for Reader {}

impl Stream for Reader {
    type Item = Result<Bytes, io::Error>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.0.borrow_mut().as_mut().poll_next(cx).map(|item| {
            item.map(|chunk| {
                chunk
                    .map(Bytes::from)
                    .map_err(|e| io::Error::other(e.to_string()))
            })
        })
    }
}

/// Bytes of a refused upload's body still read before answering.
const DRAIN: usize = 8 * 1024 * 1024;

impl Shared {
    pub fn new(stream: ByteStream) -> Shared {
        Shared(Rc::new(RefCell::new(Box::pin(stream))))
    }

    pub fn reader(&self) -> Reader {
        Reader(self.clone())
    }

    /// Reads and drops what is left of a refused upload's body, up to
    /// `DRAIN` bytes, before the refusal is sent: a client still sending a
    /// body of a few megabytes then hears the refusal, rather than a
    /// connection the worker stopped reading.
    pub async fn drain(&self) {
        let mut left = DRAIN;
        loop {
            let next =
                futures_util::future::poll_fn(|cx| self.0.borrow_mut().as_mut().poll_next(cx))
                    .await;
            match next {
                Some(Ok(chunk)) if chunk.len() < left => left -= chunk.len(),
                _ => return,
            }
        }
    }
}
