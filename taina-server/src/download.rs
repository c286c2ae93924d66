//! Sending stored content: single byte ranges (206, 416), ETag and If-None-Match (304),
//! Last-Modified, a Content-Disposition with an RFC 6266/5987 file name, and headers that keep
//! uploaded HTML or SVG from ever running script in our origin.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use taina::core::Timestamp;
use taina::ybira::range::{HttpRange, parse_http_range};
use taina::ybira::{Download, Item};

use crate::ApiError;

/// User content runs nothing: a sandboxed document with no scripts, whatever its type.
const USER_CONTENT_CSP: &str = "sandbox; default-src 'none'; img-src 'self' data:; \
     media-src 'self'; style-src 'unsafe-inline'";

/// RFC 5987 `attr-char`s stay as they are; everything else is percent-encoded.
const FILENAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Types a browser may show inline without risk (no active content): raster images, audio and
/// video, plain text, and PDF (browsers render it in their own isolated viewer; the web app opens
/// it). These go out with their own type and `inline`; everything else (HTML, SVG, XML, JavaScript
/// of any flavour, HEIC, archives...) goes out as `application/octet-stream` and `attachment`, so
/// no browser ever runs it in our origin, whatever its stored type.
fn inline_safe(mime: &str) -> bool {
    matches!(
        mime,
        "image/jpeg"
            | "image/png"
            | "image/gif"
            | "image/webp"
            | "image/avif"
            | "application/pdf"
            | "text/plain"
    ) || mime.starts_with("video/")
        || mime.starts_with("audio/")
}

/// `attachment` or `inline`, with the name in ASCII and in UTF-8 (RFC 6266 and 5987).
pub fn content_disposition(name: &str, inline: bool) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    let value = format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, FILENAME)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn http_date(t: Timestamp) -> Option<HeaderValue> {
    let at = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(t.as_millis()).ok()?);
    HeaderValue::from_str(&httpdate::fmt_http_date(at)).ok()
}

/// Whether `If-None-Match` names `etag` (or `*`).
pub fn not_modified(request: &HeaderMap, etag: &str) -> bool {
    request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == etag)
        })
}

/// The validators and safety headers every answer about a file carries.
fn common_headers(headers: &mut HeaderMap, item: &Item, etag: &str) {
    if let Ok(v) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, v);
    }
    if let Some(v) = http_date(item.updated_at) {
        headers.insert(header::LAST_MODIFIED, v);
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(USER_CONTENT_CSP),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
}

/// What the request asks of `item`: a 304 if its ETag still matches, a 416 for a range outside it,
/// or the range to stream (`None`: the whole file).
pub enum Plan {
    /// Answer now.
    Answer(Response),
    /// Stream this part (or all).
    Stream(Option<taina::ybira::ByteRange>),
}

/// Decides how to answer a download request for `item` before any content is read.
pub fn plan(request: &HeaderMap, item: &Item) -> Plan {
    let etag = item.etag.clone().unwrap_or_default();
    if !etag.is_empty() && not_modified(request, &etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        common_headers(response.headers_mut(), item, &etag);
        return Plan::Answer(response);
    }
    let range_header = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    // A stale If-Range (the file changed) means: send it all.
    let if_range_ok = request
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == etag);
    match parse_http_range(range_header.filter(|_| if_range_ok), item.size_bytes) {
        HttpRange::Whole => Plan::Stream(None),
        HttpRange::Part(range) => Plan::Stream(Some(range)),
        HttpRange::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            common_headers(response.headers_mut(), item, &etag);
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", item.size_bytes)) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            Plan::Answer(response)
        }
    }
}

/// Streams a download: 200 for the whole file, 206 for a part. `attachment` forces a download.
pub fn respond(download: Download, ranged: bool, attachment: bool) -> Result<Response, ApiError> {
    let inline = !attachment && inline_safe(&download.mime_type);
    let mut response = Response::new(Body::from_stream(download.body));
    let headers = response.headers_mut();
    common_headers(headers, &download.item, &download.etag);
    // Whatever is not shown inline is plain bytes to download: no type a browser could run.
    let content_type = if inline {
        download.mime_type.as_str()
    } else {
        "application/octet-stream"
    };
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&download.item.name, inline),
    );
    let length = download.range.end - download.range.start;
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if ranged {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let value = format!(
            "bytes {}-{}/{}",
            download.range.start,
            download.range.end.saturating_sub(1),
            download.total_size
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

/// A redirect to where the store serves the file itself (a presigned URL): not cached, since the
/// URL expires.
pub fn redirect_to_store(url: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_survive_in_both_forms() {
        let v = content_disposition("Férias \"2026\".pdf", false);
        assert_eq!(
            v.to_str().unwrap(),
            "attachment; filename=\"F_rias _2026_.pdf\"; filename*=UTF-8''F%C3%A9rias%20%222026%22.pdf"
        );
        assert!(!inline_safe("image/svg+xml"));
        assert!(!inline_safe("text/html"));
        assert!(!inline_safe("text/javascript"));
        assert!(!inline_safe("application/javascript"));
        assert!(!inline_safe("application/xhtml+xml"));
        assert!(inline_safe("image/jpeg"));
    }
}
