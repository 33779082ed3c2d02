//! The outbox and its delivery attempts: the one API of a notification's
//! life cycle. The [engine](crate::engine) enqueues (in the transaction of
//! the change that caused it), the [ticker](crate::ticker) leases what is
//! due, [delivery](crate::delivery) records each attempt (or postpones one,
//! a lease by another name), an [admin action](crate::AdminAction)
//! redelivers, and a clock reset moves the schedule back.

use et_model::NotificationKind;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::columns::{insert_sql, record, Record};
use crate::clock::Millis;
use crate::outbox::DeliveryFailure;

record! {
    /// One notification in the outbox: a row of `outbox`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct OutboxRecord {
        /// Outbox row id.
        pub id: i64,
        /// Order it is about.
        pub order_id: String,
        /// Which notification it is.
        pub kind: NotificationKind,
        /// Destination URL.
        pub url: String,
        /// The signed body, as sent.
        pub body: String,
        /// Deliveries tried so far.
        pub attempts: i64,
        /// When the next delivery is due (`None` once delivered or given up).
        pub next_attempt_at: Option<Millis>,
        /// When the merchant acknowledged it.
        pub delivered_at: Option<Millis>,
        /// What went wrong on the last failed attempt.
        pub last_error: String,
        /// `scheme://authority` of `url` ([`endpoint`]).
        pub endpoint: String,
    }
}

record! {
    /// One delivery attempt of a notification, as recorded: a row of
    /// `delivery_attempts`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct DeliveryAttemptRecord {
        /// The outbox row (notification) tried.
        pub notification_id: i64,
        /// The order it is about.
        pub order_id: String,
        /// Sandbox time the attempt started.
        pub attempted_at: Millis,
        /// Where it was sent.
        pub url: String,
        /// The reply's HTTP status, if a reply came.
        pub http_status: Option<u16>,
        /// Why it failed; `None` if acknowledged.
        pub failure: Option<DeliveryFailure>,
        /// The first bytes of the reply (bounded by the delivery code).
        pub reply_head: Vec<u8>,
        /// Real time from sending to the end of the reply or the failure.
        pub latency_ms: i64,
        /// When the next attempt is due; `None` once delivered or given up.
        pub next_attempt_at: Option<Millis>,
    }
}

/// `scheme://authority` of a notify URL: what one endpoint is. Deliveries
/// take turns per endpoint, and each has its own bound on deliveries in
/// flight.
pub(crate) fn endpoint(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// Queues a notification, due at once; its id.
pub(crate) fn enqueue(
    c: &Connection,
    order_id: &str,
    kind: NotificationKind,
    url: &str,
    body: &str,
    now: Millis,
) -> rusqlite::Result<i64> {
    let row = OutboxRecord {
        id: 0,
        order_id: order_id.to_owned(),
        kind,
        url: url.to_owned(),
        body: body.to_owned(),
        attempts: 0,
        next_attempt_at: Some(now),
        delivered_at: None,
        last_error: String::new(),
        endpoint: endpoint(url).to_owned(),
    };
    // Every column but `id`, which SQLite gives.
    let (_id, columns) = OutboxRecord::COLUMNS.split_at(1);
    c.prepare_cached(&insert_sql("outbox", columns))?
        .execute(params_from_iter(row.params().into_iter().skip(1)))?;
    Ok(c.last_insert_rowid())
}

/// Notifications due at `now`, at most `limit`, taking turns per endpoint:
/// each endpoint's oldest, then each one's second oldest, and so on, at
/// most `per_endpoint` each. Of one order only its oldest due
/// notification (they go one at a time, oldest first). However many are
/// due for one endpoint, another's are read in the same round.
pub(crate) fn due_notifications(
    c: &Connection,
    now: Millis,
    per_endpoint: i64,
    limit: i64,
) -> rusqlite::Result<Vec<OutboxRecord>> {
    let columns = OutboxRecord::columns();
    let mut st = c.prepare_cached(&format!(
        "SELECT {columns} FROM (
             SELECT *, ROW_NUMBER() OVER (PARTITION BY endpoint ORDER BY id) AS turn
             FROM (
                 SELECT *, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY id) AS nth
                 FROM outbox WHERE next_attempt_at <= ?1
             )
             WHERE nth = 1
         )
         WHERE turn <= ?2 ORDER BY turn, id LIMIT ?3"
    ))?;
    let rows = st.query_map(params![now, per_endpoint, limit], |r| {
        OutboxRecord::from_row(r, 0)
    })?;
    rows.collect()
}

