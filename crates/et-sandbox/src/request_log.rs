//! The request log: what `POST /server` received and answered, for the
//! merchant whose signature does not verify. Bounded: the last
//! [`REQUEST_LOG_ROWS`] envelopes, each payload cut at
//! [`MAX_LOGGED_PAYLOAD`] bytes. The [API](crate::api) writes it through a
//! [`Recorder`]; the [dashboard](crate::dashboard) reads it through
//! [`page`] and [`entry`]; its table is [`crate::store::request_log`].

use std::time::Instant;

use et_proto::{OpenedRequest, UntypedObject};

use crate::app::App;
use crate::store::{self, LoggedRequest, OrderRequest};

/// Envelopes the request log keeps; older ones are dropped.
pub const REQUEST_LOG_ROWS: i64 = 500;
/// The most of one payload the log (and an order's creating request)
/// keeps: an attachment's Base64 would otherwise fill the database.
pub const MAX_LOGGED_PAYLOAD: usize = 32 * 1024;

/// One request's log entry while it is being handled.
pub(crate) struct Recorder {
    started: Instant,
    entry: LoggedRequest,
}

impl Recorder {
    /// Starts timing a request that arrived at sandbox time `now`.
    pub(crate) fn start(app: &App) -> Self {
        Recorder {
            started: Instant::now(),
            entry: LoggedRequest {
                received_at: app.clock.now(),
                ..LoggedRequest::default()
            },
        }
    }

    /// Notes the envelope's plain fields, before anything is verified.
    pub(crate) fn envelope(&mut self, envelope: &UntypedObject) {
        let field = |key| envelope.text(key).map(bounded).unwrap_or_default();
        self.entry.merchant_number = field("merchant_number");
        self.entry.server_type = field("server_type");
        self.entry.serial_number = field("serial_number");
    }

    /// The envelope verified and decrypted: keeps its payload.
    pub(crate) fn opened(&mut self, req: &OpenedRequest) {
        self.entry.verified = true;
        // Each part cut first: an attachment's payload is megabytes.
        let (data, data_cut) = cut(&req.data);
        let (sensitive, sensitive_cut) = cut(req.sensitive.as_str());
        let (payload, payload_cut) = cut(&format!(
            "data:\n{data}\n\nsensitive_data (decrypted):\n{sensitive}\n"
        ));
        self.entry.payload = payload;
        self.entry.truncated = data_cut || sensitive_cut || payload_cut;
    }

    /// The envelope did not open: keeps why and the body as received.
    pub(crate) fn not_opened(&mut self, body: &[u8], why: &str) {
        self.entry.verified = false;
        self.entry.refusal = bounded(why);
        // Cut before the lossy conversion, which copies an invalid body whole.
        let kept = body.get(..MAX_LOGGED_PAYLOAD).unwrap_or(body);
        let (payload, _) = cut(&String::from_utf8_lossy(kept));
        self.entry.payload = payload;
        self.entry.truncated = kept.len() < body.len();
    }

    /// Records the answer and stores the entry (a failure to store is
    /// logged, never fails the request).
    pub(crate) fn answered(mut self, app: &App, status_code: &str, message: &str) {
        self.entry.status_code = bounded(status_code);
        self.entry.message = bounded(message);
        self.entry.latency_us =
            i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX);
        if let Err(e) = app
            .store
            .tx(|c| store::log_request(c, &self.entry, REQUEST_LOG_ROWS))
        {
            tracing::warn!(error = %e, "writing the request log failed");
        }
    }
}

/// Up to `limit` entries older than entry `before` (all if `None`), newest
/// first, without their payloads.
pub(crate) fn page(
    app: &App,
    before: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<LoggedRequest>> {
    app.store.tx(|c| store::request_log(c, before, limit))
}

/// One entry with its payload; `None` once the log has dropped it.
pub(crate) fn entry(app: &App, id: i64) -> rusqlite::Result<Option<LoggedRequest>> {
    app.store.tx(|c| store::logged_request(c, id))
}

/// Cuts the request's `data` text to what the log keeps, once it has been
/// read as its operation: the rest is not read again, and an attachment's
/// is megabytes.
pub(crate) fn shed_payload(req: &mut OpenedRequest) {
    if req.data.len() > MAX_LOGGED_PAYLOAD {
        req.data = cut(&req.data).0;
    }
}

/// The request that created an order, kept with the order.
pub(crate) fn order_request(req: &OpenedRequest) -> OrderRequest {
    OrderRequest {
        server_type: bounded(&req.server_type),
        data: cut(&req.data).0,
        sensitive_data: cut(req.sensitive.as_str()).0,
    }
}

fn bounded(s: &str) -> String {
    cut(s).0
}

/// `s` cut to at most [`MAX_LOGGED_PAYLOAD`] bytes on a character
/// boundary, and whether it was cut.
fn cut(s: &str) -> (String, bool) {
    if s.len() <= MAX_LOGGED_PAYLOAD {
        return (s.to_owned(), false);
    }
    let end = (0..=MAX_LOGGED_PAYLOAD)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    (s[..end].to_owned(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_LOGGED_PAYLOAD);
        let (kept, truncated) = cut(&long);
        assert!(truncated);
        assert!(kept.len() <= MAX_LOGGED_PAYLOAD && kept.len() > MAX_LOGGED_PAYLOAD - 2);
        assert_eq!(cut("short"), ("short".to_owned(), false));
    }
}
