//! `et demo --inbox`: the production path. Every notification is stored in
//! an et-inbox SQLite inbox before ET is acknowledged; after the lifecycle
//! the demo reconciles an order ET could not notify, then consumes the
//! inbox, each event once.

use std::collections::BTreeMap;
use std::time::SystemTime;

use et_inbox::{Inbox, InboxConfig, Reconciler, ReconcilerConfig, Source, SqliteStore};
use et_model::{CountryCode, CreateOrder, CurrencyCode, OrderStatus};
use et_proto::VerifiedNotification;
use et_sandbox::Event;

use super::report::StepError;
use super::runner::Runner;
use super::setup::Env;
use super::steps;

/// The demo's inbox: a SQLite file in the demo's state directory.
pub(super) type DemoInbox = Inbox<SqliteStore>;

pub(super) fn open(dir: &std::path::Path) -> Result<(DemoInbox, String), StepError> {
    let path = dir.join("inbox.sqlite");
    let store = SqliteStore::open(&path)?;
    Ok((
        Inbox::new(store, InboxConfig::default()),
        path.display().to_string(),
    ))
}

/// Stores `n` (when the demo runs with the inbox) before the receiver
/// acknowledges it.
pub(super) async fn put(
    inbox: Option<&DemoInbox>,
    n: &VerifiedNotification,
) -> Result<(), et_inbox::Error> {
    match inbox {
        Some(inbox) => inbox.put(n).await.map(drop),
        None => Ok(()),
    }
}

/// The inbox steps, after the lifecycle.
pub(super) async fn steps(r: &mut Runner<'_>, env: &Env, inbox: &DemoInbox) -> Option<()> {
    r.step("inbox: stored once each", async {
        let counts = inbox.measure().await?;
        Ok((
            (),
            format!(
                "{} events stored, {} notifications received (SQLite)",
                counts.total(),
                env.arrivals.received
            ),
        ))
    })
    .await?;
    r.step("inbox: reconcile", reconcile(env, inbox)).await?;
    r.step("inbox: consume", async {
        let mut by_kind = BTreeMap::<String, usize>::new();
        let mut reconciled = 0;
        loop {
            let report = inbox
                .process(|event| {
                    let kind = event.notification().map(|n| n.kind().to_string());
                    reconciled += usize::from(event.source == Source::Reconciliation);
                    if let Ok(kind) = &kind {
                        *by_kind.entry(kind.clone()).or_default() += 1;
                    }
                    async move { kind.map(drop) }
                })
                .await?;
            if report.claimed == 0 {
                break;
            }
            if report.done != report.claimed {
                return Err(StepError::Unexpected(format!(
                    "not every event was processed: {report:?}"
                )));
            }
        }
        let counts = inbox.measure().await?;
        if counts.done != counts.total() {
            return Err(StepError::Unexpected(format!(
                "events left unprocessed: {counts:?}"
            )));
        }
        let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        Ok((
            (),
            format!("each once: {} ({reconciled} reconciled)", kinds.join(", ")),
        ))
    })
    .await
}

/// An order created without a notify_url and paid: ET cannot tell us, the
/// reconciler finds out.
async fn reconcile(env: &Env, inbox: &DemoInbox) -> Result<((), String), StepError> {
    let order = CreateOrder::new(
        format!("DEMO-{}-quiet", std::process::id()),
        "student-43",
        CountryCode::Gbr,
        CurrencyCode::new("GBP"),
        "500.00".parse()?,
    );
    let reply = env.client.create_order(&order).await?;
    let order_id = reply
        .items
        .first()
        .map(|o| o.order_id.clone())
        .ok_or_else(|| StepError::Unexpected("the reply holds no order".to_owned()))?;
    inbox.track_order(&order_id).await?;
    steps::et_step(env, &order_id, Event::Pay)?;
    let reconciler = Reconciler::new(
        inbox.clone(),
        env.client.clone(),
        ReconcilerConfig::default(),
    );
    let report = reconciler.reconcile_tracked().await?;
    let expected = et_inbox::NewEvent::reconciled(&order_id, OrderStatus::Paid, SystemTime::now());
    if report.stored != 1 {
        return Err(StepError::Unexpected(format!(
            "expected one reconciled change, found {report:?}"
        )));
    }
    Ok((
        (),
        format!(
            "{order_id} paid without a notification: {} ({} queried in one query)",
            expected.dedup_key,
            match report.queried {
                1 => "1 order".to_owned(),
                n => format!("{n} orders"),
            }
        ),
    ))
}
