//! `et inbox …`: operating a notification inbox (et-inbox, on SQLite or
//! PostgreSQL) without SQL: counts, events by state, one event in full,
//! dead events sent back to the consumer, done events purged.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use et_inbox::{PgStore, SqliteStore, State, StoreAdmin, StoredEvent};
use et_model::BeijingTime;

use crate::output;
use crate::{CliResult, Failure};

/// `et inbox`.
#[derive(Debug, Args)]
pub(crate) struct InboxArgs {
    /// The inbox: a SQLite file, or a `postgresql://user:password@host/db`
    /// URL (better given through the environment, out of the process list).
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "ET_INBOX_STORE",
        hide_env_values = true
    )]
    pub store: String,
    /// What to do.
    #[command(subcommand)]
    pub command: InboxCommand,
}

/// The `et inbox` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum InboxCommand {
    /// Events per state, and how long the oldest pending one has waited.
    Stats,
    /// Events in one state, in id order.
    List(ListArgs),
    /// One event in full: its fields, attempts and last error.
    Show {
        /// The event's id (from `et inbox list`).
        id: i64,
    },
    /// Send dead events back to the consumer, with a fresh set of attempts.
    Requeue {
        /// The events' ids.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Delete events marked done before DATE. Their dedup keys go too, so a
    /// copy ET delivers later would be processed again: keep DATE well
    /// behind ET's last retry of a notification.
    Purge {
        /// `yyyy-MM-dd` or `yyyy-MM-dd HH:mm:ss`, Beijing time (ET's zone).
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        done_before: SystemTime,
    },
}

/// `et inbox list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// The dead events (the same as `--state dead`).
    #[arg(long, conflicts_with = "state")]
    pub dead: bool,
    /// The state listed.
    #[arg(long, default_value = "pending", value_parser = parse_state)]
    pub state: State,
    /// Only events with ids above this one (the last id of the previous page).
    #[arg(long, default_value_t = 0, value_name = "ID")]
    pub after: i64,
    /// At most this many events.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
}

/// Runs `et inbox …` on the store `--store` names.
pub(crate) async fn command(args: &InboxArgs) -> CliResult {
    let is_url = ["postgresql://", "postgres://"]
        .iter()
        .any(|scheme| args.store.starts_with(scheme));
    if is_url {
        let store = PgStore::connect(&args.store, 1)
            .await
            .map_err(|e| failure(e).context("opening the PostgreSQL inbox"))?;
        run(&store, &args.command).await
    } else {
        let path = Path::new(&args.store);
        // Opening creates a missing file: a mistyped path must not look like an empty inbox.
        if !path.is_file() {
            return Err(Failure::usage("no such file").context(path.display()));
        }
        let store = SqliteStore::open(path).map_err(|e| failure(e).context(path.display()))?;
        run(&store, &args.command).await
    }
}

async fn run(store: &impl StoreAdmin, command: &InboxCommand) -> CliResult {
    match command {
        InboxCommand::Stats => stats(store).await,
        InboxCommand::List(args) => list(store, args).await,
        InboxCommand::Show { id } => show(store, *id).await,
        InboxCommand::Requeue { ids } => requeue(store, ids).await,
        InboxCommand::Purge { done_before } => {
            let purged = store.purge_done(*done_before).await.map_err(failure)?;
            output::line(format_args!("purged {purged} done events"))
        }
    }
}

async fn stats(store: &impl StoreAdmin) -> CliResult {
    let stats = store.stats().await.map_err(failure)?;
    let counts = stats.counts;
    for (state, n) in
        State::ALL
            .into_iter()
            .zip([counts.pending, counts.claimed, counts.done, counts.dead])
    {
        output::line(format_args!("{:<8} {n}", state.name()))?;
    }
    match stats.oldest_pending {
        None => output::line("oldest pending: none"),
        Some(at) => {
            let waited = SystemTime::now().duration_since(at).unwrap_or_default();
            output::line(format_args!(
                "oldest pending: {} (waiting {} s)",
                beijing(at),
                waited.as_secs()
            ))
        }
    }
}

async fn list(store: &impl StoreAdmin, args: &ListArgs) -> CliResult {
    let state = if args.dead { State::Dead } else { args.state };
    let events = store
        .list(state, args.after, args.limit)
        .await
        .map_err(failure)?;
    for event in &events {
        output::line(format_args!(
            "{}\t{}\t{} attempts\t{}\t{}\t{}",
            event.id,
            state_name(event),
            event.attempts,
            beijing(event.received_at),
            event.dedup_key,
            event.last_error.as_deref().unwrap_or("-")
        ))?;
    }
    Ok(())
}

