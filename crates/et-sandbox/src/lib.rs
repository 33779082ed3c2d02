//! A local EasyTransfer (ET, 易思汇) simulator: ET's side of the protocol,
//! run on one machine, with its state in SQLite.
//!
//! This crate's one job is to let a merchant prove an integration before
//! joint testing with ET. It is strict where ET is strict: each `POST
//! /server` request must come from a known merchant, carry an unused serial
//! number, verify, decrypt and hold a valid payload; every refusal of an
//! envelope is a response signed by ET with a status code and a message
//! saying what was wrong. It runs the order life cycle (create, attachments, payment address,
//! a checkout page, remittance, refund) and sends ET's notifications,
//! MD5-signed with the merchant's salt (v2, or as its profile says), on
//! ET's retry schedule, on a clock that can run faster than real time. It
//! plays any et-proto profile: hash, padding, sign rule, notification rule
//! and encoding, `version` and added keys in replies.
//!
//! ```
//! use et_sandbox::{InitOptions, SandboxConfig, SandboxDir};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let merchant = SandboxDir::init(dir.path(), &InitOptions { bits: 1024, ..InitOptions::default() })?;
//! assert_eq!(merchant.merchant_number, "ET82009");
//!
//! // 127.0.0.1, a free port, real time, loopback only.
//! let sandbox = et_sandbox::start(SandboxConfig::new(dir.path())).await?;
//! assert!(sandbox.endpoint_url().ends_with("/server"));
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # The state directory
//!
//! [`SandboxDir::init`] writes `et-private.pem`, `et-public.pem`,
//! `merchant-private.pem`, `merchant-public.pem` (PKCS#8 / SPKI PEM),
//! `merchant.json` (`merchant_number`, `sub_merchant_number`, `salt`),
//! `profile.json` (see [Playing a profile](#playing-a-profile)) and
//! `sandbox.json` (the [`RateTable`]: RMB per unit of each currency and the
//! counter fee; and `institutions`, the [`InstitutionDirectory`]: several
//! dozen real universities and student-residence operators with codes of
//! the sandbox's own, English and Chinese names, country and type — `1`
//! for schools, [`RESIDENCE`] `2` for residences — edit it freely). [`start`] adds `sandbox.db`, which holds the
//! merchants, orders, attachments (Base64 as received), serial numbers seen
//! per merchant, the notification outbox and its delivery attempts, each
//! order's status history and creating request, the request log and the
//! sandbox clock, so a restart loses nothing. Its schema carries a version (`PRAGMA user_version`); an
//! older database is migrated in place when the sandbox starts, and one
//! written by a newer sandbox is refused with [`Error::SchemaVersion`]. While a sandbox runs it holds an exclusive advisory lock
//! on `sandbox.lock` ([`LOCK_FILE`]: 0600, never opened through a symbolic
//! link); a second sandbox on the same directory
//! fails to start with [`Error::Locked`] (two would deliver every
//! notification twice).
//!
//! # Routes
//!
//! | route | what |
//! |---|---|
//! | `POST /server` | ET's API, every operation by `server_type` |
//! | `GET /` | the dashboard: orders, newest first, [`PAGE_SIZE`] a page (`?status=N` filters, `?before=SEQ` pages) |
//! | `GET /orders/{order_id}` | one order: status timeline, the creating request decrypted, attachments, notifications, ET's buttons, the [fault rules](faults) and magic values that apply to it and buttons adding one for it |
//! | `GET /notifications` | every notification with its delivery attempts (time, URL, HTTP status, the reply's first bytes, latency, next retry; the last [`ATTEMPTS_SHOWN`]), newest first, paged (`?before=ID`) |
//! | `GET /requests` | the request log: the last [`REQUEST_LOG_ROWS`] envelopes received, verified or why not, answer, latency; paged |
//! | `GET /requests/{n}` | one logged envelope, its payload decrypted (or as received, if it did not open) |
//! | `GET /faults` | every fault rule, a form for any rule, and the [magic values](faults#magic-values) table |
//! | `GET /attachments/{id}` | an uploaded attachment, as a download (`application/octet-stream`) |
//! | `GET /static/dashboard.{js,css}` | the dashboard's one script and style sheet |
//! | `GET /pay/{order_id}` | checkout page: order, amount in RMB, a choice of [`PAY_METHODS`], Pay and Decline buttons (an HTML form, no JavaScript) |
//! | `POST /pay/{order_id}` | `action=pay` pays: status 0 → 1, payment and status notifications; `action=decline` declines: status stays 0, a payment notification with `pay_result` 0; the form must carry the page's `token` (else 403 and the page again) |
//! | `GET /jump/{token}` | a jump's page: what the merchant sent and a form for the rest (an order placed already: 303 to its checkout page) |
//! | `POST /jump/{token}` | places the order from the form (≤ 16 KiB) and answers 303 to its checkout page, or the form again with what was wrong (422) |
//! | `GET /vouchers/{order_id}.pdf` | remittance voucher, once remitted (status 3 or 4) |
//! | `GET /admin/orders/{order_id}` | the order, its institution (or `null`), its notifications and every delivery attempt as JSON |
//! | `POST /admin/orders/{order_id}/{action}` | `pay`, `decline-payment` (stays 0, `pay_result` 0), `remit` (1 → 2), `receive` (2 → 3, sends the voucher), `complete` (3 → 4), `close` (0 → -1), `refund-result?success=true\|false` (-3 → -2, or back) |
//! | `POST /admin/notifications/{id}/redeliver` | makes a notification due now, whether pending, delivered or given up; answers its order as JSON |
//! | `GET /admin/faults` | the [fault rules](faults), as JSON `{"faults": [...]}` |
//! | `POST /admin/faults` | adds the [`FaultRule`] in the JSON body (else 400, saying why) |
//! | `POST /admin/faults/clear` | removes every fault rule (magic values still apply) |
//! | `POST /admin/clock/advance?seconds=N` | moves sandbox time forward: at most [`MAX_ADVANCE`] (3,660 days) per call and never more than [`MAX_AHEAD`] (100 years) ahead of real time (else 400, time unchanged); answers `{"now": …}` |
//! | `POST /admin/clock/reset` | brings sandbox time back to real time, and every pending notification back by as much (none before now); answers `{"now": …}` |
//!
//! Admin `POST`s must say `Content-Type: application/json` (the body is
//! ignored but for a fault rule's; else 415): a cross-site HTML form on any page the developer's
//! browser opens cannot send that, and a cross-site script cannot without a
//! CORS preflight the sandbox never grants. `et sandbox admin` sends it.
//!
//! A sandbox listens on loopback only ([`Exposure::Loopback`], the
//! default; any other address is refused with [`Error::NotLoopback`]).
//! Every route but ET's API, checkout, jump and voucher routes (and the
//! dashboard's static assets) answers `403` unless `Host` names loopback
//! (a loopback address, `localhost` or a `*.localhost` name): a
//! DNS-rebinding page on another domain is same-origin with the sandbox,
//! but names its own domain there. The check is the default, so a route
//! added later is covered too. Exposed on purpose ([`Exposure::Network`],
//! `et sandbox serve --expose`), the sandbox takes any address in `Host`
//! but no domain, and those routes also require its secret
//! ([`RunningSandbox::secret`], made at each start): `Authorization: Bearer
//! SECRET`, or the cookie that opening [`RunningSandbox::dashboard_url`]
//! (`/?secret=SECRET`) sets once (`HttpOnly`, `SameSite=Strict`); else
//! `401`.
//!
//! No `POST` but the API's answers a browser's cross-site request (`403`):
//! `Sec-Fetch-Site` must be `same-origin` or `none`, and `Origin`, when
//! sent, this sandbox as `Host` names it. Pages send `Referrer-Policy:
//! same-origin`, under which a browser names the page's origin in its own
//! form posts.
//!
//! The dashboard's buttons send exactly these JSON `POST`s from a few
//! lines of same-origin script. Every page, ET's checkout and jump pages
//! included, is server-rendered (maud templates, every value escaped)
//! and sent by one responder with `nosniff`, `no-store`,
//! `Referrer-Policy: same-origin` and a Content-Security-Policy that runs
//! only the sandbox's own script and forbids framing; lists are keyset-paged and an
//! order page shows at most [`ORDER_PAGE_ROWS`] of each kind of row, so no
//! request makes the sandbox do unbounded work. The request log keeps
//! each payload up to [`MAX_LOGGED_PAYLOAD`] bytes. Decrypted payloads
//! are the merchant's own test data; no page shows a private key, an AES
//! key or the notification salt.
//!
//! The same admin actions are methods of [`RunningSandbox`].
//!
//! # Status codes
//!
//! ET documents only `000000` and `200003`; the sandbox keeps both and
//! defines the rest: the table is [`SandboxCode`].
//!
//! A body that is not a JSON object at all (not an envelope) is refused
//! `100001` **unsigned**: `{"status_code":"100001","message":…}` with no
//! `sign`, so refusing garbage costs no RSA signature. et-proto reads it as
//! `Error::Api { authenticated: false }`, as it reads any unsigned refusal:
//! a merchant must not act on it as ET's word. Every other refusal is
//! signed.
//!
//! A body that names no known merchant cannot be encrypted to anyone; like
//! every refusal it is answered with ET's signature and empty `aeskey` and
//! `sensitive_data`.
//!
//! # Operations
//!
//! Create order (`create_order` and `add_special_rent_order`; `tuition_rmb`
//! = the amount × rate, the amount spelled `tuituon` or `tuition`;
//! `counter_fee` from the table, one `pay_config_list` entry pointing at
//! the checkout page), upload attachment (at most 5 per
//! type per order), payment address (status 0 only, else `200003`; its
//! `notify_url` receives the payment notification), batch order query
//! (results in the encrypted `sensitive_data`), exchange rate, estimated
//! amount, and refund application (status 1–4 → -3; the outcome is an admin
//! action).
//!
//! Institutions (`get_institutions`): the directory searched by
//! `search_key` (case-insensitive, in the code, the English or the Chinese
//! name) and `institution_type` (absent: every type), in code order;
//! `count` 0 returns [`DEFAULT_PAGE`] entries, and no answer holds more than
//! [`MAX_PAGE`]. An order's `institution_code` must be in the directory
//! (else `200007`); the order then carries the directory's names (its
//! checkout page shows them, [`RunningSandbox::order_institution`]).
//!
//! Third-party jump ordering (`merchant_jump_place_order`): answers with a
//! `jump_url`, `/jump/{token}` (32 random alphanumerics; the same address
//! again for a retry with the same `merchant_order_id`). The student sees
//! there what the merchant sent, fills in institution or country,
//! currency, and the amount and names if the merchant gave none, and places
//! the order, created exactly as `create_order` creates one; its every
//! notification goes to the jump's `status_change_notify_url`. A jump
//! places at most one order.
//!
//! # Notifications
//!
//! Bodies from et-model's typed notifications, signed and encoded as the
//! sandbox's profile says (et-proto's `EtSide::notification_body`; by
//! default JSON signed with the v2 rule).
//! Payment success (and a declined payment's `pay_result` 0) goes to the
//! payment address's `notify_url`, else the order's `notify_url`; status
//! changes, refund results and the remittance
//! voucher go to the order's `status_change_notify_url`, else `notify_url`.
//! Each is tried at once and again after 1, 5, 10, 30, 60 and 120 minutes of
//! sandbox time (7 attempts), until the reply is `{"notify_result":"OK"}`
//! — for a refund result, with the notification's `order_id` and a `sign`
//! by the same MD5 rule (spec 04 §4.4), as et-proto's receivers answer;
//! a bare OK to a refund result is a failed attempt
//! ([`DeliveryFailure::BadRefundReply`], the reason in `last_error`).
//! Deliveries run concurrently, each attempt within 10 s: at most
//! [`MAX_DELIVERIES`] (32) in flight, at most [`MAX_DELIVERIES_PER_ENDPOINT`]
//! (4) to one endpoint (scheme, host and port). Due notifications are read
//! taking turns per endpoint (each endpoint's oldest first, then each
//! one's next), so however many wait for one endpoint, another's start in
//! the same round while a slot is free: an endpoint that hangs holds at
//! most 4 slots and delays only its own notifications, unless 8 or more
//! hang at once and hold all 32, and then another's waits at most until a
//! slot frees (10 s). One order's notifications go one at a time, oldest
//! first.
//! Every delivery carries the header [`DELIVERY_HEADER`]
//! (`et-sandbox-delivery: ID`, the notification's id), and every sandbox
//! refuses any request that carries it (`403`, on every route): a
//! `notify_url` that names a sandbox, this one or another, by any host
//! name, address or redirect, acts on nothing there. Deliveries follow no
//! redirect.
//! Unpaid orders close after 7 days of sandbox time.
//!
//! Every attempt is recorded: when, where, the HTTP status (or why no
//! reply came, a [`DeliveryFailure`]), the first [`REPLY_HEAD_BYTES`] (512)
//! bytes of the reply, the latency and when the next attempt is due
//! ([`RunningSandbox::delivery_attempts`] per order,
//! [`RunningSandbox::notification_attempts`] per notification).
//!
//! # Inside: the data path
//!
//! Each module depends only on those before it:
//!
//! ```text
//! request ─▶ api / server / jump ─▶ engine ─▶ outbox ─▶ store (outbox row)
//!                                                         │
//!            ticker (background loop) ─▶ delivery ◀───────┘ ─▶ merchant's URL
//! ```
//!
//! - `machine`: the order state machine ([`Event`], [`IllegalTransition`]),
//!   pure.
//! - `engine`: every status change. A pure step (`apply`) checks the
//!   machine and composes the notifications the change causes as typed
//!   `et_model::Notification` values; `App::transition` runs it in one
//!   SQLite transaction with the order's update and the outbox rows, so a
//!   crash loses neither. Closing orders unpaid for 7 days is an engine step
//!   too (`App::close_unpaid_orders`), which the ticker calls each round.
//! - `outbox`: pure. A typed notification becomes the signed body through
//!   et-proto's `EtSide::notification_body` (the profile's rule and
//!   encoding, the merchant's salt); the retry schedule ([`RETRY_MINUTES`],
//!   [`MAX_ATTEMPTS`]).
//! - `refund_reply`: whether a reply to a refund result carries its
//!   `order_id` and a `sign` by the merchant's salt (spec 04 §4.4).
//! - `delivery`: one attempt at one outbox row: POST, read at most 64 KiB of
//!   the reply within 10 s (a refund result's checked by `refund_reply`),
//!   record the attempt and schedule the next.
//! - `ticker`: the background loop: saves the clock, runs the engine's
//!   time-driven step, starts due deliveries within the concurrency slots,
//!   sleeps until the next is due.
//! - `money`: decimal arithmetic on stored amounts (never a float).
//! - `store`: SQLite, schema versions and migrations.
//!
//! # Playing a profile
//!
//! The sandbox plays the et-proto `Profile` in `profile.json` (an et-proto
//! profile file; [`InitOptions::profile`] at `init`,
//! [`SandboxDir::set_profile`] to change it, `et sandbox init|serve
//! --profile FILE`): it verifies requests and signs replies with its
//! `sign_hash` and `sign_rule`, decrypts `aeskey` with its `key_padding`,
//! seals replies by its `empty_sensitive`, writes `version` into replies
//! unless `response_version` is off, adds each of its
//! `extra_response_keys` (say `trace_id`) to every reply with a fresh
//! random value, signs notifications with the v1 printed form under
//! `notify_sign_rule` `v1-compat`, posts them form-encoded under
//! `notify_encoding` `form`, and accepts the order's amount under both
//! spellings whatever `tuition_spelling` says (it names the amount as that
//! setting spells it). A directory without `profile.json` plays the
//! default profile. [`SandboxDir::profile`] reads it with the sandbox's
//! own codes named ([`SandboxCode::named_in`]): the profile a merchant
//! talking to this sandbox speaks, as `et call --dir` and `et demo` do.
//!
//! # Failures on demand
//!
//! A merchant's integration has to survive what ET and the network do on
//! bad days, so the sandbox plays them on request ([`faults`]): added
//! latency; HTTP 500 or 502, a timeout (the connection held, then closed) or
//! a reset connection, each before the request is carried out or after (the
//! order exists and its answer is lost); any `status_code` and message,
//! signed by ET; and notifications delayed, duplicated, out of order, badly
//! signed or dropped for their first attempts. A [`FaultRule`] says which
//! failure and where: a merchant, an order, or the next N requests. Rules
//! come from `sandbox.json`, the admin API and [`RunningSandbox::add_fault`]:
//!
//! ```json
//! {
//!   "rates": {"GBP": "9.2000"},
//!   "counter_fee": "50.00",
//!   "faults": [
//!     {"scope": {"merchant_number": "ET82009"}, "fault": {"kind": "latency", "ms": 300}},
//!     {"scope": {"next": 1}, "fault": {"kind": "reset", "at": "after_commit"}}
//!   ]
//! }
//! ```
//!
//! A merchant's own test suite needs no admin call: these magic values in
//! the order it creates ask for a failure (like Stripe's test cards):
//!
#![doc = include_str!("magic-values.md")]
//!
//! Every wait is bounded ([`faults::MAX_LATENCY`], [`faults::MAX_HOLD`]), a
//! held connection counts against the connection cap, and a plan holds at
//! most [`faults::MAX_FAULT_RULES`] rules.
//!
//! # Resource bounds
//!
//! Whatever a client sends, the sandbox holds bounded connections, memory
//! and time ([`Limits`], set with [`start_with`]; defaults in
//! parentheses). It runs on et-http's serve loop, the one the webhook
//! receiver uses: at most `max_connections` (512) connections (more wait in
//! the listen backlog), a silent connection closed after the idle timeout
//! (10 s), request headers complete within the header timeout (10 s). A
//! body must arrive within `body_read_timeout` (30 s; else 408), be at most
//! [`MAX_BODY`] (20 MiB; else 413) and fit in `body_budget` (96 MiB), the
//! memory all requests in flight hold together, each body byte costing
//! [`WORK_FACTOR`] (4) bytes for the body and the copies made while it is
//! handled (else 503; a declared `Content-Length` that cannot fit is
//! refused before the body is read). `POST /server` takes
//! `Content-Type: application/json` or none (ET's demo sends none; else
//! 415), and no `POST` answers a browser's cross-site request (403); both
//! are refused from the head, unread. Requests with bodies of a MiB or
//! more are handled one at a time on a thread of their own, so glibc's
//! per-thread arenas do not each keep one's peak (`cargo xtask
//! sandbox-memory` prints the peak RSS under three 18.7 MB envelopes at a
//! time). Malformed
//! framing, e.g. bad chunking, is 400. `HEAD` answers as `GET` without
//! the body; a route asked with a method it does not take is 405 with
//! `Allow` (e.g. `Allow: POST` on `/server`), an unknown path 404. Request handlers (RSA, SQLite) and
//! the notification loop's database work run on tokio's blocking pool, never
//! on the threads that drive connections; at most `api_concurrency` (4 per
//! core) `POST /server` requests at once, the rest waiting in arrival order,
//! so CPU-bound RSA cannot starve those threads.
//!
//! # Files that hold secrets
//!
//! The state directory is created 0700; private keys, `merchant.json`,
//! `profile.json` and `sandbox.db` (with its `-wal`/`-shm`) are 0600
//! whatever the umask. Every file is written through
//! [`files::write_atomically`] and nothing existing is replaced, but
//! `profile.json` when [`SandboxDir::set_profile`] is asked to.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod api;
mod app;
mod clock;
mod codes;
mod config;
mod dashboard;
mod delivery;
mod engine;
pub mod faults;
pub mod files;
mod institutions;
mod jump;
mod keys;
mod limits;
mod lock;
mod machine;
mod money;
mod outbox;
mod pages;
mod refund_reply;
mod reply;
mod rotation;
mod server;
mod store;
mod ticker;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use et_model::OrderStatus;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use api::MAX_ATTACHMENTS_PER_TYPE;
pub use clock::{ClockError, MAX_ADVANCE, MAX_AHEAD, MAX_TIME_SCALE};
pub use codes::{Refusal, SandboxCode};
pub use config::{
    Exposure, InitOptions, MerchantInfo, RateTable, SandboxConfig, SandboxDir, DATABASE,
    ET_PRIVATE_PEM, ET_PUBLIC_PEM, MERCHANT_JSON, MERCHANT_PRIVATE_PEM, MERCHANT_PUBLIC_PEM,
    PROFILE_JSON, SANDBOX_JSON,
};
pub use dashboard::{
    ATTEMPTS_SHOWN, MAX_LOGGED_PAYLOAD, ORDER_PAGE_ROWS, PAGE_SIZE, PAY_METHODS, REQUEST_LOG_ROWS,
};
pub use delivery::{DeliveryFailure, DELIVERY_HEADER, REPLY_HEAD_BYTES};
pub use engine::CLOSE_UNPAID_AFTER_MS;
pub use faults::{Fault, FaultError, FaultPlan, FaultRule, Scope, Stage};
pub use institutions::{InstitutionDirectory, DEFAULT_PAGE, MAX_PAGE, RESIDENCE};
pub use limits::{Limits, MAX_BODY, WORK_FACTOR};
pub use lock::LOCK_FILE;
pub use machine::{Event, IllegalTransition};
pub use outbox::{MAX_ATTEMPTS, RETRY_MINUTES};
pub use rotation::{Rotated, PREVIOUS_ET_PRIVATE_PEM, ROTATION_JSON};
pub use store::OrderInstitution;
pub use ticker::{MAX_DELIVERIES, MAX_DELIVERIES_PER_ENDPOINT};

