//! Operating the inbox without SQL, on either store: counts and the oldest
//! pending event, events by state, one event in full, dead events sent back
//! to the consumer, done events purged. `et inbox` is a thin shell over it.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, TransactionBehavior};

use crate::event::{now_ms, unix_ms};
use crate::postgres::{now_ms as db_now_ms, sorted_ids};
use crate::state::state;
use crate::{Counts, Error, PgStore, Source, SqliteStore, State, Store};

/// The query reading the [`StoredEvent`]s `$filter` selects, their columns
/// in the order [`stored_event`] reads.
macro_rules! select_events {
    ($filter:literal) => {
        concat!(
            "SELECT id, dedup_key, source, order_id, fields, state, attempts, received_at,
             available_at, claimed_until, last_error, done_at FROM et_inbox_events ",
            $filter
        )
    };
}

/// How many events are in each state, and how long the oldest pending one
/// has waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Events per state.
    pub counts: Counts,
    /// When the oldest pending event was stored; `None` when none is.
    pub oldest_pending: Option<SystemTime>,
}

/// An event as stored, for an operator to look at: every column, read
/// without interpreting more than needed, so that a row the consumer set
/// aside as unreadable can be shown too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The row id (increasing in storage order).
    pub id: i64,
    /// The dedup key it was stored under.
    pub dedup_key: String,
    /// Where it came from; `None` for a source this version does not know.
    pub source: Option<Source>,
    /// The order it is about, if any.
    pub order_id: Option<String>,
    /// The notification's text fields as stored: a JSON object of strings
    /// (see [`field_map`](Self::field_map)).
    pub fields: String,
    /// Its state; `None` for a name this version does not know (counted
    /// as dead).
    pub state: Option<State>,
    /// Claims so far.
    pub attempts: u32,
    /// When it was stored.
    pub received_at: SystemTime,
    /// When it is claimable (a pending event waiting for its retry).
    pub available_at: SystemTime,
    /// When its latest claim's lease ends (or ended).
    pub claimed_until: Option<SystemTime>,
    /// Why its latest attempt failed, or why it was set aside.
    pub last_error: Option<String>,
    /// When it was marked done.
    pub done_at: Option<SystemTime>,
}

impl StoredEvent {
    /// [`fields`](Self::fields) as a map, or `None` when the stored text is
    /// not a JSON object of strings (a hand-edited row).
    pub fn field_map(&self) -> Option<BTreeMap<String, String>> {
        serde_json::from_str(&self.fields).ok()
    }
}

/// The operator's side of a [`Store`]: what `et inbox` runs.
pub trait StoreAdmin: Store {
    /// Counts per state and the oldest pending event's arrival.
    fn stats(&self) -> impl Future<Output = Result<Stats, Error>> + Send;

    /// Up to `limit` events in `state` with ids above `after`, in id order
    /// (pass the last id seen to page on).
    fn list(
        &self,
        state: State,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, Error>> + Send;

    /// The event with row id `id`, if stored.
    fn event(&self, id: i64) -> impl Future<Output = Result<Option<StoredEvent>, Error>> + Send;

    /// Sends the dead events among `ids` back to the consumer: pending and
    /// claimable now, with a fresh set of attempts (`last_error` keeps why
    /// it died until the next failure). Returns the ids requeued, in
    /// increasing order; the others were not dead or not stored.
    fn requeue(&self, ids: &[i64]) -> impl Future<Output = Result<Vec<i64>, Error>> + Send;

    /// Deletes the events marked done before `before`; how many. Their
    /// dedup keys go with them, so a copy ET delivers after that would be
    /// stored and processed again: keep `before` well behind ET's last
    /// retry of a notification.
    fn purge_done(&self, before: SystemTime) -> impl Future<Output = Result<u64, Error>> + Send;
}

/// Unix milliseconds as a time.
fn time(ms: i64) -> SystemTime {
    let ms = u64::try_from(ms).unwrap_or(0);
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// One row's columns by position, whichever database returned it.
trait Columns {
    fn text(&self, at: usize) -> Result<Option<String>, Error>;
    fn int(&self, at: usize) -> Result<Option<i64>, Error>;
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, at: usize) -> Result<Option<String>, Error> {
        Ok(self.get(at)?)
    }

    fn int(&self, at: usize) -> Result<Option<i64>, Error> {
        Ok(self.get(at)?)
    }
}

impl Columns for tokio_postgres::Row {
    fn text(&self, at: usize) -> Result<Option<String>, Error> {
        Ok(self.try_get(at)?)
    }

