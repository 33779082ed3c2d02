//! The reconciler against the local ET sandbox: statuses ET never notified
//! become the same typed events as notifications, stored once.

use et_http::{Client, Endpoint};
use et_inbox::{
    Inbox, InboxConfig, ReconcileReport, Reconciler, ReconcilerConfig, Source, SqliteStore, Store,
    TrackedOrder, RECONCILED_PREFIX,
};
use et_model::{Notification, OrderStatus};
use et_proto::Profile;
use et_sandbox::SandboxConfig;

/// A client of the test kit's merchant, which the sandbox on
/// `et_testkit::merchant_dir()` knows.
fn client(endpoint: &str) -> Client {
    let endpoint = Endpoint::parse(endpoint).unwrap();
    Client::new(endpoint, et_testkit::credentials(1024), Profile::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_et_never_notified_are_stored_once_as_typed_events() {
    let dir = et_testkit::merchant_dir();
    let sandbox = et_sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .unwrap();
    let client = client(&sandbox.endpoint_url());
    let inbox = Inbox::new(SqliteStore::in_memory().unwrap(), InboxConfig::default());
    // Three orders without a notify_url: ET has nowhere to tell us.
    let mut orders = Vec::new();
    for n in 0..3 {
        let order = et_testkit::order(format!("M-{n}"), "100.00");
        let id = client.create_order(&order).await.unwrap().items[0]
            .order_id
            .clone();
        inbox.track_order(&id).await.unwrap();
        orders.push(id);
    }
    let config = ReconcilerConfig {
        batch_size: 2,
        pause_between_batches: std::time::Duration::ZERO,
        ..ReconcilerConfig::default()
    };
    let reconciler = Reconciler::new(inbox.clone(), client, config);

    let report = reconciler.reconcile_tracked().await.unwrap();
    assert_eq!((report.queried, report.queries, report.stored), (3, 2, 0));

    sandbox.pay(&orders[0]).unwrap();
    sandbox.pay(&orders[1]).unwrap();
    sandbox.close(&orders[2]).unwrap();
    let report = reconciler.reconcile_tracked().await.unwrap();
    assert_eq!((report.queried, report.stored), (3, 3));

    let mut found = Vec::new();
    for event in inbox.claim().await.unwrap() {
        assert_eq!(event.source, Source::Reconciliation);
        assert!(event.dedup_key.starts_with(RECONCILED_PREFIX));
        let Notification::OrderStatusChange(change) = event.notification().unwrap() else {
            panic!("not a status change: {event:?}");
        };
        found.push((change.order_id, change.order_status));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![
        (orders[0].clone(), OrderStatus::Paid),
        (orders[1].clone(), OrderStatus::Paid),
        (orders[2].clone(), OrderStatus::Closed),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(found, expected);

    // Nothing new: the paid orders agree, the closed one is final.
    let report = reconciler.reconcile_tracked().await.unwrap();
    assert_eq!((report.queried, report.stored), (2, 0));

    // The merchant's own (stale) view finds the same change: stored once.
    let stale = [TrackedOrder {
        order_id: orders[0].clone(),
        status: None,
    }];
    let report = reconciler.reconcile(&stale).await.unwrap();
    assert_eq!(
        report,
        ReconcileReport {
            queried: 1,
            queries: 1,
            already_stored: 1,
            ..ReconcileReport::default()
        }
    );
    assert_eq!(inbox.store().counts().await.unwrap().total(), 3);
    sandbox.shutdown().await;
}
