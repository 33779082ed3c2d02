//! Jumps: `merchant_jump_place_order` requests waiting for the student.

use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::columns::{insert_sql, record, Record};
use crate::clock::Millis;

record! {
    /// A `merchant_jump_place_order` request waiting for the student: a
    /// row of `jumps`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) struct JumpRecord {
        /// The secret part of the jump address.
        pub token: String,
        /// Merchant that sent the student.
        pub merchant_number: String,
        /// Its sub-merchant.
        pub sub_merchant_number: String,
        /// The merchant's own order number (one jump per number).
        pub merchant_order_id: String,
        /// The request's `sensitive_data`, as JSON.
        pub request: String,
        /// The order the student placed, once placed.
        pub order_id: Option<String>,
        /// Sandbox time the jump was first asked for.
        pub created_at: Millis,
    }
}

/// Saves a jump request under its new token, or under the token an earlier
/// request with the same `merchant_order_id` got (a retry gets the same
/// address, and the newer request unless the order was placed); returns
/// the token in use.
pub(crate) fn upsert_jump(c: &Connection, j: &JumpRecord) -> rusqlite::Result<String> {
    c.execute(
        &format!(
            "{} ON CONFLICT (merchant_number, merchant_order_id)
             DO UPDATE SET request = excluded.request WHERE order_id IS NULL",
            insert_sql("jumps", JumpRecord::COLUMNS)
        ),
        params_from_iter(j.params()),
    )?;
    c.query_row(
        "SELECT token FROM jumps WHERE merchant_number = ?1 AND merchant_order_id = ?2",
        [&j.merchant_number, &j.merchant_order_id],
        |r| r.get(0),
    )
}

/// The jump with this token.
pub(crate) fn jump(c: &Connection, token: &str) -> rusqlite::Result<Option<JumpRecord>> {
    c.query_row(
        &format!(
            "SELECT {} FROM jumps WHERE token = ?1",
            JumpRecord::columns()
        ),
        [token],
        |r| JumpRecord::from_row(r, 0),
    )
    .optional()
}

/// Notes the order a jump's student placed.
pub(crate) fn set_jump_order(c: &Connection, token: &str, order_id: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE jumps SET order_id = ?2 WHERE token = ?1",
        [token, order_id],
    )
    .map(drop)
}
