//! Multipart upload forms read within bounds, whatever the client sends and however it frames it
//! (`Content-Length` or `Transfer-Encoding: chunked`):
//!
//! - before the `file` part, the body is read [`FORM_OVERHEAD_BYTES`] at most (and the rest of
//!   the piece of the body that crossed that line); a form that cannot reach its `file` part with
//!   that much (junk with no boundary, endless part headers, a pile of text parts) is refused,
//!   never buffered; reading simply pauses there, so a good form whose file starts in that piece
//!   goes on;
//! - each text part (`folder_id`, `on_conflict`, `modified_at`) holds at most [`TEXT_PART_BYTES`];
//! - a part the form does not know is refused (400) as soon as its headers are read, unread;
//! - the `file` part is the last: a part after it fails the upload (400), which then stores
//!   nothing (its text would otherwise be silently ignored, e.g. a `folder_id` sent after the
//!   file);
//! - the body as a whole stops at `max_upload_bytes` plus [`FORM_OVERHEAD_BYTES`]; the file's own
//!   bytes stream to storage and the library refuses them past `max_upload_bytes`.
//!
//! A body that breaks these bounds, or that fails or ends mid-way, is the client's error (413 or
//! 400), never an internal one; the answer closes the connection, since the rest of the body may
//! still be on its way.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use taina::core::wire::ErrorCode;
use taina::core::{Error as DomainError, ErrorKind};

use crate::{ApiError, AppState};

/// What an upload form may read before its `file` part starts, and carry beyond
/// `max_upload_bytes` in all: boundaries, part headers and the text parts (64 KiB).
pub const FORM_OVERHEAD_BYTES: u64 = 64 * 1024;

/// The most one text part of an upload form may hold (4 KiB).
pub const TEXT_PART_BYTES: u64 = 4 * 1024;

/// How much of the body the form has read and may read, and how it went wrong, if it did.
#[derive(Debug)]
struct Budget {
    /// Body bytes read so far.
    read: AtomicU64,
    /// The most the body may carry: `max_upload_bytes` and [`FORM_OVERHEAD_BYTES`].
    total: u64,
    /// Until the `file` part is handed out, reading pauses past [`FORM_OVERHEAD_BYTES`].
    before_file: AtomicBool,
    /// Reading paused there: a parser that still waits for bytes waits for ever.
    paused: AtomicBool,
    /// The body went past `total`.
    exceeded: AtomicBool,
    /// The body could not be read or parsed (the client's doing): the status and why.
    failed: Mutex<Option<(StatusCode, String)>>,
}

impl Budget {
    fn fail(&self, status: StatusCode, message: String) {
        if let Ok(mut failed) = self.failed.lock() {
            failed.get_or_insert((status, message));
        }
    }

    /// Counts the body's bytes: pauses before the `file` part past the form's overhead, fails past
    /// the total.
    fn meter(
        self: Arc<Self>,
        mut body: axum::body::BodyDataStream,
    ) -> impl Stream<Item = Result<Bytes, axum::Error>> + Send {
        futures::stream::poll_fn(move |cx| {
            if self.before_file.load(Ordering::Relaxed)
                && self.read.load(Ordering::Relaxed) >= FORM_OVERHEAD_BYTES
            {
                // No waker: the form checks `paused` right after the parser's poll, and lifts
                // the pause (handing out the file) before the parser polls again.
                self.paused.store(true, Ordering::Relaxed);
                return Poll::Pending;
            }
            match body.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    let read = self
                        .read
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed)
                        .saturating_add(chunk.len() as u64);
                    if read > self.total {
                        self.exceeded.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(axum::Error::new(OverBudget))));
                    }
                    Poll::Ready(Some(Ok(chunk)))
                }
                other => other,
            }
        })
    }

    /// Runs one step of the parser: its answer, or `None` if it waits for bytes the pause keeps.
    async fn step<T>(&self, step: impl Future<Output = T>) -> Option<T> {
        let mut step = pin!(step);
        poll_fn(|cx| match step.as_mut().poll(cx) {
            Poll::Ready(answer) => Poll::Ready(Some(answer)),
            Poll::Pending if self.paused.load(Ordering::Relaxed) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        })
        .await
    }
}

