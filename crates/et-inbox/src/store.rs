//! One set of semantics, two stores: [`SqliteStore`](crate::SqliteStore)
//! and [`PgStore`](crate::PgStore) implement [`Store`], and the tests run
//! the same checks against both.

use std::future::Future;
use std::time::Duration;

use crate::state::state;
use crate::{Claimed, Counts, Error, Inserted, NewEvent, TrackedOrder};

/// Where the inbox keeps events and tracked orders.
///
/// Event states: `pending` → (claim) → `claimed` → `done`, or back to
/// `pending` with a later `available_at` after a failure, or `dead` after
/// the last allowed attempt. A claim whose lease ended is claimable again,
/// so a crashed consumer's batch is not stuck.
pub trait Store: Clone + Send + Sync + 'static {
    /// Stores `event` unless its dedup key is already stored, atomically
    /// (two instances inserting the same key at the same moment store it
    /// once), and records its order status. Returns once committed.
    fn insert(&self, event: &NewEvent) -> impl Future<Output = Result<Inserted, Error>> + Send;

    /// Claims up to `limit` claimable events for `lease`: pending ones whose
    /// retry time has come and claimed ones whose lease ended. Events whose
    /// lease ended after their `max_attempts`-th attempt are set aside as
    /// dead instead, and so is a row this version cannot read (a
    /// hand-edited table; its `last_error` says what is wrong), without
    /// keeping the rest of the batch from being handed out. Two consumers
    /// never hold the same event at once.
    fn claim(
        &self,
        limit: u32,
        lease: Duration,
        max_attempts: u32,
    ) -> impl Future<Output = Result<Vec<Claimed>, Error>> + Send;

    /// Marks a claimed event done; [`Error::LeaseLost`] if the claim is no
    /// longer this one's. Marking it again under the same claim (a retry
    /// after a lost reply, or after the processing completed it in its own
    /// transaction) is `Ok` and changes nothing.
    fn complete(&self, claim: &Claimed) -> impl Future<Output = Result<(), Error>> + Send;

    /// Extends to `lease` from now the lease of every event still held
    /// under the claim `batch` came from (one [`claim`](Self::claim) call's
    /// events share it), and returns their ids in increasing order: empty
    /// once none is held any more. A consumer renews while it works, so
    /// that a slow event is not claimed a second time.
    fn renew(
        &self,
        batch: &Claimed,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<i64>, Error>> + Send;

    /// Releases a claimed event after a failure: claimable again after
    /// `retry_in`, or set aside as dead when `retry_in` is `None`.
    fn fail(
        &self,
        claim: &Claimed,
        retry_in: Option<Duration>,
        reason: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// How many events are in each state.
    fn counts(&self) -> impl Future<Output = Result<Counts, Error>> + Send;

    /// Adds an order to the table the reconciler reads (no-op if present).
    fn track_order(&self, order_id: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Up to `limit` tracked orders whose last status is not final, with ids
    /// after `after` (in id order, for paging).
    fn open_orders(
        &self,
        after: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<TrackedOrder>, Error>> + Send;
}

/// The conflict clause of both stores' insert into `et_inbox_orders`: a
/// status replaces the kept one only if it is newer by the time it took
/// effect (`status_time`), so changes arriving out of order never move an
/// order back. A dated status is newer than an undated one; of two from the
/// same second (or both undated) the later arrival wins, except that a
/// final status is not undone. An event without a status only adds the
/// order if it is missing.
macro_rules! keep_newest_status {
    () => {
        " ON CONFLICT (order_id) DO UPDATE SET
             status = excluded.status, status_time = excluded.status_time,
             final = excluded.final, updated_at = excluded.updated_at
         WHERE excluded.status IS NOT NULL AND (
             et_inbox_orders.status IS NULL
             OR coalesce(excluded.status_time, -1) > coalesce(et_inbox_orders.status_time, -1)
             OR (coalesce(excluded.status_time, -1) = coalesce(et_inbox_orders.status_time, -1)
                 AND (excluded.final OR NOT et_inbox_orders.final)))"
    };
}
pub(crate) use keep_newest_status;

/// The longest wait the stores write: a hundred years. Longer ones (a
/// lease or retry of `Duration::MAX`) are capped, so that "now" plus the
/// wait never overflows the database's integers.
pub(crate) const LONGEST: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `Duration` as whole milliseconds for the database, at most [`LONGEST`].
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.min(LONGEST).as_millis()).unwrap_or(i64::MAX)
}

/// The second migration, the same SQL in both stores.
pub(crate) const HELD_INDEX: &str = concat!(
    r"
-- The events a consumer holds, found by claim token while it renews them.
CREATE INDEX et_inbox_events_held ON et_inbox_events (claim_token) WHERE state = ",
    state!(Claimed),
    ";\n"
);

/// The migrations a schema at version `applied` still lacks, and the
/// version it has after them; a schema newer than this build knows is
/// [`Error::SchemaTooNew`].
pub(crate) fn pending<'a>(
    migrations: &'a [&'a str],
    applied: i64,
) -> Result<(&'a [&'a str], i64), Error> {
    let known = migrations.len() as i64;
    if applied > known {
        return Err(Error::SchemaTooNew {
            found: applied,
            known,
        });
    }
    Ok((migrations.get(applied as usize..).unwrap_or(&[]), known))
}