/// Everything that can stop a sandbox from being set up or started.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
    /// A key file could not be generated, written or loaded.
    Key {
        /// The key file.
        path: PathBuf,
        /// The crypto layer's reason (never key material).
        source: et_crypto::Error,
    },
    /// A configuration file or value is invalid.
    Config {
        /// The file (or setting) at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The database failed.
    Database(rusqlite::Error),
    /// Another sandbox is serving this state directory (it holds the
    /// exclusive lock on [`LOCK_FILE`]); two would deliver every
    /// notification twice.
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// `sandbox.db` has a schema version (`PRAGMA user_version`) this
    /// sandbox does not know: written by a newer sandbox. It is left as it
    /// is; run the newer sandbox, or start from a fresh state directory.
    SchemaVersion {
        /// The database file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The newest version this sandbox knows.
        known: i64,
    },
    /// The listen address is not a loopback address, and the
    /// configuration did not ask for [`Exposure::Network`]: other machines
    /// would reach the dashboard (decrypted payloads) and the admin routes.
    NotLoopback {
        /// The address.
        addr: SocketAddr,
    },
    /// The listen address could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What happened.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn key(path: &Path, source: et_crypto::Error) -> Self {
        Error::Key {
            path: path.to_owned(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Key { path, source } => write!(f, "key {}: {source}", path.display()),
            Error::Config { path, reason } => write!(f, "{}: {reason}", path.display()),
            Error::Database(e) => write!(f, "sandbox database: {e}"),
            Error::Locked { path } => write!(
                f,
                "{}: another sandbox is already serving this state directory; stop it first",
                path.display()
            ),
            Error::SchemaVersion { path, found, known } => write!(
                f,
                "{}: schema version {found}, but this sandbox knows versions up to {known}; \
                 it was written by a newer sandbox",
                path.display()
            ),
            Error::NotLoopback { addr } => write!(
                f,
                "{addr} is not a loopback address: other machines would reach the dashboard \
                 (decrypted payloads) and the admin routes; allow it explicitly \
                 (Exposure::Network, `et sandbox serve --expose`), and they then need the \
                 secret the sandbox prints at start"
            ),
            Error::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Bind { source, .. } => Some(source),
            Error::Key { source, .. } => Some(source),
            Error::Database(e) => Some(e),
            Error::Config { .. }
            | Error::Locked { .. }
            | Error::SchemaVersion { .. }
            | Error::NotLoopback { .. } => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database(e)
    }
}

/// Loads the state directory, opens (or creates) its database, binds
/// `listen` and starts serving and delivering notifications in the
/// background. Pending notifications of an earlier run resume.
pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, Error> {
    start_with(config, Limits::default()).await
}

/// [`start`] within the given resource bounds.
pub async fn start_with(config: SandboxConfig, limits: Limits) -> Result<RunningSandbox, Error> {
    if config.exposure == Exposure::Loopback && !config.listen.ip().is_loopback() {
        return Err(Error::NotLoopback {
            addr: config.listen,
        });
    }
    let dir = SandboxDir::new(&config.dir);
    let lock = Arc::new(lock::lock(&config.dir)?);
    let merchant = dir.merchant()?;
    let merchant_pem = keys::load_public(&dir.file(MERCHANT_PUBLIC_PEM))?;
    let et_key = keys::load_private(&dir.file(ET_PRIVATE_PEM))?;
    let rates = dir.rate_table()?;
    let institutions = dir.institutions()?;
    let faults = dir.faults()?;
    let store = store::Store::open(&dir.file(DATABASE))?;
    let (saved_clock, merchants) = store.tx(|c| {
        store::upsert_merchant(
            c,
            &store::MerchantRecord {
                merchant_number: merchant.merchant_number.clone(),
                sub_merchant_number: merchant.sub_merchant_number.clone(),
                public_key_pem: merchant_pem,
                salt: merchant.salt.to_string(),
            },
        )?;
        Ok::<_, rusqlite::Error>((store::meta(c, app::CLOCK_KEY)?, store::merchants(c)?))
    })?;
    let saved: clock::Millis = saved_clock.and_then(|t| t.parse().ok()).unwrap_or(0);
    let clock = clock::Clock::new(config.time_scale, saved).map_err(|e| Error::Config {
        path: PathBuf::from("time_scale"),
        reason: e.to_string(),
    })?;
    // A clock saved beyond MAX_AHEAD starts at the bound: what was due then
    // is due as much earlier.
    let back = saved.saturating_sub(clock.now());
    if back > 0 {
        tracing::warn!(
            back_ms = back,
            "the saved clock was too far ahead; it starts at the bound"
        );
        store.tx(|c| store::move_schedule_back(c, back, clock.now()))?;
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.listen,
        source,
    })?;
    let app = Arc::new(app::App {
        store,
        clock,
        rates,
        institutions,
        base_url: format!("http://{addr}"),
        wake: tokio::sync::Notify::new(),
        keys: rotation::EtKeys::new(et_key, dir.previous()?, dir.profile()?),
        merchant_keys: merchants
            .into_iter()
            .filter_map(app::MerchantKey::parse)
            .collect(),
        faults,
        access: access::Access::new(config.exposure, addr.port()),
        form_token: access::random_token(),
    });
    let (stop, stopped) = watch::channel(false);
    let server = Arc::new(server::Server {
        app: app.clone(),
        budget: limits::BodyBudget::new(limits.body_budget),
        api_turns: Arc::new(tokio::sync::Semaphore::new(limits.api_concurrency.max(1))),
        large: limits::LargeLane::start().map_err(|e| Error::io(&config.dir, e))?,
        limits,
    });
    // Each task holds the directory's lock until it has ended.
    let held = lock.clone();
    let serving = server::serve(listener, server, stopped.clone());
    let delivering = ticker::run(app.clone(), stopped);
    let tasks = vec![
        tokio::spawn(async move {
            serving.await;
            drop(held);
        }),
        tokio::spawn(async move {
            delivering.await;
            drop(lock);
        }),
    ];
    tracing::info!(%addr, time_scale = config.time_scale, "sandbox listening");
    Ok(RunningSandbox {
        addr,
        app,
        dir,
        stop,
        tasks,
    })
}

