//! An event's state, its stored name written once: the [`State`] enum for
//! Rust, [`state!`] for the SQL text both stores build with `concat!`.

use std::fmt;

use crate::Counts;

/// The stored name of a state, as a quoted SQL literal for `concat!`
/// (`state!(Claimed)` is `'claimed'`). The one place the names are written.
macro_rules! state {
    (Pending) => {
        "'pending'"
    };
    (Claimed) => {
        "'claimed'"
    };
    (Done) => {
        "'done'"
    };
    (Dead) => {
        "'dead'"
    };
}
pub(crate) use state;

/// Where an event is in its life: `Pending` → (claim) → `Claimed` → `Done`,
/// or back to `Pending` after a failure, or `Dead` after the last allowed
/// attempt (until an operator [requeues](crate::StoreAdmin::requeue) it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Waiting to be claimed (new, or failed and waiting for its retry).
    Pending,
    /// Claimed by a consumer (maybe with an expired lease).
    Claimed,
    /// Processed and marked done.
    Done,
    /// Set aside after its last allowed attempt, or unreadable.
    Dead,
}

impl State {
    /// Every state, in life order.
    pub const ALL: [State; 4] = [State::Pending, State::Claimed, State::Done, State::Dead];

    /// The name stored in the `state` column (and printed by `et inbox`).
    pub fn name(self) -> &'static str {
        let quoted = match self {
            State::Pending => state!(Pending),
            State::Claimed => state!(Claimed),
            State::Done => state!(Done),
            State::Dead => state!(Dead),
        };
        quoted.trim_matches('\'')
    }

    /// The state stored as `name`, or `None` for a name this version does
    /// not know (a hand-edited table).
    pub fn from_code(name: &str) -> Option<Self> {
        State::ALL.into_iter().find(|state| state.name() == name)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Counts {
    /// Adds one row of `SELECT state, count(*), min(received_at) … GROUP
    /// BY state` (both stores' query). A state this version does not know
    /// counts as dead: no consumer will claim it.
    pub(crate) fn add(&mut self, name: &str, n: i64, oldest_ms: Option<i64>) {
        let n = u64::try_from(n).unwrap_or(0);
        let count = match State::from_code(name) {
            Some(State::Pending) => {
                self.oldest_pending = oldest_ms
                    .and_then(|ms| u64::try_from(ms).ok())
                    .map(|ms| std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms));
                &mut self.pending
            }
            Some(State::Claimed) => &mut self.claimed,
            Some(State::Done) => &mut self.done,
            Some(State::Dead) | None => &mut self.dead,
        };
        *count += n;
    }
}

impl rusqlite::ToSql for State {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.name().into())
    }
}

impl tokio_postgres::types::ToSql for State {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.name().to_sql(ty, out)
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <&str as tokio_postgres::types::ToSql>::accepts(ty)
    }

    tokio_postgres::types::to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_reads_back_from_its_name_and_names_are_distinct() {
        for state in State::ALL {
            assert_eq!(State::from_code(state.name()), Some(state));
            assert!(!state.name().contains('\''));
        }
        let names: std::collections::BTreeSet<_> = State::ALL.map(State::name).into();
        assert_eq!(names.len(), State::ALL.len());
        assert_eq!(State::from_code("archived"), None);
    }
}
