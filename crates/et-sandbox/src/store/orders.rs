//! Orders and what hangs off them: attachments, the institution, the
//! status timeline and the creating request.

use et_model::{Amount, OrderStatus};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::columns::{insert_sql, record, Param, Record};
use crate::clock::Millis;

record! {
    /// One order as stored: a row of `orders` (but its `seq`).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct OrderRecord {
        /// ET order id (`ET…`).
        pub order_id: String,
        /// Owning merchant.
        pub merchant_number: String,
        /// Owning sub-merchant.
        pub sub_merchant_number: String,
        /// The merchant's own order number.
        pub merchant_order_id: String,
        /// Order status.
        pub status: OrderStatus,
        /// Order currency.
        pub currency_code: String,
        /// Amount in the order currency.
        pub amount: Amount,
        /// Amount in RMB.
        pub tuition_rmb: Amount,
        /// Fee in RMB.
        pub counter_fee: Amount,
        /// `notify_url` given with the order ('' if none).
        pub notify_url: String,
        /// `status_change_notify_url` given with the order ('' if none).
        pub status_change_notify_url: String,
        /// `notify_url` given with the payment-address request ('' if none).
        pub pay_notify_url: String,
        /// Status to return to when a refund fails.
        pub status_before_refund: Option<OrderStatus>,
        /// Merchant refund id of the last refund application ('' if none).
        pub refund_order_id: String,
        /// Amount of the last refund application.
        pub refund_amount: Option<Amount>,
        /// Sandbox time of creation.
        pub created_at: Millis,
        /// Sandbox time of the last change.
        pub updated_at: Millis,
    }
}