/// A sandbox serving in the background. Dropping it stops it too (without
/// waiting); [`shutdown`](Self::shutdown) waits for open connections.
pub struct RunningSandbox {
    addr: SocketAddr,
    app: Arc<app::App>,
    dir: SandboxDir,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningSandbox {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/server`, ET's API endpoint.
    pub fn endpoint_url(&self) -> String {
        format!("{}/server", self.app.base_url)
    }

    /// The secret the dashboard and the admin routes require
    /// ([`Exposure::Network`]; `Authorization: Bearer SECRET`, or the
    /// cookie [`dashboard_url`](Self::dashboard_url) sets); `None` on
    /// loopback, where they require none.
    pub fn secret(&self) -> Option<&str> {
        self.app.access.secret()
    }

    /// `http://ADDR/`, the dashboard; exposed, with `?secret=SECRET`, which
    /// sets the browser's cookie and redirects to `/`.
    pub fn dashboard_url(&self) -> String {
        match self.secret() {
            Some(secret) => format!("{}/?secret={secret}", self.app.base_url),
            None => format!("{}/", self.app.base_url),
        }
    }

    /// `http://ADDR/pay/{order_id}`, the checkout page.
    pub fn pay_url(&self, order_id: &str) -> String {
        self.app.pay_url(order_id)
    }

    /// `http://ADDR/vouchers/{order_id}.pdf`, the remittance voucher.
    pub fn voucher_url(&self, order_id: &str) -> String {
        self.app.voucher_url(order_id)
    }

    /// Stops accepting, waits (up to 5 s) for open connections and stops
    /// the notification loop. Undelivered notifications stay in the outbox;
    /// an attempt cut off by the stop is due at once when a sandbox starts
    /// on the state again.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "a sandbox task failed");
            }
        }
    }

    /// The order, or `None`.
    pub fn order(&self, order_id: &str) -> Result<Option<OrderView>, Refusal> {
        let order = self.app.store.tx(|c| store::order(c, order_id))?;
        Ok(order.as_ref().map(OrderView::from))
    }

    /// Every notification of the order (or of all orders), oldest first.
    pub fn notifications(&self, order_id: Option<&str>) -> Result<Vec<NotificationView>, Refusal> {
        let rows = self.app.store.tx(|c| store::notifications(c, order_id))?;
        Ok(rows.iter().map(NotificationView::from).collect())
    }

    /// Every delivery attempt of the order's notifications, oldest first.
    pub fn delivery_attempts(&self, order_id: &str) -> Result<Vec<DeliveryAttemptView>, Refusal> {
        let rows = self
            .app
            .store
            .tx(|c| store::delivery_attempts(c, order_id))?;
        Ok(rows.into_iter().map(DeliveryAttemptView::from).collect())
    }

    /// Every delivery attempt of one notification
    /// ([`NotificationView::id`]), oldest first.
    pub fn notification_attempts(
        &self,
        notification_id: i64,
    ) -> Result<Vec<DeliveryAttemptView>, Refusal> {
        let rows = self
            .app
            .store
            .tx(|c| store::notification_attempts(c, notification_id))?;
        Ok(rows.into_iter().map(DeliveryAttemptView::from).collect())
    }

    /// Pays the order as the checkout page does (0 → 1).
    pub fn pay(&self, order_id: &str) -> Result<OrderView, Refusal> {
        self.admin(order_id, Event::Pay)
    }

    /// Declines the payment as the checkout page's Decline button does:
    /// the order stays at 0 and a payment notification with `pay_result`
    /// 0 goes out.
    pub fn decline_payment(&self, order_id: &str) -> Result<OrderView, Refusal> {
        self.admin(order_id, Event::DeclinePayment)
    }

    /// Makes notification `id` (its outbox row, [`NotificationView::id`])
    /// due now, whether pending, delivered or given up. `false` if there
    /// is no such notification.
    pub fn redeliver(&self, id: i64) -> Result<bool, Refusal> {
        let now = self.app.clock.now();
        let found = self.app.store.tx(|c| {
            let found = store::notification_order(c, id)?.is_some();
            if found {
                store::redeliver(c, id, now)?;
            }
            Ok::<_, rusqlite::Error>(found)
        })?;
        self.app.wake.notify_one();
        Ok(found)
    }

    /// ET starts remitting (1 → 2).
    pub fn remit(&self, order_id: &str) -> Result<OrderView, Refusal> {
        self.admin(order_id, Event::Remit)
    }

    /// ET has remitted (2 → 3); sends the remittance voucher.
    pub fn receive(&self, order_id: &str) -> Result<OrderView, Refusal> {
        self.admin(order_id, Event::Receive)
    }

    /// The recipient received the funds (3 → 4).
    pub fn complete(&self, order_id: &str) -> Result<OrderView, Refusal> {
        self.admin(order_id, Event::Complete)
    }

    /// Closes an unpaid order (0 → -1).
    pub fn close(&self, order_id: &str) -> Result<OrderView, Refusal> {
        self.admin(order_id, Event::Close)
    }

    /// Decides a refund in progress: -3 → -2, or back to the status before
    /// the refund; sends the refund result.
    pub fn refund_result(&self, order_id: &str, success: bool) -> Result<OrderView, Refusal> {
        self.admin(order_id, Event::RefundResult { success })
    }

    /// The institution the order was placed for, named as the directory
    /// named it then; `None` for an order without `institution_code`.
    pub fn order_institution(&self, order_id: &str) -> Result<Option<OrderInstitution>, Refusal> {
        Ok(self
            .app
            .store
            .tx(|c| store::order_institution(c, order_id))?)
    }

    /// Moves sandbox time forward at once (e.g. past the 7-day close); at
    /// most [`MAX_ADVANCE`], and never more than [`MAX_AHEAD`] ahead of
    /// real time (refused, time unchanged).
    pub fn advance_clock(&self, by: Duration) -> Result<(), ClockError> {
        self.app.advance_clock(by).map(drop)
    }

    /// Brings sandbox time back to real time; every pending notification's
    /// next attempt moves back by as much (none before now), so each still
    /// comes due. Orders keep their times: one created in the sandbox's
    /// future closes unpaid 7 sandbox days after that.
    pub fn reset_clock(&self) -> Result<(), Refusal> {
        Ok(self.app.reset_clock().map(drop)?)
    }

    /// Adds a fault rule after the others ([`faults`]; `POST /admin/faults`).
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), FaultError> {
        self.app.faults.add(rule)
    }

    /// The fault rules, in matching order (`GET /admin/faults`).
    pub fn faults(&self) -> Vec<FaultRule> {
        self.app.faults.list()
    }

    /// Removes every fault rule (`POST /admin/faults/clear`); magic values
    /// still apply.
    pub fn clear_faults(&self) {
        self.app.faults.clear();
    }

    /// Rotates ET's key and the merchant's salt while serving (the files as
    /// [`SandboxDir::rotate`] does): from now on replies are signed with
    /// the new key and notifications with the new salt, while requests
    /// sealed to the old key and refund replies signed with the old salt
    /// are accepted for `window`. Notifications queued before keep the old
    /// salt's signature, as ET's already sent would.
    ///
    /// # Errors
    /// As [`SandboxDir::rotate`]; [`Error::Database`] updating the salt.
    pub fn rotate(&self, window: Duration) -> Result<Rotated, Error> {
        let rotated = self.dir.rotate_files(window)?;
        let key = keys::load_private(&self.dir.file(ET_PRIVATE_PEM))?;
        let merchant = self.dir.merchant()?;
        self.app.store.tx(|c| {
            let record =
                store::merchant(c, &merchant.merchant_number, &merchant.sub_merchant_number)?;
            if let Some(mut record) = record {
                record.salt = merchant.salt.to_string();
                store::upsert_merchant(c, &record)?;
            }
            Ok::<_, rusqlite::Error>(())
        })?;
        self.app.keys.replace(key, self.dir.previous()?);
        tracing::info!(?rotated.not_after, "ET's key and the salt rotated; the old ones accepted until then");
        Ok(rotated)
    }

    fn admin(&self, order_id: &str, event: Event) -> Result<OrderView, Refusal> {
        let order = self.app.transition(order_id, None, event, None)?;
        Ok(OrderView::from(&order))
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// An order as the admin API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderView {
    /// ET order id.
    pub order_id: String,
    /// The merchant's own order number.
    pub merchant_order_id: String,
    /// Current status.
    pub status: OrderStatus,
    /// Order currency.
    pub currency_code: String,
    /// Amount in the order currency.
    pub amount: String,
    /// Amount in RMB.
    pub tuition_rmb: String,
    /// Fee in RMB.
    pub counter_fee: String,
    /// Creation time, Beijing time.
    pub created_at: String,
    /// Last change, Beijing time.
    pub updated_at: String,
}