/// Raised when the body goes past its budget (seen by the multipart parser as a read error).
#[derive(Debug)]
struct OverBudget;

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body is larger than allowed")
    }
}

impl std::error::Error for OverBudget {}

/// The parser, shared by the form and its file part's stream (which reads on past the file to
/// see that nothing follows it). multer's fields borrow nothing, one at a time.
type Parts = Arc<tokio::sync::Mutex<multer::Multipart<'static>>>;

/// A multipart upload form whose body is read within bounds (see the module's documentation).
pub struct BoundedForm {
    parts: Parts,
    errors: FormErrors,
}

/// Turns what went wrong with a form into the API's answer: a body past its bounds is 413, a body
/// that failed or did not parse 400, anything else as it is; every answer closes the connection.
#[derive(Clone)]
pub struct FormErrors {
    budget: Arc<Budget>,
    max_upload_bytes: u64,
}

impl FormErrors {
    /// The answer for `error`, met while the form was read.
    pub fn answer(&self, error: impl Into<ApiError>) -> Response {
        let mut response = self.explain(error.into()).into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }

    fn explain(&self, error: ApiError) -> ApiError {
        if self.budget.exceeded.load(Ordering::Relaxed) {
            return too_large("file", self.max_upload_bytes);
        }
        // An internal error of the library that came from the body (the stream it read failed)
        // is the client's; the library's own failures stay internal.
        let internal = match &error {
            ApiError::Taina(e) => e.kind() == ErrorKind::Internal,
            ApiError::Request { status, .. } => status.is_server_error(),
        };
        if internal
            && let Ok(failed) = self.budget.failed.lock()
            && let Some((status, message)) = failed.clone()
        {
            return ApiError::request(status, ErrorCode::BadRequest, message);
        }
        error
    }
}

fn too_large(what: &'static str, limit_bytes: u64) -> ApiError {
    DomainError::TooLarge { what, limit_bytes }.into()
}

/// The form's parts before `file` did not fit in [`FORM_OVERHEAD_BYTES`].
fn form_too_large() -> ApiError {
    too_large("the form before its file part", FORM_OVERHEAD_BYTES)
}

/// A multipart error as the client's: the body's framing, or the body itself failing (the
/// budget's own refusals are told apart by [`FormErrors`]), is a 400.
fn client_error(e: &multer::Error) -> ApiError {
    let message = match e {
        multer::Error::StreamReadFailed(_) => format!("the request body could not be read: {e}"),
        _ => format!("the form is malformed: {e}"),
    };
    ApiError::request(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
}

impl<S> FromRequest<S> for BoundedForm
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let max_upload_bytes = AppState::from_ref(state).taina.config().max_upload_bytes;
        let total = max_upload_bytes.saturating_add(FORM_OVERHEAD_BYTES);
        let budget = Arc::new(Budget {
            read: AtomicU64::new(0),
            total,
            before_file: AtomicBool::new(true),
            paused: AtomicBool::new(false),
            exceeded: AtomicBool::new(false),
            failed: Mutex::new(None),
        });
        let errors = FormErrors {
            budget: budget.clone(),
            max_upload_bytes,
        };
        // Refuse early what cannot fit, before reading a byte.
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > total) {
            return Err(errors.answer(too_large("file", max_upload_bytes)));
        }
        let boundary = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| multer::parse_boundary(v).ok())
            .ok_or_else(|| {
                errors.answer(ApiError::request(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorCode::UnsupportedMediaType,
                    "send the upload as multipart/form-data with a boundary",
                ))
            })?;
        let body = budget.meter(req.into_body().into_data_stream());
        let parts = multer::Multipart::new(body, boundary);
        Ok(BoundedForm {
            parts: Arc::new(tokio::sync::Mutex::new(parts)),
            errors,
        })
    }
}

