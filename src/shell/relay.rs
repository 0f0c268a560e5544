//! Origin mode's uploads. A JSON upload (base64, or `files_urls`) is read
//! whole, checked, counted (one upload per file or URL) and sent to the origin
//! rewritten from what was read. A multipart upload is relayed as it is read:
//! `core::upload` parses it, and each part the gateway accepted is written
//! again, canonically, into the body of the request to the origin, which
//! streams. A file is counted before its first byte goes on; the closing
//! boundary is written only once every file was received and counted, so an
//! upload refused half-way reaches the origin as a body that breaks off,
//! which a Filerobot-compatible origin stores nothing of.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::Stream;
use futures_util::future::{join, poll_fn};
use wasm_bindgen::JsValue;
use worker::js_sys::Uint8Array;
use worker::{Env, Response};

use crate::core::config::Config;
use crate::core::hex;
use crate::core::limiter::{GiveBack, LimiterName, Take};
use crate::core::origin::{Origin, Verified};
use crate::core::path::{Dir, FilePath};
use crate::core::refusal::Refusal;
use crate::core::upload::{self, JsonUpload, Sink};
use crate::shell::body::{Shared, read_json};
use crate::shell::incoming::Incoming;
use crate::shell::origin::{Outgoing, send};
use crate::shell::{filerobot, limiter, random, response};

/// Bytes the relay holds for the origin before it stops reading the client.
const BUFFERED: usize = 256 * 1024;

#[derive(Default)]
struct State {
    queue: VecDeque<Bytes>,
    queued: usize,
    /// How the body ends: `Ok` after the closing boundary, `Err` to break it off.
    end: Option<Result<(), String>>,
    /// The origin stopped reading (it answered, or failed).
    reader_gone: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// The writing end of the body sent to the origin.
#[derive(Clone)]
struct Pipe(Rc<RefCell<State>>);

/// The reading end, which `fetch` reads as the request's body.
struct PipeReader(Rc<RefCell<State>>);

impl Stream for PipeReader {
    type Item = Result<JsValue, JsValue>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut state = self.0.borrow_mut();
        if let Some(chunk) = state.queue.pop_front() {
            state.queued -= chunk.len();
            if let Some(w) = state.writer.take() {
                w.wake();
            }
            return Poll::Ready(Some(Ok(Uint8Array::from(&chunk[..]).into())));
        }
        match state.end.take() {
            Some(Ok(())) => {
                state.end = Some(Ok(()));
                Poll::Ready(None)
            }
            Some(Err(why)) => Poll::Ready(Some(Err(JsValue::from_str(&why)))),
            None => {
                state.reader = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        let mut state = self.0.borrow_mut();
        state.reader_gone = true;
        if let Some(w) = state.writer.take() {
            w.wake();
        }
    }
}

impl Pipe {
    fn new() -> (Pipe, PipeReader) {
        let state = Rc::new(RefCell::new(State::default()));
        (Pipe(state.clone()), PipeReader(state))
    }

