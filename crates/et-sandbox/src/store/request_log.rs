//! The request log's table: the envelopes `POST /server` received, the
//! last [`REQUEST_LOG_ROWS`](crate::REQUEST_LOG_ROWS) of them.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::columns::{insert_sql, record, Record};
use crate::clock::Millis;

record! {
    /// One envelope received on `POST /server`, as the request log keeps it.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub(crate) struct LoggedRequest {
        /// Log row id (0 before it is stored).
        pub id: i64,
        /// Sandbox time it arrived.
        pub received_at: Millis,
        /// `merchant_number` as sent ('' if unreadable).
        pub merchant_number: String,
        /// `server_type` as sent ('' if unreadable).
        pub server_type: String,
        /// `serial_number` as sent ('' if unreadable).
        pub serial_number: String,
        /// Whether the envelope verified and decrypted.
        pub verified: bool,
        /// Why it did not ('' if it did).
        pub refusal: String,
        /// The `status_code` answered.
        pub status_code: String,
        /// The `message` answered.
        pub message: String,
        /// Microseconds from the body's arrival to the signed answer.
        pub latency_us: i64,
        /// The decrypted `data` and `sensitive_data` (a JSON object holding
        /// both), or the body as received when it did not open; '' in lists.
        pub payload: String,
        /// Whether `payload` was cut at the log's size bound.
        pub truncated: bool,
    }
}

/// Appends to the request log (all but `id`, which SQLite gives) and
/// drops all but its last `keep` rows.
pub(crate) fn log_request(c: &Connection, e: &LoggedRequest, keep: i64) -> rusqlite::Result<()> {
    let (_id, columns) = LoggedRequest::COLUMNS.split_at(1);
    c.prepare_cached(&insert_sql("request_log", columns))?
        .execute(params_from_iter(e.params().into_iter().skip(1)))?;
    let last = c.last_insert_rowid();
    c.prepare_cached("DELETE FROM request_log WHERE id <= ?1")?
        .execute([last.saturating_sub(keep)])
        .map(drop)
}

/// The select list of a page: every column but the payload, read as ''.
fn without_payload() -> String {
    let columns =
        LoggedRequest::COLUMNS
            .iter()
            .map(|&c| if c == "payload" { "'' AS payload" } else { c });
    columns.collect::<Vec<_>>().join(", ")
}

/// Up to `limit` log rows older than `before` (all if `None`), newest
/// first, without their payloads.
pub(crate) fn request_log(
    c: &Connection,
    before: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<LoggedRequest>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {} FROM request_log WHERE ?1 IS NULL OR id < ?1 ORDER BY id DESC LIMIT ?2",
        without_payload()
    ))?;
    let rows = st.query_map(params![before, limit], |r| LoggedRequest::from_row(r, 0))?;
    rows.collect()
}

/// One log row with its payload.
pub(crate) fn logged_request(c: &Connection, id: i64) -> rusqlite::Result<Option<LoggedRequest>> {
    c.query_row(
        &format!(
            "SELECT {} FROM request_log WHERE id = ?1",
            LoggedRequest::columns()
        ),
        [id],
        |r| LoggedRequest::from_row(r, 0),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_store as store;

    #[test]
    fn the_request_log_keeps_its_last_rows() {
        let (_d, s) = store();
        for i in 0..7 {
            let entry = LoggedRequest {
                serial_number: i.to_string(),
                ..LoggedRequest::default()
            };
            s.tx(|c| log_request(c, &entry, 3)).expect("logged");
        }
        let kept = s.tx(|c| request_log(c, None, 50)).expect("read");
        let serials: Vec<&str> = kept.iter().map(|e| e.serial_number.as_str()).collect();
        assert_eq!(serials, ["6", "5", "4"]);
        let older = s
            .tx(|c| request_log(c, Some(kept[1].id), 50))
            .expect("read");
        assert_eq!(older.len(), 1, "paged by id");
    }
}
