//! Delivery: one attempt to send one outbox row, and its record. A
//! notification is delivered only when the merchant replies
//! `{"notify_result":"OK"}` (to a refund result, with its `order_id` and
//! `sign` too: [`refund_reply`]); anything else is a failed attempt,
//! retried on the [outbox](crate::outbox)'s schedule.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};

use et_model::NotificationKind;

use crate::app::App;
use crate::faults::{self, NotifyPlay};
use crate::outbox::{self, next_attempt, DeliveryFailure};
use crate::refund_reply;
use crate::store::{self, OutboxRecord};

/// How long one delivery may take, in real time.
pub(crate) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a merchant's reply the sandbox reads.
const MAX_REPLY: usize = 64 * 1024;

/// The HTTP client deliveries share.
pub(crate) type HttpClient = et_http::PlainHttpClient;

/// The header every delivery carries (its value: the notification's id,
/// [`NotificationView::id`](crate::NotificationView::id)). Every sandbox
/// refuses any request that carries it, on every route: a `notify_url`
/// naming a sandbox, by whatever host name, address or redirect, cannot
/// act on that sandbox's dashboard, admin or checkout routes.
pub const DELIVERY_HEADER: &str = "et-sandbox-delivery";

/// The most of a reply each recorded attempt keeps ([`DeliveryAttemptView::reply_head`](crate::DeliveryAttemptView::reply_head)).
pub const REPLY_HEAD_BYTES: usize = 512;

/// A failed attempt: the kind, and what happened in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// Why.
    pub kind: DeliveryFailure,
    /// What happened (for logs and the outbox's `last_error`).
    pub message: String,
}