/// Makes a leased notification due at `now` (its attempt was cut off); one
/// delivered or given up meanwhile is left as it is.
pub(crate) fn end_lease(c: &Connection, id: i64, now: Millis) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND next_attempt_at > ?2",
        params![id, now],
    )
    .map(drop)
}

/// Moves every pending notification's next attempt `back` milliseconds
/// earlier, but not before `now`: sandbox time went back by as much.
pub(crate) fn move_schedule_back(
    c: &Connection,
    back: Millis,
    now: Millis,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE outbox SET next_attempt_at = MAX(?2, next_attempt_at - ?1)
         WHERE next_attempt_at IS NOT NULL",
        params![back, now],
    )
    .map(drop)
}

/// The earliest pending attempt time, if any.
pub(crate) fn next_due(c: &Connection) -> rusqlite::Result<Option<Millis>> {
    c.query_row(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE next_attempt_at IS NOT NULL",
        [],
        |r| r.get(0),
    )
}

/// Every notification, oldest first (optionally for one order).
pub(crate) fn notifications(
    c: &Connection,
    order_id: Option<&str>,
) -> rusqlite::Result<Vec<OutboxRecord>> {
    let columns = OutboxRecord::columns();
    let mut st = c.prepare_cached(&format!(
        "SELECT {columns} FROM outbox WHERE ?1 IS NULL OR order_id = ?1 ORDER BY id"
    ))?;
    let rows = st.query_map([order_id], |r| OutboxRecord::from_row(r, 0))?;
    rows.collect()
}

/// Moves a pending notification's next attempt to `until` while an attempt
/// is in flight, so it is not picked again; if the sandbox stops before the
/// attempt is recorded, the notification is due again at `until`.
pub(crate) fn lease(c: &Connection, id: i64, until: Millis) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND next_attempt_at IS NOT NULL",
        params![id, until],
    )
    .map(drop)
}

/// Records one delivery attempt: the attempt's row, and on the
/// notification one more attempt, `delivered_at` (acknowledged), the next
/// attempt ([`DeliveryAttemptRecord::next_attempt_at`], `None` once
/// delivered or given up) and what went wrong (`error`, '' if nothing).
pub(crate) fn record_attempt(
    c: &Connection,
    a: &DeliveryAttemptRecord,
    delivered_at: Option<Millis>,
    error: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE outbox SET attempts = attempts + 1, delivered_at = ?2, next_attempt_at = ?3,
             last_error = ?4
         WHERE id = ?1",
        params![a.notification_id, delivered_at, a.next_attempt_at, error],
    )?;
    c.prepare_cached(&insert_sql(
        "delivery_attempts",
        DeliveryAttemptRecord::COLUMNS,
    ))?
    .execute(params_from_iter(a.params()))
    .map(drop)
}

/// Every delivery attempt of an order's notifications, oldest first.
pub(crate) fn delivery_attempts(
    c: &Connection,
    order_id: &str,
) -> rusqlite::Result<Vec<DeliveryAttemptRecord>> {
    let columns = DeliveryAttemptRecord::columns();
    let mut st = c.prepare_cached(&format!(
        "SELECT {columns} FROM delivery_attempts WHERE order_id = ?1 ORDER BY id"
    ))?;
    let rows = st.query_map([order_id], |r| DeliveryAttemptRecord::from_row(r, 0))?;
    rows.collect()
}

/// Every delivery attempt of one notification (outbox row), oldest first.
pub(crate) fn notification_attempts(
    c: &Connection,
    notification_id: i64,
) -> rusqlite::Result<Vec<DeliveryAttemptRecord>> {
    let columns = DeliveryAttemptRecord::columns();
    let mut st = c.prepare_cached(&format!(
        "SELECT {columns} FROM delivery_attempts WHERE notification_id = ?1 ORDER BY id"
    ))?;
    let rows = st.query_map([notification_id], |r| DeliveryAttemptRecord::from_row(r, 0))?;
    rows.collect()
}