async fn show(store: &impl StoreAdmin, id: i64) -> CliResult {
    let Some(event) = store.event(id).await.map_err(failure)? else {
        return Err(Failure::usage(format_args!("no event {id} in the inbox")));
    };
    let time = |t: Option<SystemTime>| t.map_or_else(|| "-".to_owned(), beijing);
    let source = event.source.map_or("(unknown)", et_inbox::Source::as_str);
    let lines = [
        ("id", event.id.to_string()),
        ("state", state_name(&event).to_owned()),
        ("dedup key", event.dedup_key.clone()),
        ("source", source.to_owned()),
        (
            "order id",
            event.order_id.clone().unwrap_or_else(|| "-".to_owned()),
        ),
        ("attempts", event.attempts.to_string()),
        ("received", beijing(event.received_at)),
        ("available", beijing(event.available_at)),
        ("lease until", time(event.claimed_until)),
        ("done", time(event.done_at)),
        (
            "last error",
            event.last_error.clone().unwrap_or_else(|| "-".to_owned()),
        ),
    ];
    for (name, value) in lines {
        output::line(format_args!("{name:<12} {value}"))?;
    }
    match event.field_map() {
        Some(fields) => {
            output::line("fields:")?;
            for (name, value) in fields {
                output::line(format_args!("  {name} = {value}"))?;
            }
            Ok(())
        }
        None => output::line(format_args!("fields (unreadable): {}", event.fields)),
    }
}

/// Requeues `ids`; a failure names those that were not dead.
async fn requeue(store: &impl StoreAdmin, ids: &[i64]) -> CliResult {
    let requeued = store.requeue(ids).await.map_err(failure)?;
    if !requeued.is_empty() {
        let list: Vec<String> = requeued.iter().map(i64::to_string).collect();
        output::line(format_args!("requeued {}", list.join(" ")))?;
    }
    let mut refused = Vec::new();
    for &id in ids.iter().filter(|id| !requeued.contains(id)) {
        let why = match store.event(id).await.map_err(failure)? {
            Some(event) => format!("{id} is {}", state_name(&event)),
            None => format!("{id} is not stored"),
        };
        if !refused.contains(&why) {
            refused.push(why);
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(Failure::usage(format_args!(
            "only dead events are requeued: {}",
            refused.join(", ")
        )))
    }
}

fn state_name(event: &StoredEvent) -> &'static str {
    event.state.map_or("(unknown state)", State::name)
}

/// `t` as ET writes times: Beijing time.
fn beijing(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    format!("{} +08:00", BeijingTime::from_unix(secs))
}

/// `yyyy-MM-dd` (its midnight) or `yyyy-MM-dd HH:mm:ss`, Beijing time.
fn parse_date(text: &str) -> Result<SystemTime, String> {
    let full = if text.len() == 10 {
        format!("{text} 00:00:00")
    } else {
        text.to_owned()
    };
    let t = BeijingTime::parse(&full)
        .ok_or_else(|| "expected yyyy-MM-dd or yyyy-MM-dd HH:mm:ss (Beijing time)".to_owned())?;
    let secs = u64::try_from(t.to_unix()).map_err(|_| "a date before 1970".to_owned())?;
    Ok(UNIX_EPOCH + Duration::from_secs(secs))
}

fn parse_state(text: &str) -> Result<State, String> {
    State::from_code(text).ok_or_else(|| {
        let names: Vec<_> = State::ALL.map(State::name).into();
        format!("expected one of {}", names.join(", "))
    })
}

/// An inbox error, with what the database said as a hint (a refused
/// password, a missing table), since the inbox's own message names only the
/// store.
fn failure(e: et_inbox::Error) -> Failure {
    let mut detail = None;
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        detail = Some(cause.to_string());
        source = cause.source();
    }
    Failure::usage(e).hint(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purge_date_is_read_in_beijing_time() {
        let midnight = parse_date("2024-12-01").unwrap();
        assert_eq!(beijing(midnight), "2024-12-01 00:00:00 +08:00");
        let later = parse_date("2024-12-01 10:00:00").unwrap();
        assert_eq!(later.duration_since(midnight).unwrap().as_secs(), 36_000);
        for bad in [
            "2024-12-1",
            "yesterday",
            "2024-12-01T10:00:00",
            "1969-12-31",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
