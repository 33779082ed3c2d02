//! Shared test helpers: signed notifications, and the PostgreSQL gate
//! (a fresh schema per test on `ET_INBOX_PG_URL`, or a loud SKIP).
#![allow(dead_code, missing_docs)]

use bytes::Bytes;
use et_inbox::PgStore;
use et_proto::{sign_notification, NotificationVerifier, Profile, UntypedObject, UntypedValue};
use http_body_util::Full;
use std::io::Write;

pub(crate) const SALT: &str = "test-salt";

pub(crate) fn verifier() -> NotificationVerifier {
    NotificationVerifier::new(SALT, Profile::default().notify_sign_rule)
}

/// A signed payment-success body for order `ETLOAD<n>`.
pub(crate) fn payment_body(n: usize) -> Vec<u8> {
    let fields: UntypedObject = [
        ("order_id", UntypedValue::string(format!("ETTEST{n:010}"))),
        ("pay_result", UntypedValue::integer(1)),
        (
            "pay_amount",
            UntypedValue::from_json("10000.00").expect("amount"),
        ),
        ("pay_datetime", UntypedValue::string("2026-12-01 10:00:00")),
        ("extend_info", UntypedValue::string("")),
    ]
    .into_iter()
    .collect();
    sign_notification(SALT, fields)
}

pub(crate) fn post(body: &[u8]) -> http::Request<Full<Bytes>> {
    http::Request::post("/et/notify")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request")
}

/// A PostgreSQL URL whose connections see only a fresh schema named after
/// `test`, or `None` (after printing SKIPPED) when no server is configured.
/// With `ET_REQUIRE_SERVICES=1` a missing server fails the test instead.
pub(crate) async fn pg_url(test: &str) -> Option<String> {
    let Ok(base) = std::env::var("ET_INBOX_PG_URL") else {
        assert!(
            std::env::var("ET_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "ET_REQUIRE_SERVICES=1 but ET_INBOX_PG_URL is not set: PostgreSQL test {test} cannot run"
        );
        // Straight to the process's stderr: libtest captures `eprintln!` of a
        // passing test, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED {test}: no PostgreSQL (set ET_INBOX_PG_URL, as .ci/run does) ***\n"
        );
        return None;
    };
    let schema = format!("t_{test}_{}", std::process::id());
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at ET_INBOX_PG_URL is unreachable: {e}"));
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .expect("create test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    Some(format!(
        "{base}{separator}options=-c%20search_path%3D{schema}"
    ))
}

pub(crate) async fn pg_store(test: &str) -> Option<PgStore> {
    let url = pg_url(test).await?;
    Some(
        PgStore::connect(&url, 4)
            .await
            .expect("connect and migrate"),
    )
}
