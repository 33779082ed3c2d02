//! The PostgreSQL gate: a fresh schema per test on `ET_INBOX_PG_URL`, or a
//! loud SKIP. Also the `et inbox` tests' (`tests/cli/main.rs` includes it).

/// A PostgreSQL URL whose connections see only a fresh schema named after
/// `test` and carry that name as their `application_name` (so that a test
/// can find its own connections), or `None` (after printing SKIPPED) when
/// no server is configured. With `ET_REQUIRE_SERVICES=1` a missing server
/// fails the test instead.
pub(crate) async fn pg_url(test: &str) -> Option<String> {
    let base = et_testkit::skip::require_service(
        std::env::var("ET_INBOX_PG_URL").ok(),
        test,
        "PostgreSQL",
        "apt-get install postgresql, then set ET_INBOX_PG_URL=postgresql://USER:PASS@127.0.0.1/DB \
         (.ci/run does both)",
    )?;
    let schema = pg_schema(test);
    pg_admin()
        .await
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .expect("create test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    Some(format!(
        "{base}{separator}options=-c%20search_path%3D{schema}&application_name={schema}"
    ))
}

/// The schema (and `application_name`) of `test` in this run.
pub(crate) fn pg_schema(test: &str) -> String {
    format!("t_{test}_{}", std::process::id())
}

/// A connection to `ET_INBOX_PG_URL` of the test's own, outside any inbox.
pub(crate) async fn pg_admin() -> tokio_postgres::Client {
    let base = std::env::var("ET_INBOX_PG_URL").expect("ET_INBOX_PG_URL");
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at ET_INBOX_PG_URL is unreachable: {e}"));
    tokio::spawn(connection);
    client
}