/// The last `limit` delivery attempts of one notification, oldest first
/// (redeliveries make their number unbounded).
pub(crate) fn last_notification_attempts(
    c: &Connection,
    notification_id: i64,
    limit: i64,
) -> rusqlite::Result<Vec<DeliveryAttemptRecord>> {
    let columns = DeliveryAttemptRecord::columns();
    let mut st = c.prepare_cached(&format!(
        "SELECT {columns} FROM (
             SELECT id, {columns} FROM delivery_attempts WHERE notification_id = ?1
             ORDER BY id DESC LIMIT ?2)
         ORDER BY id"
    ))?;
    let rows = st.query_map(params![notification_id, limit], |r| {
        DeliveryAttemptRecord::from_row(r, 0)
    })?;
    rows.collect()
}

/// Up to `limit` notifications (of one order, if given) older than row
/// `before`, newest first; keyset paging on an index, like [`orders_page`].
pub(crate) fn notifications_page(
    c: &Connection,
    order_id: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<OutboxRecord>> {
    let columns = OutboxRecord::columns();
    let filter = if order_id.is_some() {
        "order_id = ?1 AND id < ?2"
    } else {
        "id < ?2"
    };
    let mut st = c.prepare_cached(&format!(
        "SELECT {columns} FROM outbox WHERE {filter} ORDER BY id DESC LIMIT ?3"
    ))?;
    let before = before.unwrap_or(i64::MAX);
    let rows = st.query_map(params![order_id, before, limit], |r| {
        OutboxRecord::from_row(r, 0)
    })?;
    rows.collect()
}

/// Makes notification `id` due at `now`, whether it was pending, delivered
/// or given up; the order it is about, `None` if there is no such
/// notification.
pub(crate) fn redeliver(c: &Connection, id: i64, now: Millis) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 RETURNING order_id",
        params![id, now],
        |r| r.get(0),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use et_model::NotificationKind::{OrderStatusChange, PaymentSuccess};

    use super::*;
    use crate::store::test_store as store;

    #[test]
    fn delivery_attempts_read_back_per_order_and_per_notification() {
        let (_d, s) = store();
        let attempt = |notification_id, order_id: &str, at| DeliveryAttemptRecord {
            notification_id,
            order_id: order_id.to_owned(),
            attempted_at: at,
            url: "http://x/n".into(),
            http_status: Some(500),
            failure: Some(DeliveryFailure::NotAcknowledged),
            reply_head: b"\xffFAIL".to_vec(),
            latency_ms: 3,
            next_attempt_at: Some(at + 60_000),
        };
        let (a, b, other) = s
            .tx(|c| {
                let a = enqueue(c, "ET1", PaymentSuccess, "http://x/n", "{}", 0)?;
                let b = enqueue(c, "ET1", OrderStatusChange, "http://x/n", "{}", 0)?;
                let other = enqueue(c, "ET2", OrderStatusChange, "http://x/n", "{}", 0)?;
                let timeout = DeliveryAttemptRecord {
                    http_status: None,
                    failure: Some(DeliveryFailure::Timeout),
                    reply_head: vec![],
                    next_attempt_at: None,
                    ..attempt(a, "ET1", 20)
                };
                for row in [attempt(a, "ET1", 10), attempt(b, "ET1", 15), timeout] {
                    record_attempt(c, &row, None, "")?;
                }
                record_attempt(c, &attempt(other, "ET2", 10), None, "")?;
                Ok::<_, rusqlite::Error>((a, b, other))
            })
            .expect("write");
        let of_order = s.tx(|c| delivery_attempts(c, "ET1")).expect("read");
        let times: Vec<_> = of_order.iter().map(|r| r.attempted_at).collect();
        assert_eq!(times, [10, 15, 20], "oldest first, only ET1's");
        assert_eq!(of_order[0], attempt(a, "ET1", 10), "round trip, bytes kept");
        assert_eq!(
            (of_order[2].http_status, of_order[2].next_attempt_at),
            (None, None)
        );
        let of_a = s.tx(|c| notification_attempts(c, a)).expect("read");
        assert_eq!(of_a.len(), 2);
        assert_eq!(
            s.tx(|c| notification_attempts(c, b)).expect("read").len(),
            1
        );
        assert_eq!(
            s.tx(|c| notification_attempts(c, other))
                .expect("read")
                .len(),
            1
        );
        assert!(s
            .tx(|c| delivery_attempts(c, "ET3"))
            .expect("read")
            .is_empty());
    }

    #[test]
    fn outbox_attempts_are_recorded() {
        let (_d, s) = store();
        let id = s
            .tx(|c| enqueue(c, "ET1", PaymentSuccess, "http://x", "{}", 10))
            .expect("enqueue");
        assert_eq!(
            s.tx(|c| due_notifications(c, 9, 4, 10)).expect("due"),
            vec![]
        );
        assert_eq!(s.tx(|c| next_due(c)).expect("next"), Some(10));
        let attempt = |next_attempt_at, failure| DeliveryAttemptRecord {
            notification_id: id,
            order_id: "ET1".into(),
            attempted_at: 10,
            url: "http://x".into(),
            http_status: Some(500),
            failure,
            reply_head: vec![],
            latency_ms: 1,
            next_attempt_at,
        };
        let failed = attempt(Some(70), Some(DeliveryFailure::NotAcknowledged));
        s.tx(|c| record_attempt(c, &failed, None, "HTTP 500"))
            .expect("attempt");
        let rows = s.tx(|c| due_notifications(c, 70, 4, 10)).expect("due");
        assert_eq!(
            (rows[0].attempts, rows[0].last_error.as_str()),
            (1, "HTTP 500")
        );
        s.tx(|c| record_attempt(c, &attempt(None, None), Some(80), ""))
            .expect("ok");
        let recorded = s.tx(|c| notification_attempts(c, id)).expect("attempts");
        assert_eq!(
            recorded,
            [failed, attempt(None, None)],
            "both attempts, typed"
        );
        assert_eq!(s.tx(|c| next_due(c)).expect("next"), None);
        let all = s.tx(|c| notifications(c, Some("ET1"))).expect("all");
        assert_eq!(all[0].delivered_at, Some(80));
    }

    #[test]
    fn due_notifications_take_turns_per_endpoint_one_per_order() {
        let (_d, s) = store();
        let ids = s
            .tx(|c| {
                let mut ids = Vec::new();
                for (order, url) in [
                    ("A1", "http://a:1/n?x"),
                    ("A2", "http://a:1/other"),
                    ("A3", "http://a:1"),
                    ("A4", "http://a:1#f"),
                    ("B1", "http://b:2/n"),
                    ("B1", "http://b:2/n"),
                    ("B2", "http://b:2/m"),
                    ("C1", "http://a:10/n"),
                ] {
                    ids.push(enqueue(c, order, PaymentSuccess, url, "{}", 0)?);
                }
                Ok::<_, rusqlite::Error>(ids)
            })
            .expect("enqueue");
        let due = |per_endpoint, limit| {
            s.tx(|c| due_notifications(c, 0, per_endpoint, limit))
                .expect("due")
                .iter()
                .map(|n| n.id)
                .collect::<Vec<_>>()
        };
        // Turn 1: a:1, b:2 and a:10 each; turn 2: a:1 and b:2's next order.
        assert_eq!(due(2, 100), [ids[0], ids[4], ids[7], ids[1], ids[6]]);
        assert_eq!(due(2, 2), [ids[0], ids[4]]);
        assert_eq!(due(4, 100).len(), 7, "B1's second waits for its first");
        let all = s.tx(|c| notifications(c, None)).expect("all");
        assert_eq!(all[2].endpoint, "http://a:1");
        assert_eq!(all[7].endpoint, "http://a:10");
    }

    #[test]
    fn an_endpoint_is_scheme_host_and_port() {
        assert_eq!(endpoint("http://127.0.0.1:9/n?x=1"), "http://127.0.0.1:9");
        assert_eq!(endpoint("http://a.test"), "http://a.test");
        assert_eq!(endpoint("http://a.test#f"), "http://a.test");
        assert_eq!(endpoint("no scheme/x"), "no scheme");
    }
}