impl Failure {
    fn new(kind: DeliveryFailure, message: String) -> Self {
        Failure { kind, message }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// The reply's HTTP status, when a reply came.
    pub status: Option<u16>,
    /// The reply body as read (at most `MAX_REPLY` bytes; empty when none
    /// was read whole).
    pub reply: Bytes,
    /// Real time from sending to the end of the reply (or the failure).
    pub latency: Duration,
    /// Acknowledged, or why not.
    pub outcome: Result<(), Failure>,
}

/// Sends `n` once and records the attempt; retries follow the outbox's
/// schedule.
pub(crate) async fn attempt(app: &Arc<App>, client: &HttpClient, n: OutboxRecord) {
    let attempted_at = app.clock.now();
    let Some(mut attempt) = send_playing_faults(app, client, &n).await else {
        return;
    };
    if attempt.outcome.is_ok() && n.kind == NotificationKind::RefundResult {
        attempt.outcome = refund_reply::check(app, &n.order_id, &attempt.reply)
            .await
            .map_err(|message| Failure::new(DeliveryFailure::BadRefundReply, message));
    }
    let now = app.clock.now();
    let attempts = n.attempts + 1;
    let (delivered, next, error) = match &attempt.outcome {
        Ok(()) => (Some(now), None, String::new()),
        Err(e) => (None, next_attempt(now, attempts), e.message.clone()),
    };
    tracing::info!(id = n.id, kind = n.kind.as_str(), attempts, ok = delivered.is_some(), %error, "notification attempt");
    let record = store::DeliveryAttemptRecord {
        notification_id: n.id,
        order_id: n.order_id,
        attempted_at,
        url: n.url,
        http_status: attempt.status,
        failure: attempt.outcome.err().map(|e| e.kind),
        reply_head: reply_head(&attempt.reply).to_vec(),
        latency_ms: i64::try_from(attempt.latency.as_millis()).unwrap_or(i64::MAX),
        next_attempt_at: next,
    };
    let app2 = app.clone();
    let recorded = tokio::task::spawn_blocking(move || {
        app2.store
            .tx(|c| store::record_attempt(c, &record, delivered, &error))
    });
    match recorded.await {
        Ok(Err(e)) => tracing::error!(error = %e, "recording a delivery attempt failed"),
        Err(e) => tracing::error!(error = %e, "recording a delivery attempt panicked"),
        Ok(Ok(())) => {}
    }
}

/// [`send`] as the fault plan says ([`crate::faults`]): `None` when the
/// attempt is postponed (no attempt counted), else what it came to.
async fn send_playing_faults(
    app: &Arc<App>,
    client: &HttpClient,
    n: &OutboxRecord,
) -> Option<Attempt> {
    let (app2, row) = (app.clone(), n.clone());
    let play = tokio::task::spawn_blocking(move || {
        faults::notification_play(&app2.faults, &app2.store, &row)
    });
    let not_played = NotifyPlay::Send {
        copies: 1,
        forged: false,
    };
    match play.await.unwrap_or(not_played) {
        NotifyPlay::Postpone(ms) => {
            let (app, id) = (app.clone(), n.id);
            let until = app.clock.now().saturating_add(ms);
            let leased =
                tokio::task::spawn_blocking(move || app.store.tx(|c| store::lease(c, id, until)));
            if let Ok(Err(e)) = leased.await {
                tracing::error!(error = %e, "postponing a notification failed");
            }
            None
        }
        NotifyPlay::Drop => Some(Attempt {
            status: None,
            reply: Bytes::new(),
            latency: Duration::ZERO,
            outcome: Err(Failure::new(
                DeliveryFailure::DroppedByFault,
                "not sent: a notify_drop fault".into(),
            )),
        }),
        NotifyPlay::Send { copies, forged } => {
            let mut row = n.clone();
            if forged {
                row.body = faults::forge(&row.body);
            }
            let mut attempt = send(client, &row).await;
            for _ in 1..copies.min(faults::MAX_COPIES) {
                attempt = send(client, &row).await;
            }
            if forged && attempt.outcome.is_ok() {
                let message = "the merchant acknowledged a notification whose sign does not verify";
                attempt.outcome = Err(Failure::new(
                    DeliveryFailure::AcknowledgedForgery,
                    message.into(),
                ));
            }
            Some(attempt)
        }
    }
}

/// One delivery: POST the body (JSON or a form, as stored); success only
/// on `{"notify_result":"OK"}`.
pub(crate) async fn send(client: &HttpClient, n: &OutboxRecord) -> Attempt {
    let started = Instant::now();
    let (status, reply, outcome) = exchange(client, n).await;
    Attempt {
        status,
        reply,
        latency: started.elapsed(),
        outcome,
    }
}

type Exchange = (Option<u16>, Bytes, Result<(), Failure>);

async fn exchange(client: &HttpClient, n: &OutboxRecord) -> Exchange {
    let failed = |kind, message| (None, Bytes::new(), Err(Failure::new(kind, message)));
    if !n.url.starts_with("http://") {
        let message = format!(
            "the sandbox delivers over plain http:// only, not to {:?}",
            n.url
        );
        return failed(DeliveryFailure::NotPlainHttp, message);
    }
    let request = http::Request::post(&n.url)
        .header(http::header::CONTENT_TYPE, outbox::content_type(&n.body))
        .header(DELIVERY_HEADER, n.id)
        .body(Full::new(Bytes::from(n.body.clone())));
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            return failed(
                DeliveryFailure::BadUrl,
                format!("bad notify URL {:?}: {e}", n.url),
            )
        }
    };
    let mut status = None;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| Failure::new(DeliveryFailure::Transport, format!("POST failed: {e}")))?;
        status = Some(response.status());
        let body = Limited::new(response.into_body(), MAX_REPLY)
            .collect()
            .await
            .map_err(|e| {
                Failure::new(
                    DeliveryFailure::ReadReply,
                    format!("reading the reply failed: {e}"),
                )
            })?
            .to_bytes();
        Ok::<_, Failure>(body)
    };
    let result = tokio::time::timeout(DELIVERY_TIMEOUT, exchange).await;
    let code = status.map(|s| s.as_u16());
    match result {
        Err(_) => {
            let failure = Failure::new(
                DeliveryFailure::Timeout,
                format!("no reply within {} s", DELIVERY_TIMEOUT.as_secs()),
            );
            (code, Bytes::new(), Err(failure))
        }
        Ok(Err(failure)) => (code, Bytes::new(), Err(failure)),
        Ok(Ok(body)) if acknowledged(&body) => (code, body, Ok(())),
        Ok(Ok(body)) => {
            let shown =
                String::from_utf8_lossy(body.get(..body.len().min(200)).unwrap_or_default());
            let status = status.map(|s| s.to_string()).unwrap_or_default();
            let message = format!("HTTP {status}, reply without notify_result OK: {shown}");
            (
                code,
                body,
                Err(Failure::new(DeliveryFailure::NotAcknowledged, message)),
            )
        }
    }
}

/// The part of a reply an attempt's record keeps.
fn reply_head(reply: &[u8]) -> &[u8] {
    reply.get(..REPLY_HEAD_BYTES).unwrap_or(reply)
}

/// Whether a reply is ET's acknowledgement (`notify_result` = `OK`; other
/// fields, like the refund reply's `order_id` and `sign`, are allowed).
fn acknowledged(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("notify_result")
                .and_then(|r| r.as_str().map(|s| s == "OK"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_keeps_at_most_reply_head_bytes() {
        let long = vec![b'x'; REPLY_HEAD_BYTES * 3];
        assert_eq!(reply_head(&long).len(), REPLY_HEAD_BYTES);
        assert_eq!(reply_head(b"FAIL"), b"FAIL");
        assert_eq!(reply_head(b""), b"");
    }

    #[test]
    fn failure_names_round_trip() {
        for f in DeliveryFailure::ALL {
            assert_eq!(DeliveryFailure::from_code(f.as_str()), Some(f));
        }
        assert_eq!(DeliveryFailure::from_code(""), None);
    }

    #[test]
    fn only_ok_acknowledges() {
        assert!(acknowledged(br#"{"notify_result":"OK"}"#));
        assert!(acknowledged(
            br#"{"order_id":"ET1","notify_result":"OK","sign":"x"}"#
        ));
        assert!(!acknowledged(br#"{"notify_result":"ok"}"#));
        assert!(!acknowledged(b"OK"));
        assert!(!acknowledged(b""));
    }
}
