//! The ticker: the sandbox's background loop. Each round it saves the
//! clock, runs the engine's time-driven step
//! ([`App::close_unpaid_orders`]), starts the deliveries that are due, and
//! sleeps until the next due time (in real time), a new notification, a
//! finished delivery, or the stop signal.
//!
//! Deliveries run concurrently, within [`MAX_DELIVERIES`] in all and
//! [`MAX_DELIVERIES_PER_ENDPOINT`] per endpoint; one order's notifications
//! go one at a time, oldest first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::app::App;
use crate::delivery::{self, HttpClient};
use crate::store::{self, OutboxRecord};

/// Deliveries in flight at once, in all.
pub const MAX_DELIVERIES: usize = 32;
/// Deliveries in flight at once to one endpoint (scheme, host and port), so
/// endpoints that hang hold only their own slots and a healthy one is not
/// kept waiting behind them. One order's notifications go one at a time,
/// oldest first.
pub const MAX_DELIVERIES_PER_ENDPOINT: usize = 4;
/// Due notifications read from the outbox per round (at most
/// [`MAX_DELIVERIES_PER_ENDPOINT`] of each endpoint, so at least 64
/// endpoints' worth).
const DUE_BATCH: i64 = 256;
/// Longest real-time sleep of the loop (bounds how late a close happens).
const POLL: Duration = Duration::from_millis(200);
/// Shortest sleep, so a burst of due work never spins.
const MIN_SLEEP: Duration = Duration::from_millis(5);

/// The loop, until `stop` changes.
pub(crate) async fn run(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let client = et_http::plain_http_client();
    let mut slots = Slots::default();
    let mut deliveries = tokio::task::JoinSet::new();
    loop {
        let _ = blocking(&app, |app| {
            if let Err(e) = app.save_clock() {
                tracing::error!(error = %e, "saving the clock failed");
            }
            app.close_unpaid_orders();
        })
        .await;
        start_due(&app, &client, &mut slots, &mut deliveries).await;
        let wait = blocking(&app, next_wake)
            .await
            .unwrap_or(Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = app.wake.notified() => {}
            Some(_) = deliveries.join_next() => {}
            _ = stop.changed() => break,
        }
    }
    // Attempts cut off by the stop are due at once after a restart, not
    // when their lease ends (seconds of real time later).
    let in_flight: Vec<i64> = lock(&slots.orders).values().copied().collect();
    deliveries.shutdown().await;
    let now = app.clock.now();
    let released = blocking(&app, move |app| {
        app.store.tx(|c| {
            in_flight
                .iter()
                .try_for_each(|&id| store::end_lease(c, id, now))
        })
    });
    if let Some(Err(e)) = released.await {
        tracing::error!(error = %e, "releasing deliveries cut off by the stop failed");
    }
}

/// How long the loop may sleep (real time): until the next due delivery,
/// within [`MIN_SLEEP`] and [`POLL`].
fn next_wake(app: &App) -> Duration {
    let next = app.store.tx(|c| store::next_due(c)).ok().flatten();
    next.map_or(POLL, |due| {
        app.clock
            .real_delay(due.saturating_sub(app.clock.now()))
            .clamp(MIN_SLEEP, POLL)
    })
}

/// Runs `f` on tokio's blocking pool (SQLite and signing never run on the
/// threads that drive connections); `None` if it panicked.
async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&App) -> T + Send + 'static,
) -> Option<T> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app)).await.ok()
}

/// Delivery slots: in all, per endpoint, and one per order (so one
/// order's notifications still arrive in the order they were made).
struct Slots {
    all: Arc<Semaphore>,
    per_endpoint: HashMap<String, Arc<Semaphore>>,
    /// Orders with a notification in flight, and its id.
    orders: Arc<Mutex<HashMap<String, i64>>>,
}

impl Default for Slots {
    fn default() -> Self {
        Slots {
            all: Arc::new(Semaphore::new(MAX_DELIVERIES)),
            per_endpoint: HashMap::new(),
            orders: Arc::default(),
        }
    }
}

/// The slots one delivery holds, freed when it is dropped.
struct Slot {
    _all: OwnedSemaphorePermit,
    _endpoint: OwnedSemaphorePermit,
    order_id: String,
    orders: Arc<Mutex<HashMap<String, i64>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.orders).remove(&self.order_id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Slots {
    /// A slot for delivering `n`, if one is free and no other notification
    /// of its order is in flight.
    fn take(&mut self, n: &OutboxRecord) -> Option<Slot> {
        let endpoint = self
            .per_endpoint
            .entry(n.endpoint.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(MAX_DELIVERIES_PER_ENDPOINT)));
        let mut orders = lock(&self.orders);
        if orders.contains_key(&n.order_id) {
            return None;
        }
        let mine = endpoint.clone().try_acquire_owned().ok()?;
        let any = self.all.clone().try_acquire_owned().ok()?;
        orders.insert(n.order_id.clone(), n.id);
        Some(Slot {
            _all: any,
            _endpoint: mine,
            order_id: n.order_id.clone(),
            orders: self.orders.clone(),
        })
    }

    /// Forgets endpoints with nothing in flight.
    fn prune(&mut self) {
        self.per_endpoint
            .retain(|_, s| s.available_permits() < MAX_DELIVERIES_PER_ENDPOINT);
    }
}

async fn start_due(
    app: &Arc<App>,
    client: &HttpClient,
    slots: &mut Slots,
    deliveries: &mut tokio::task::JoinSet<()>,
) {
    slots.prune();
    let now = app.clock.now();
    let due = blocking(app, move |app| {
        let per_endpoint = MAX_DELIVERIES_PER_ENDPOINT as i64;
        app.store
            .tx(|c| store::due_notifications(c, now, per_endpoint, DUE_BATCH))
    });
    let due = match due.await {
        Some(Ok(due)) => due,
        None => return,
        Some(Err(e)) => {
            tracing::error!(error = %e, "reading the outbox failed");
            return;
        }
    };
    let mut starting = Vec::new();
    for n in due {
        if slots.all.available_permits() == 0 {
            break;
        }
        if let Some(slot) = slots.take(&n) {
            starting.push((n, slot));
        }
    }
    if starting.is_empty() {
        return;
    }
    // In flight until the attempt is recorded (a little longer than one
    // attempt may take, in sandbox time).
    let until = now.saturating_add(app.clock.sandbox_ms(delivery::DELIVERY_TIMEOUT * 2));
    let ids: Vec<i64> = starting.iter().map(|(n, _)| n.id).collect();
    let leased = blocking(app, move |app| {
        app.store
            .tx(|c| ids.iter().try_for_each(|&id| store::lease(c, id, until)))
    });
    if let Some(Err(e)) = leased.await {
        tracing::error!(error = %e, "marking deliveries in flight failed");
        return;
    }
    for (n, slot) in starting {
        let (app, client) = (app.clone(), client.clone());
        deliveries.spawn(async move {
            delivery::attempt(&app, &client, n).await;
            drop(slot);
        });
    }
}