impl OrderRecord {
    /// A new order in status 0, created at `now`, its id still to come.
    pub(crate) fn new(new: NewOrder, now: Millis) -> Self {
        OrderRecord {
            order_id: String::new(),
            merchant_number: new.merchant_number,
            sub_merchant_number: new.sub_merchant_number,
            merchant_order_id: new.merchant_order_id,
            status: OrderStatus::AwaitingPayment,
            currency_code: new.currency_code,
            amount: new.amount,
            tuition_rmb: new.tuition_rmb,
            counter_fee: new.counter_fee,
            notify_url: new.notify_url,
            status_change_notify_url: new.status_change_notify_url,
            pay_notify_url: String::new(),
            status_before_refund: None,
            refund_order_id: String::new(),
            refund_amount: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[cfg(test)]
impl OrderRecord {
    /// An order of 100.00 GBP (920.00 RMB, fee 50.00) in `status`, for
    /// tests: `ET20240101000000001` of merchant `ET82009`, created at 0.
    pub(crate) fn sample(status: OrderStatus) -> Self {
        OrderRecord {
            order_id: "ET20240101000000001".into(),
            status,
            ..OrderRecord::new(NewOrder::sample(), 0)
        }
    }
}

#[cfg(test)]
impl NewOrder {
    /// The order of [`OrderRecord::sample`], for tests: 100.00 GBP of
    /// merchant `ET82009`.
    pub(crate) fn sample() -> Self {
        NewOrder {
            merchant_number: "ET82009".into(),
            sub_merchant_number: "ET82009S001".into(),
            merchant_order_id: "M1".into(),
            currency_code: "GBP".into(),
            amount: Amount::from_decimal(rust_decimal::Decimal::new(10000, 2)),
            tuition_rmb: Amount::from_decimal(rust_decimal::Decimal::new(92000, 2)),
            counter_fee: Amount::from_decimal(rust_decimal::Decimal::new(5000, 2)),
            notify_url: "http://127.0.0.1:1/n".into(),
            status_change_notify_url: String::new(),
        }
    }
}

/// A new order: what its creator says.
#[derive(Clone, Debug)]
pub(crate) struct NewOrder {
    /// Owning merchant.
    pub merchant_number: String,
    /// Owning sub-merchant.
    pub sub_merchant_number: String,
    /// The merchant's own order number.
    pub merchant_order_id: String,
    /// Order currency.
    pub currency_code: String,
    /// Amount in the order currency.
    pub amount: Amount,
    /// Amount in RMB.
    pub tuition_rmb: Amount,
    /// Fee in RMB.
    pub counter_fee: Amount,
    /// Order `notify_url`.
    pub notify_url: String,
    /// Order `status_change_notify_url`.
    pub status_change_notify_url: String,
}

/// Inserts an order in status 0 and returns its ET order id,
/// `ET` + Beijing date + a 9-digit sequence (19 characters).
pub(crate) fn insert_order(
    c: &Connection,
    o: &NewOrder,
    compact_date: &str,
    now: Millis,
) -> rusqlite::Result<String> {
    let mut row = OrderRecord::new(o.clone(), now);
    // Unique until the sequence number it gets names it.
    row.order_id = format!("pending-{:016x}", rand::random::<u64>());
    c.prepare_cached(&insert_sql("orders", OrderRecord::COLUMNS))?
        .execute(params_from_iter(row.params()))?;
    let seq = c.last_insert_rowid();
    let order_id = format!("ET{compact_date}{seq:09}");
    c.execute(
        "UPDATE orders SET order_id = ?1 WHERE seq = ?2",
        params![order_id, seq],
    )?;
    Ok(order_id)
}

/// The one order `SELECT … FROM orders {rest}` finds.
fn one_order(
    c: &Connection,
    rest: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Option<OrderRecord>> {
    let sql = format!("SELECT {} FROM orders {rest}", OrderRecord::columns());
    c.query_row(&sql, params, |r| OrderRecord::from_row(r, 0))
        .optional()
}

/// Reads one order.
pub(crate) fn order(c: &Connection, order_id: &str) -> rusqlite::Result<Option<OrderRecord>> {
    one_order(c, "WHERE order_id = ?1", [order_id])
}

/// The merchant's order with this `merchant_order_id`, if any.
pub(crate) fn order_by_merchant_order_id(
    c: &Connection,
    merchant_number: &str,
    merchant_order_id: &str,
) -> rusqlite::Result<Option<OrderRecord>> {
    one_order(
        c,
        "WHERE merchant_number = ?1 AND merchant_order_id = ?2 ORDER BY seq LIMIT 1",
        [merchant_number, merchant_order_id],
    )
}

/// Ids of the orders in `status` created at or before `cutoff`.
pub(crate) fn orders_created_before(
    c: &Connection,
    status: OrderStatus,
    cutoff: Millis,
) -> rusqlite::Result<Vec<String>> {
    let mut st = c.prepare_cached(
        "SELECT order_id FROM orders WHERE status = ?1 AND created_at <= ?2 ORDER BY seq",
    )?;
    let rows = st.query_map(params![Param(&status), cutoff], |r| r.get(0))?;
    rows.collect()
}

/// Writes an order's mutable fields back.
pub(crate) fn update_order(c: &Connection, o: &OrderRecord) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE orders SET status = ?2, pay_notify_url = ?3, status_before_refund = ?4,
             refund_order_id = ?5, refund_amount = ?6, updated_at = ?7
         WHERE order_id = ?1",
        params![
            o.order_id,
            Param(&o.status),
            o.pay_notify_url,
            Param(&o.status_before_refund),
            o.refund_order_id,
            Param(&o.refund_amount),
            o.updated_at
        ],
    )
    .map(drop)
}

/// Up to `limit` orders (in `status`, if given) older than the one with
/// sequence number `before`, newest first, each with its sequence number.
/// Keyset paging on an index: a page costs the same however deep it is.
pub(crate) fn orders_page(
    c: &Connection,
    status: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<(i64, OrderRecord)>> {
    // Two statements, so each has a plan that walks one index backwards
    // (`?1` is unused in the first; SQLite numbers parameters by index).
    let filter = if status.is_some() {
        "status = ?1 AND seq < ?2"
    } else {
        "seq < ?2"
    };
    let mut st = c.prepare_cached(&format!(
        "SELECT {}, seq FROM orders WHERE {filter} ORDER BY seq DESC LIMIT ?3",
        OrderRecord::columns()
    ))?;
    let before = before.unwrap_or(i64::MAX);
    let rows = st.query_map(params![status, before, limit], |r| {
        Ok((
            r.get(OrderRecord::COLUMNS.len())?,
            OrderRecord::from_row(r, 0)?,
        ))
    })?;
    rows.collect()
}

/// Inserts `row` into `table` (replacing the order's row, if
/// `or_replace`) for order `order_id`: the tables keyed by order.
fn insert_for_order<T: Record>(
    c: &Connection,
    table: &str,
    order_id: &str,
    row: &T,
    or_replace: bool,
) -> rusqlite::Result<()> {
    let all: Vec<&str> = std::iter::once("order_id")
        .chain(T::COLUMNS.iter().copied())
        .collect();
    let mut sql = insert_sql(table, &all);
    if or_replace {
        sql = sql.replacen("INSERT", "INSERT OR REPLACE", 1);
    }
    let order_id = order_id.to_owned();
    let values = std::iter::once(Param(&order_id)).chain(row.params());
    c.prepare_cached(&sql)?
        .execute(params_from_iter(values))
        .map(drop)
}

/// The order's row of a table keyed by order.
fn for_order<T: Record>(
    c: &Connection,
    table: &str,
    order_id: &str,
) -> rusqlite::Result<Option<T>> {
    let sql = format!("SELECT {} FROM {table} WHERE order_id = ?1", T::columns());
    c.query_row(&sql, [order_id], |r| T::from_row(r, 0))
        .optional()
}

/// How many attachments of one type an order has.
pub(crate) fn count_attachments(
    c: &Connection,
    order_id: &str,
    attachment_type: i64,
) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM attachments WHERE order_id = ?1 AND attachment_type = ?2",
        params![order_id, attachment_type],
        |r| r.get(0),
    )
}

/// Stores an attachment and returns its id.
pub(crate) fn insert_attachment(
    c: &Connection,
    order_id: &str,
    attachment_type: i64,
    file_name: &str,
    base64: &str,
    now: Millis,
) -> rusqlite::Result<i64> {
    c.execute(
        "INSERT INTO attachments (order_id, attachment_type, file_name, base64, uploaded_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![order_id, attachment_type, file_name, base64, now],
    )?;
    Ok(c.last_insert_rowid())
}

record! {
    /// An attachment without its content.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) struct AttachmentInfo {
        /// Row id (its download address).
        pub id: i64,
        /// `attachment_type` code.
        pub attachment_type: i64,
        /// File name as sent.
        pub file_name: String,
        /// Length of the Base64 text.
        pub base64_len: i64,
        /// Sandbox time of the upload.
        pub uploaded_at: Millis,
    }
}