impl From<&store::OrderRecord> for OrderView {
    fn from(o: &store::OrderRecord) -> Self {
        OrderView {
            order_id: o.order_id.clone(),
            merchant_order_id: o.merchant_order_id.clone(),
            status: OrderStatus::from_code(o.status),
            currency_code: o.currency_code.clone(),
            amount: o.amount.clone(),
            tuition_rmb: o.tuition_rmb.clone(),
            counter_fee: o.counter_fee.clone(),
            created_at: clock::beijing_datetime(o.created_at),
            updated_at: clock::beijing_datetime(o.updated_at),
        }
    }
}

/// A notification in the outbox and how its delivery went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationView {
    /// The notification's id (its outbox row), for
    /// [`RunningSandbox::notification_attempts`] and
    /// [`RunningSandbox::redeliver`].
    pub id: i64,
    /// ET order id.
    pub order_id: String,
    /// `payment_success` (`pay_result` 0 for a declined payment),
    /// `order_status_change`, `refund_result` or `remittance_voucher`.
    pub kind: String,
    /// Destination.
    pub url: String,
    /// The signed JSON body.
    pub body: String,
    /// Deliveries tried.
    pub attempts: i64,
    /// Whether the merchant acknowledged it.
    pub delivered: bool,
    /// Whether more attempts will follow.
    pub pending: bool,
    /// What went wrong last time ('' if nothing).
    pub last_error: String,
}

