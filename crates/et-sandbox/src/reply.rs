//! The one responder: every answer the sandbox sends, page, JSON, text,
//! file or redirect, is made by [`reply`], which sets the headers every
//! answer carries. An HTML page also gets the Content-Security-Policy, so
//! a page added later cannot be served without it.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// An answer.
pub(crate) type Reply = Response<Full<Bytes>>;

/// Only the sandbox's own script and style sheet; no frames (nobody may
/// frame a page: `frame-ancestors 'none'`), no plugins, forms and fetches
/// to the sandbox only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                              img-src 'self'; connect-src 'self'; form-action 'self'; \
                              base-uri 'none'; frame-ancestors 'none'";

/// An answer with `status`, `content_type` and `body`: never sniffed,
/// never cached, no page address sent away, and, for HTML, [`CSP`].
pub(crate) fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // No page address leaves the sandbox. Not `no-referrer`: under it a
    // browser sends `Origin: null` with the page's own form posts, which
    // the cross-site check refuses.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if content_type.starts_with("text/html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    response
}

/// An HTML page.
pub(crate) fn html(status: StatusCode, page: maud::Markup) -> Reply {
    reply(status, "text/html; charset=utf-8", page.into_string())
}

/// A plain-text answer.
pub(crate) fn text(status: StatusCode, message: impl Into<String>) -> Reply {
    reply(status, "text/plain; charset=utf-8", message.into())
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
    reply(status, "application/json; charset=utf-8", value.to_string())
}

/// `303 See Other` to `location` (dropped if it is not a header value).
pub(crate) fn see_other(location: &str) -> Reply {
    let mut response = text(StatusCode::SEE_OTHER, "");
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
