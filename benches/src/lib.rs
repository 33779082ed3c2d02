//! Shared setup for the criterion benchmarks of every et-rs layer: fixture
//! keys per size and backend, a typical order, a 50-order batch response,
//! a six-field notification (and the end-to-end webhook load test,
//! `benches/webhook.rs`).
//!
//! Benchmark ids read `operation/backend/parameter` (criterion's group,
//! function and parameter), which is how `cargo xtask bench-report` pairs
//! each result with its OpenSSL figure and each composite operation with
//! its "RSA alone" reference (`envelope_build` with `envelope_build_rsa`,
//! `response_open_50` with `response_open_50_rsa`, whose other steps
//! `response_open_50_parts` times one by one). Run one alone with
//! `cargo bench -p benches -- NAME`.
//!
//! ```
//! use benches::BACKENDS;
//! let (name, backend) = BACKENDS[0];
//! let parties = benches::parties(1024, backend)?;
//! let request = parties.merchant.build(&benches::typical_order()?, std::time::SystemTime::now())?;
//! assert!(!request.body.is_empty() && !name.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::error::Error;
use std::time::{Duration, SystemTime};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};

use et_crypto::Backend;
use et_model::{CreateOrder, OrderInfo, QueryOrders};
use et_proto::{
    BuiltRequest, Message, NotificationVerifier, NotifySignRule, Profile, Response, UntypedObject,
};
pub use et_testkit::Parties;
use et_testkit::{key, Who};

/// Criterion's measurement for every bench here: the CPU time of the
/// benchmark's thread ([`thread_cpu`]), not wall-clock time. The development machine is
/// shared (2 cores, other builds running): wall-clock figures there moved
/// by 2× between runs and made a composite look faster than its own parts,
/// while CPU time stays put. `openssl speed` divides by CPU time too, so
/// the two sides of bench-report's ratios count the same thing.
pub struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu()
    }
    fn end(&self, start: Duration) -> Duration {
        self.start().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

/// The calling thread's CPU time so far (`CLOCK_THREAD_CPUTIME_ID`, exact
/// to the nanosecond; `/proc/…/schedstat` lags by up to a scheduler tick).
pub fn thread_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let secs = u64::try_from(now.tv_sec).unwrap_or_default();
    let nanos = u32::try_from(now.tv_nsec).unwrap_or_default();
    Duration::new(secs, nanos)
}

/// Any setup failure (broken fixture, builder error).
pub type SetupResult<T> = Result<T, Box<dyn Error>>;

/// Every RSA backend pinned, then the automatic choice (`None`), with the
/// name used in benchmark ids.
pub const BACKENDS: &[(&str, Option<Backend>)] = &[
    ("rustcrypto", Some(Backend::RustCrypto)),
    #[cfg(feature = "aws-lc")]
    ("aws-lc", Some(Backend::AwsLc)),
    #[cfg(feature = "openssl")]
    ("openssl", Some(Backend::OpenSsl)),
    ("auto", None),
];

/// Key sizes benchmarked: ET's examples use 1024 bits; 2048 is today's minimum elsewhere.
pub const KEY_BITS: &[usize] = &[1024, 2048];

/// The notification salt of [`notification_body`].
pub const NOTIFY_SALT: &str = "bench-salt";

/// The time the benches open and verify at: their parties accept no
/// rollover key or salt, and a fixed time keeps the clock read out of
/// what is measured.
pub const NOW: SystemTime = SystemTime::UNIX_EPOCH;

/// Both parties at one key size (the test kit's keys), every key pinned to
/// `backend`, or choosing automatically (`None`).
pub fn parties(bits: usize, backend: Option<Backend>) -> SetupResult<Parties> {
    let pinned = |who| {
        let key = key(who, bits).clone();
        match backend {
            Some(backend) => key.with_backend(backend),
            None => key,
        }
    };
    let keys = (pinned(Who::Merchant), pinned(Who::Et));
    let default = Profile::default;
    Ok(Parties::from_keys(keys, NOTIFY_SALT, default(), default()))
}

/// A batch query for `n` orders and ET's signed, encrypted answer with `n` items.
pub fn batch_response(parties: &Parties, n: usize) -> SetupResult<(BuiltRequest, Vec<u8>)> {
    let ids: Vec<String> = (0..n).map(order_id).collect();
    let request = parties
        .merchant
        .build(&QueryOrders::new(ids), SystemTime::now())?;
    let merchant_public = parties.merchant_key.public_key();
    let opened = parties.et.open_request(
        &request.body,
        |_, _| Some(merchant_public.clone()),
        SystemTime::now(),
    )?;
    let orders = (0..n).map(order_info).collect::<Result<Vec<_>, _>>()?;
    let response = Response::success(&opened).with_output::<QueryOrders>(&orders)?;
    let body = parties.et.respond(merchant_public, &response)?;
    Ok((request, body))
}