impl From<&store::OutboxRecord> for NotificationView {
    fn from(n: &store::OutboxRecord) -> Self {
        NotificationView {
            id: n.id,
            order_id: n.order_id.clone(),
            kind: n.kind.clone(),
            url: n.url.clone(),
            body: n.body.clone(),
            attempts: n.attempts,
            delivered: n.delivered_at.is_some(),
            pending: n.next_attempt_at.is_some(),
            last_error: n.last_error.clone(),
        }
    }
}

/// One delivery attempt of a notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryAttemptView {
    /// The notification tried ([`NotificationView::id`]).
    pub notification_id: i64,
    /// The order it is about.
    pub order_id: String,
    /// When the attempt started, Beijing sandbox time.
    pub attempted_at: String,
    /// Where it was sent.
    pub url: String,
    /// The reply's HTTP status, if a reply came.
    pub http_status: Option<u16>,
    /// Whether the merchant acknowledged it (`{"notify_result":"OK"}`).
    pub acknowledged: bool,
    /// Why not, when it was not.
    pub failure: Option<DeliveryFailure>,
    /// The first bytes of the reply, at most [`REPLY_HEAD_BYTES`]
    /// (empty when no reply was read whole); JSON shows them as text
    /// (invalid UTF-8 replaced).
    #[serde(serialize_with = "lossy_text")]
    pub reply_head: Vec<u8>,
    /// Real milliseconds from sending to the end of the reply (or the failure).
    pub latency_ms: i64,
    /// When the next attempt is due, Beijing sandbox time; `None` once
    /// delivered or given up.
    pub next_attempt_at: Option<String>,
}

fn lossy_text<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

impl From<store::DeliveryAttemptRecord> for DeliveryAttemptView {
    fn from(a: store::DeliveryAttemptRecord) -> Self {
        DeliveryAttemptView {
            notification_id: a.notification_id,
            order_id: a.order_id,
            attempted_at: clock::beijing_datetime(a.attempted_at),
            url: a.url,
            http_status: a.http_status,
            acknowledged: a.failure.is_empty(),
            failure: DeliveryFailure::from_name(&a.failure),
            reply_head: a.reply_head,
            latency_ms: a.latency_ms,
            next_attempt_at: a.next_attempt_at.map(clock::beijing_datetime),
        }
    }
}

// The README's example runs as a doctest, so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