    /// Queues `bytes` for the origin, waiting while it is behind.
    async fn send(&self, bytes: Bytes) -> Result<(), Refusal> {
        let mut bytes = Some(bytes);
        poll_fn(|cx| {
            let mut state = self.0.borrow_mut();
            if state.reader_gone {
                return Poll::Ready(Err(Refusal::OriginDown));
            }
            if state.queued >= BUFFERED {
                state.writer = Some(cx.waker().clone());
                return Poll::Pending;
            }
            if let Some(b) = bytes.take() {
                state.queued += b.len();
                state.queue.push_back(b);
            }
            if let Some(w) = state.reader.take() {
                w.wake();
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    fn end(&self, how: Result<(), String>) {
        let mut state = self.0.borrow_mut();
        state.end = Some(how);
        if let Some(w) = state.reader.take() {
            w.wake();
        }
    }
}

/// A quoted value of a `Content-Disposition` header, as browsers write it:
/// `"`, CR and LF percent-encoded.
fn quoted(text: &str) -> String {
    text.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The sink that writes each accepted part into the origin's body, counting
/// each file as it begins.
struct Relay<'a> {
    pipe: Pipe,
    boundary: String,
    env: &'a Env,
    /// The counters of one upload, where (`None`: not counted).
    counted: Option<(LimiterName, Take)>,
    /// What was taken, to give back if the upload does not complete.
    taken: Vec<(LimiterName, GiveBack)>,
}

impl Relay<'_> {
    async fn give_back(&mut self) {
        for (name, give_back) in self.taken.drain(..) {
            limiter::give_back(self.env, &name, give_back).await;
        }
    }
}

impl Sink for Relay<'_> {
    type Staged = ();

    async fn open(
        &mut self,
        field: &str,
        path: &FilePath,
        content_type: &str,
    ) -> Result<(), Refusal> {
        if let Some((name, take)) = &self.counted {
            let take = Take {
                hits: NonZeroU32::MIN,
                ..take.clone()
            };
            let at = limiter::take(self.env, name, take.clone()).await?;
            self.taken.push((name.clone(), GiveBack::of(&take, at)));
        }
        let head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            self.boundary,
            quoted(field),
            quoted(path.name()),
            content_type
        );
        self.pipe.send(Bytes::from(head)).await
    }

    async fn write(&mut self, chunk: Bytes) -> Result<(), Refusal> {
        self.pipe.send(chunk).await
    }

    async fn close(&mut self) -> Result<(), Refusal> {
        self.pipe.send(Bytes::from_static(b"\r\n")).await
    }

    async fn describe(&mut self, part: &str, json: &[u8]) -> Result<(), Refusal> {
        // Written again from the parsed value: one serialisation, no
        // duplicate keys, nothing the origin could read otherwise.
        let value = crate::core::body::parse(json)?;
        let text = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\nContent-Type: application/json\r\n\r\n{}\r\n",
            self.boundary,
            quoted(part),
            value
        );
        self.pipe.send(Bytes::from(text)).await
    }
}

/// An upload in origin mode: its files counted, and sent on canonically.
#[allow(clippy::too_many_arguments)]
pub async fn upload(
    req: &Incoming,
    env: &Env,
    config: &Config,
    origin: &Origin,
    verified: &Verified<'_>,
    folder: &Dir,
    max_file_size: u64,
    counted: Option<(LimiterName, Take)>,
) -> Result<Response, Refusal> {
    let content_type = req.header("Content-Type").unwrap_or_default();
    if !content_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("multipart/")
    {
        return json_upload(
            req,
            env,
            config,
            origin,
            verified,
            folder,
            max_file_size,
            counted,
        )
        .await;
    }
    let boundary = upload::boundary(&content_type)?;
    let stream = req.stream().ok_or_else(|| Refusal::RejectMultipart {
        reason: "the body is empty".into(),
    })?;
    let body = Shared::new(stream);
    let (pipe, reader) = Pipe::new();
    let mut relay = Relay {
        pipe: pipe.clone(),
        boundary: format!("sass-edge-{}", hex::lower(&random::bytes::<16>()?)),
        env,
        counted,
        taken: Vec::new(),
    };
    let outgoing = Outgoing::Stream {
        content_type: format!("multipart/form-data; boundary={}", relay.boundary),
        body: wasm_streams::ReadableStream::from_stream(reader)
            .into_raw()
            .into(),
    };
    let closing = Bytes::from(format!("--{}--\r\n", relay.boundary));
    let pump = async {
        let read =
            upload::read_multipart(body.reader(), &boundary, folder, max_file_size, &mut relay)
                .await;
        let read = match read {
            Ok(_) => pipe.send(closing).await,
            Err(e) => Err(e),
        };
        match &read {
            Ok(()) => pipe.end(Ok(())),
            Err(e) => pipe.end(Err(e.message())),
        }
        read
    };
    let (sent, pumped) = join(send(Some(req), origin, verified, outgoing), pump).await;
    let answer = match (pumped, sent) {
        (Ok(()), Ok(answer)) => Ok(answer),
        // The origin answered before it read the whole body: its answer.
        (Err(Refusal::OriginDown), Ok(answer)) => Ok(answer),
        (Err(refusal), _) => {
            body.drain().await;
            Err(refusal)
        }
        (Ok(()), Err(e)) => Err(e),
    };
    if !matches!(&answer, Ok(a) if a.status_code() < 400) {
        relay.give_back().await;
    }
    answer.map(response::rebuild)
}

/// A JSON upload in origin mode: read, checked (a URL as in R2 mode, though
/// the origin fetches it), counted once per file, and sent rewritten.
#[allow(clippy::too_many_arguments)]
async fn json_upload(
    req: &Incoming,
    env: &Env,
    config: &Config,
    origin: &Origin,
    verified: &Verified<'_>,
    folder: &Dir,
    max_file_size: u64,
    counted: Option<(LimiterName, Take)>,
) -> Result<Response, Refusal> {
    let body = read_json(req, upload::MAX_JSON_UPLOAD).await?;
    let mut asked = upload::read_json(body, folder, max_file_size)?;
    if let JsonUpload::Urls(remotes) = &mut asked {
        for remote in remotes {
            remote.url = filerobot::checked_url(&remote.url, None, config.allow_local_urls)?.href();
        }
    }
    let mut taken = None;
    if let Some((name, take)) = counted {
        let take = Take {
            hits: NonZeroU32::new(asked.count() as u32).unwrap_or(NonZeroU32::MIN),
            ..take
        };
        let at = limiter::take(env, &name, take.clone()).await?;
        taken = Some((name, GiveBack::of(&take, at)));
    }
    let outgoing = Outgoing::Text {
        content_type: "application/json".into(),
        text: asked.canonical().to_string(),
    };
    let answer = send(Some(req), origin, verified, outgoing).await;
    if !matches!(&answer, Ok(a) if a.status_code() < 400)
        && let Some((name, give_back)) = taken
    {
        limiter::give_back(env, &name, give_back).await;
    }
    answer.map(response::rebuild)
}