    fn int(&self, at: usize) -> Result<Option<i64>, Error> {
        // `attempts` is an INTEGER, the times BIGINTs.
        match self.try_get::<_, Option<i64>>(at) {
            Ok(value) => Ok(value),
            Err(_) => Ok(self.try_get::<_, Option<i32>>(at)?.map(i64::from)),
        }
    }
}

/// A row of [`columns!`] as a [`StoredEvent`].
fn stored_event(row: &impl Columns) -> Result<StoredEvent, Error> {
    Ok(StoredEvent {
        id: row.int(0)?.unwrap_or_default(),
        dedup_key: row.text(1)?.unwrap_or_default(),
        source: row.text(2)?.as_deref().and_then(Source::from_code),
        order_id: row.text(3)?,
        fields: row.text(4)?.unwrap_or_default(),
        state: row.text(5)?.as_deref().and_then(State::from_code),
        attempts: u32::try_from(row.int(6)?.unwrap_or_default()).unwrap_or(u32::MAX),
        received_at: time(row.int(7)?.unwrap_or_default()),
        available_at: time(row.int(8)?.unwrap_or_default()),
        claimed_until: row.int(9)?.map(time),
        last_error: row.text(10)?,
        done_at: row.int(11)?.map(time),
    })
}

impl StoreAdmin for SqliteStore {
    async fn stats(&self) -> Result<Stats, Error> {
        let counts = self.counts().await?;
        let oldest: Option<i64> = self
            .blocking(|conn| {
                Ok(conn.query_row(
                    concat!(
                        "SELECT min(received_at) FROM et_inbox_events WHERE state = ",
                        state!(Pending)
                    ),
                    [],
                    |row| row.get(0),
                )?)
            })
            .await?;
        Ok(Stats {
            counts,
            oldest_pending: oldest.map(time),
        })
    }

    async fn list(&self, state: State, after: i64, limit: u32) -> Result<Vec<StoredEvent>, Error> {
        self.blocking(move |conn| {
            let mut stmt = conn.prepare(select_events!(
                "WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
            ))?;
            let mut rows = stmt.query(params![state, after, limit])?;
            let mut events = Vec::new();
            while let Some(row) = rows.next()? {
                events.push(stored_event(row)?);
            }
            Ok(events)
        })
        .await
    }

    async fn event(&self, id: i64) -> Result<Option<StoredEvent>, Error> {
        self.blocking(move |conn| {
            let mut stmt = conn.prepare(select_events!("WHERE id = ?1"))?;
            let mut rows = stmt.query(params![id])?;
            rows.next()?.map(stored_event).transpose()
        })
        .await
    }

    async fn requeue(&self, ids: &[i64]) -> Result<Vec<i64>, Error> {
        let ids = ids.to_vec();
        self.blocking(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            let mut requeued = Vec::new();
            for id in ids {
                let changed = tx.execute(
                    concat!(
                        "UPDATE et_inbox_events SET state = ",
                        state!(Pending),
                        ", attempts = 0, available_at = ?2, claim_token = NULL
                         WHERE id = ?1 AND state = ",
                        state!(Dead)
                    ),
                    params![id, now],
                )?;
                if changed == 1 {
                    requeued.push(id);
                }
            }
            tx.commit()?;
            requeued.sort_unstable();
            requeued.dedup();
            Ok(requeued)
        })
        .await
    }

    async fn purge_done(&self, before: SystemTime) -> Result<u64, Error> {
        let before = unix_ms(before);
        self.blocking(move |conn| {
            let deleted = conn.execute(
                concat!(
                    "DELETE FROM et_inbox_events WHERE done_at < ?1 AND state = ",
                    state!(Done)
                ),
                params![before],
            )?;
            Ok(deleted as u64)
        })
        .await
    }
}

impl StoreAdmin for PgStore {
    async fn stats(&self) -> Result<Stats, Error> {
        let counts = self.counts().await?;
        let rows = self
            .query(
                concat!(
                    "SELECT min(received_at) FROM et_inbox_events WHERE state = ",
                    state!(Pending)
                ),
                &[],
            )
            .await?;
        let oldest = match rows.first() {
            Some(row) => row.try_get::<_, Option<i64>>(0)?,
            None => None,
        };
        Ok(Stats {
            counts,
            oldest_pending: oldest.map(time),
        })
    }

    async fn list(&self, state: State, after: i64, limit: u32) -> Result<Vec<StoredEvent>, Error> {
        let rows = self
            .query(
                select_events!("WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3"),
                &[&state, &after, &i64::from(limit)],
            )
            .await?;
        rows.iter().map(stored_event).collect()
    }

    async fn event(&self, id: i64) -> Result<Option<StoredEvent>, Error> {
        let rows = self.query(select_events!("WHERE id = $1"), &[&id]).await?;
        rows.first().map(stored_event).transpose()
    }

    async fn requeue(&self, ids: &[i64]) -> Result<Vec<i64>, Error> {
        let rows = self
            .query(
                concat!(
                    "UPDATE et_inbox_events SET state = ",
                    state!(Pending),
                    ", attempts = 0, available_at = ",
                    db_now_ms!(),
                    ", claim_token = NULL WHERE id = ANY($1) AND state = ",
                    state!(Dead),
                    " RETURNING id"
                ),
                &[&ids],
            )
            .await?;
        sorted_ids(&rows)
    }

    async fn purge_done(&self, before: SystemTime) -> Result<u64, Error> {
        self.execute(
            concat!(
                "DELETE FROM et_inbox_events WHERE done_at < $1 AND state = ",
                state!(Done)
            ),
            &[&unix_ms(before)],
        )
        .await
    }
}
