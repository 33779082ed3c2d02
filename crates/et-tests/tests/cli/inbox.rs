//! `et inbox`, run as an operator would, on a SQLite file and on PostgreSQL
//! (which SKIPs loudly without `ET_INBOX_PG_URL`, and fails with
//! `ET_REQUIRE_SERVICES=1`): a dead event is looked at and sent back to
//! the handler without SQL.

use std::process::Output;
use std::time::{Duration, SystemTime};

use et_inbox::{Inbox, InboxConfig, NewEvent, PgStore, SqliteStore, Store};
use et_model::OrderStatus;

use crate::common;

use crate::pg::pg_url;
use common::et_stdin;

/// Runs `et inbox --store STORE args…`.
fn et_inbox(store: &str, args: &[&str]) -> Output {
    let mut all = vec!["inbox", "--store", store];
    all.extend_from_slice(args);
    et_stdin(&all, b"")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "et failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Three orders' events: the first two fail for good (one attempt
/// allowed), the third is processed.
async fn two_dead_one_done<S: Store>(store: S) -> Inbox<S> {
    let config = InboxConfig {
        max_attempts: 1,
        ..InboxConfig::default()
    };
    let inbox = Inbox::new(store, config);
    for order in ["ET-A", "ET-B", "ET-C"] {
        let event = NewEvent::reconciled(order, OrderStatus::Paid, SystemTime::now());
        inbox.store().insert(&event).await.expect("insert");
    }
    let report = inbox
        .process(|claim| async move {
            match claim.fields["order_id"].as_str() {
                "ET-C" => Ok(()),
                _ => Err("the merchant's ledger is down"),
            }
        })
        .await
        .expect("process");
    assert_eq!((report.dead, report.done), (2, 1));
    inbox
}

/// The operator's session, the same on both stores.
async fn an_operator_requeues_a_dead_event_and_the_handler_gets_it_again<S: Store>(
    inbox: Inbox<S>,
    store: &str,
) {
    let stats = stdout(&et_inbox(store, &["stats"]));
    assert!(stats.contains("dead     2"), "{stats}");
    assert!(stats.contains("done     1"), "{stats}");
    assert!(stats.contains("oldest pending: none"), "{stats}");

    let listed = stdout(&et_inbox(store, &["list", "--dead"]));
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].contains("reconciled:order_status:ET-A:1"),
        "{listed}"
    );
    assert!(
        lines[0].contains("the merchant's ledger is down"),
        "{listed}"
    );
    let first = lines[0].split('\t').next().expect("id");

    let shown = stdout(&et_inbox(store, &["show", first]));
    assert!(shown.contains("state        dead"), "{shown}");
    assert!(shown.contains("  order_id = ET-A"), "{shown}");
    assert!(
        shown.contains("last error   the merchant's ledger is down"),
        "{shown}"
    );

    // A done event is not requeued: said on stderr, exit 2; the dead one is.
    let done_id = stdout(&et_inbox(store, &["list", "--state", "done"]));
    let done_id = done_id.split('\t').next().expect("id");
    let out = et_inbox(store, &["requeue", first, done_id, "424242"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("requeued {first}\n")
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{done_id} is done")) && err.contains("424242 is not stored"),
        "{err}"
    );
    assert!(stdout(&et_inbox(store, &["stats"])).contains("pending  1"));

    // Back to the handler, which now succeeds.
    let report = inbox
        .process(|_| async { Ok::<_, String>(()) })
        .await
        .expect("process");
    assert_eq!((report.claimed, report.done), (1, 1));

    let tomorrow = SystemTime::now() + Duration::from_secs(86_400 * 2);
    let date = et_model::BeijingTime::from_unix(
        tomorrow
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs() as i64,
    )
    .compact_date();
    let date = format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]);
    let purged = stdout(&et_inbox(store, &["purge", "--done-before", &date]));
    assert_eq!(purged, "purged 2 done events\n");
    let stats = stdout(&et_inbox(store, &["stats"]));
    assert!(
        stats.contains("done     0") && stats.contains("dead     1"),
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_operator_requeues_a_dead_event_and_the_handler_gets_it_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inbox.db");
    let inbox = two_dead_one_done(SqliteStore::open(&path).expect("open")).await;
    let store = path.to_str().expect("utf-8 path");
    an_operator_requeues_a_dead_event_and_the_handler_gets_it_again(inbox, store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_operator_requeues_a_dead_event_and_the_handler_gets_it_again() {
    let Some(url) = pg_url("et_cli_inbox").await else {
        return;
    };
    let inbox = two_dead_one_done(PgStore::connect(&url, 2).await.expect("connect")).await;
    an_operator_requeues_a_dead_event_and_the_handler_gets_it_again(inbox, &url).await;
}

#[test]
fn a_missing_inbox_file_is_an_error_not_a_new_empty_inbox() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("typo.db");
    let out = et_inbox(path.to_str().expect("utf-8"), &["stats"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
    assert!(!path.exists());
}