/// A 50-order query and ET's answer, committed in
/// `fixtures/query_50.json` (test-kit keys, 1024 bits), so that a bench can
/// open it without signing anything first: the instruction-count bench
/// leaves RSA out of its count, which would not work if its setup signed
/// under valgrind too. `cargo test -p benches` checks that the fixture still
/// opens; `ET_UPDATE_FIXTURES=1 cargo test -p benches` writes it anew.
pub fn batch_fixture() -> SetupResult<(BuiltRequest, Vec<u8>)> {
    let fixture: serde_json::Value = serde_json::from_str(BATCH_FIXTURE)?;
    let text = |key: &str| {
        fixture[key]
            .as_str()
            .map(str::to_owned)
            .ok_or(key.to_owned())
    };
    let request = BuiltRequest {
        body: text("request")?.into_bytes(),
        serial_number: text("serial_number")?,
        server_type: <QueryOrders as et_model::Operation>::SERVER_TYPE,
        return_info: text("return_info")?,
    };
    Ok((request, text("response")?.into_bytes()))
}

/// The committed text of [`batch_fixture`].
pub const BATCH_FIXTURE: &str = include_str!("../fixtures/query_50.json");

/// The JSON of a new [`batch_fixture`] made with `parties`.
pub fn new_batch_fixture(parties: &Parties) -> SetupResult<String> {
    let (request, response) = batch_response(parties, 50)?;
    let text = |bytes: Vec<u8>| String::from_utf8(bytes);
    let fixture = serde_json::json!({
        "request": text(request.body)?,
        "serial_number": request.serial_number,
        "return_info": request.return_info,
        "response": text(response)?,
    });
    Ok(serde_json::to_string_pretty(&fixture)? + "\n")
}

fn order_id(i: usize) -> String {
    format!("ET20241201{i:06}")
}

fn order_info(i: usize) -> serde_json::Result<OrderInfo> {
    serde_json::from_str(&format!(
        r#"{{"order_id":"{}","merchant_order_id":"M-{i}","order_status":{},"tuition_rmb":91234.50,"counter_fee":0,"currency_code":"GBP","tuituon":10000.00}}"#,
        order_id(i),
        i % 5
    ))
}

/// A create-order request with the fields a real merchant fills: student
/// names and contacts, school, URLs, one fee item.
pub fn typical_order() -> serde_json::Result<CreateOrder> {
    serde_json::from_str(
        r#"{"merchant_order_id":"M-20241201-0001","merchant_user_key":"user-42","country_code":"GBR","currency_code":"GBP","tuituon":10000.00,"first_name_en":"Wei","last_name_en":"Zhang","name_ch":"张伟","student_id_number":"G12345678","id_type":1,"student_email":"wei.zhang@example.com","student_tel_code":"86","student_mobile":"13800138000","student_address":"1 Example Road, Beijing","school_name":"University of Example","notify_url":"https://merchant.example/notify","back_jump_url":"https://merchant.example/done","fee_type_list":[{"fee_type":1,"fee_type_desc":"Tuition"}]}"#,
    )
}

/// A v1/v2 payment-success notification with six fields plus `sign`, as
/// JSON with the amount as a number (ET's example), signed with [`NOTIFY_SALT`].
pub fn notification_body() -> SetupResult<Vec<u8>> {
    notification_body_for(1)
}

/// [`notification_body`] for the `i`-th order (distinct bodies for a load test).
pub fn notification_body_for(i: usize) -> SetupResult<Vec<u8>> {
    let json = format!(
        r#"{{"order_id":"{}","pay_result":1,"pay_amount":10000.00,"pay_currency_code":"RMB","pay_datetime":"2024-12-01 10:00:00","extend_info":""}}"#,
        order_id(i)
    );
    let fields = UntypedObject::parse_json(json.as_bytes(), Message::Notification)?;
    Ok(et_proto::sign_notification(NOTIFY_SALT, fields))
}

/// The verifier for [`notification_body`] (v2 rule, the default).
pub fn notification_verifier() -> NotificationVerifier {
    NotificationVerifier::new(NOTIFY_SALT, NotifySignRule::V2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_batch_fixture_opens_with_the_test_kit_keys() -> SetupResult<()> {
        let parties = parties(1024, Some(Backend::RustCrypto))?;
        if std::env::var("ET_UPDATE_FIXTURES").as_deref() == Ok("1") {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/query_50.json");
            std::fs::write(path, new_batch_fixture(&parties)?)?;
            return Ok(());
        }
        let (request, response) = batch_fixture()?;
        let reply = parties
            .merchant
            .open::<QueryOrders>(&request, &response, SystemTime::now())?;
        assert_eq!(reply.items.len(), 50);
        Ok(())
    }
}
