//! Reads only the pages need, beside the store's own (each one bounded
//! query).

use rusqlite::{Connection, OptionalExtension};

use crate::machine::Event;

/// Whether the order's last timeline step was a declined payment: the
/// order still awaits payment, and its pages say that the last payment
/// was declined.
pub(crate) fn declined(c: &Connection, order_id: &str) -> rusqlite::Result<bool> {
    let last: Option<String> = c
        .query_row(
            "SELECT event FROM status_history WHERE order_id = ?1 ORDER BY id DESC LIMIT 1",
            [order_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(last.is_some_and(|e| e == Event::DeclinePayment.name()))
}