/// An order's attachments, oldest first, at most `limit`.
pub(crate) fn attachments(
    c: &Connection,
    order_id: &str,
    limit: i64,
) -> rusqlite::Result<Vec<AttachmentInfo>> {
    let columns = AttachmentInfo::columns().replace("base64_len", "length(base64)");
    let mut st = c.prepare_cached(&format!(
        "SELECT {columns} FROM attachments WHERE order_id = ?1 ORDER BY id LIMIT ?2"
    ))?;
    let rows = st.query_map(params![order_id, limit], |r| AttachmentInfo::from_row(r, 0))?;
    rows.collect()
}

/// An attachment's file name and Base64 content.
pub(crate) fn attachment(c: &Connection, id: i64) -> rusqlite::Result<Option<(String, String)>> {
    c.query_row(
        "SELECT file_name, base64 FROM attachments WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

record! {
    /// The institution an order was placed for, named as the directory named
    /// it then.
    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
    pub struct OrderInstitution {
        /// The directory's code.
        pub institution_code: String,
        /// English name.
        pub institution_name_en: String,
        /// Chinese name ('' if the directory has none).
        pub institution_name_ch: String,
    }
}

/// Records the institution of a new order.
pub(crate) fn insert_order_institution(
    c: &Connection,
    order_id: &str,
    i: &et_model::Institution,
) -> rusqlite::Result<()> {
    let row = OrderInstitution {
        institution_code: i.institution_code.as_str().to_owned(),
        institution_name_en: i.institution_name_en.clone().unwrap_or_default(),
        institution_name_ch: i.institution_name_ch.clone().unwrap_or_default(),
    };
    insert_for_order(c, "order_institutions", order_id, &row, false)
}

/// The institution of an order, if it was placed for one.
pub(crate) fn order_institution(
    c: &Connection,
    order_id: &str,
) -> rusqlite::Result<Option<OrderInstitution>> {
    for_order(c, "order_institutions", order_id)
}

record! {
    /// One step of an order's status timeline.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) struct StatusChange {
        /// Sandbox time of the change.
        pub at: Millis,
        /// The event's name (`pay`, `decline-payment`, `remit`, …).
        pub event: String,
        /// Status before.
        pub from_status: OrderStatus,
        /// Status after.
        pub to_status: OrderStatus,
        /// What else is worth knowing ('' if nothing), e.g. the pay type chosen.
        pub note: String,
    }
}

/// Adds a step to an order's timeline.
pub(crate) fn record_status(
    c: &Connection,
    order_id: &str,
    s: &StatusChange,
) -> rusqlite::Result<()> {
    insert_for_order(c, "status_history", order_id, s, false)
}

/// Sets the note of an order's last timeline step.
pub(crate) fn note_last_status(c: &Connection, order_id: &str, note: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE status_history SET note = ?2
         WHERE id = (SELECT MAX(id) FROM status_history WHERE order_id = ?1)",
        [order_id, note],
    )
    .map(drop)
}

/// The last `limit` steps of an order's timeline, oldest first.
pub(crate) fn status_history(
    c: &Connection,
    order_id: &str,
    limit: i64,
) -> rusqlite::Result<Vec<StatusChange>> {
    let columns = StatusChange::columns();
    let mut st = c.prepare_cached(&format!(
        "SELECT {columns} FROM (
             SELECT id, {columns} FROM status_history
             WHERE order_id = ?1 ORDER BY id DESC LIMIT ?2)
         ORDER BY id"
    ))?;
    let rows = st.query_map(params![order_id, limit], |r| StatusChange::from_row(r, 0))?;
    rows.collect()
}

record! {
    /// The decrypted request that created an order.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) struct OrderRequest {
        /// `server_type` as sent.
        pub server_type: String,
        /// `data`, JSON text.
        pub data: String,
        /// Decrypted `sensitive_data`, JSON text.
        pub sensitive_data: String,
    }
}

/// Keeps the request that created an order.
pub(crate) fn insert_order_request(
    c: &Connection,
    order_id: &str,
    r: &OrderRequest,
) -> rusqlite::Result<()> {
    insert_for_order(c, "order_requests", order_id, r, true)
}

/// The request that created an order, if it came through `POST /server`.
pub(crate) fn order_request(
    c: &Connection,
    order_id: &str,
) -> rusqlite::Result<Option<OrderRequest>> {
    for_order(c, "order_requests", order_id)
}