impl BoundedForm {
    /// What turns errors into answers, kept while the form is read.
    pub fn errors(&self) -> FormErrors {
        self.errors.clone()
    }

    /// The next part, or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Part>, ApiError> {
        let budget = self.errors.budget.clone();
        let mut parts = self.parts.lock().await;
        match budget.step(parts.next_field()).await {
            None => Err(form_too_large()),
            Some(Ok(field)) => Ok(field.map(|field| Part {
                field,
                budget,
                parts: self.parts.clone(),
            })),
            Some(Err(e)) => Err(self.errors.explain(client_error(&e))),
        }
    }
}

/// One part of an upload form.
pub struct Part {
    field: multer::Field<'static>,
    budget: Arc<Budget>,
    parts: Parts,
}

impl Part {
    /// The part's name.
    pub fn name(&self) -> Option<&str> {
        self.field.name()
    }

    /// The part's file name.
    pub fn file_name(&self) -> Option<&str> {
        self.field.file_name()
    }

    /// A text part's value, at most [`TEXT_PART_BYTES`]; a longer one is refused (413) as soon as
    /// it is seen to be.
    pub async fn text(mut self) -> Result<String, ApiError> {
        let mut value = Vec::new();
        loop {
            let chunk = match self.budget.clone().step(self.field.chunk()).await {
                None => return Err(form_too_large()),
                Some(Err(e)) => return Err(client_error(&e)),
                Some(Ok(None)) => break,
                Some(Ok(Some(chunk))) => chunk,
            };
            if (value.len() + chunk.len()) as u64 > TEXT_PART_BYTES {
                return Err(too_large("a text part of the form", TEXT_PART_BYTES));
            }
            value.extend_from_slice(&chunk);
        }
        String::from_utf8(value).map_err(|_| {
            let name = self.field.name().unwrap_or_default();
            ApiError::request(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                format!("the `{name}` part is not UTF-8 text"),
            )
        })
    }

    /// Refuses a part the form does not know (400), without reading it. `known` lists the parts
    /// it does know, for the message.
    pub fn refuse(self, known: &str) -> ApiError {
        let name = self.field.name().unwrap_or_default();
        ApiError::request(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            format!("unknown part `{name}`: an upload form holds {known}"),
        )
    }

    /// The file's bytes as they arrive; the body may now carry up to `max_upload_bytes` and the
    /// form's overhead. After the file's last byte the stream reads on to the form's end: a part
    /// that follows the file fails it, so the upload stores nothing. A failure of the body is
    /// recorded, so that the library's error for it is answered as the client's.
    pub fn into_stream(self) -> Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>> {
        self.budget.before_file.store(false, Ordering::Relaxed);
        let budget = self.budget;
        let fail = {
            let budget = budget.clone();
            move |status: StatusCode, message: String| {
                budget.fail(status, message.clone());
                std::io::Error::other(message)
            }
        };
        let fail_tail = fail.clone();
        let parts = self.parts;
        let bytes = self.field.map_err(move |e| {
            let ApiError::Request {
                status, message, ..
            } = client_error(&e)
            else {
                return std::io::Error::other(e);
            };
            fail(status, message)
        });
        // `chain` drops the file's field once it ends, so the parser may read the next part.
        let end = futures::stream::once(async move {
            let next = parts.lock().await.next_field().await;
            match next {
                Ok(None) => None,
                Ok(Some(after)) => Some(Err(fail_tail(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "the `file` part must be the form's last; `{}` follows it",
                        after.name().unwrap_or_default()
                    ),
                ))),
                Err(e) => Some(Err(fail_tail(
                    StatusCode::BAD_REQUEST,
                    format!("the form is malformed: {e}"),
                ))),
            }
        })
        .filter_map(std::future::ready);
        Box::pin(bytes.chain(end))
    }
}
