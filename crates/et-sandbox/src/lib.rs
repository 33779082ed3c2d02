//! A local EasyTransfer (ET, 易思汇) simulator: ET's side of the protocol,
//! run on one machine, with its state in SQLite.
//!
//! Its one job is to let a merchant prove an integration before joint
//! testing with ET: it is strict where ET is strict, runs the order life
//! cycle, sends ET's signed notifications on ET's retry schedule (on a
//! clock that can run faster than real time), plays any et-proto profile
//! and plays ET's bad days on demand. The [`manual`] says how, in full.
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
//! # The public API
//!
//! - Set up and start: [`SandboxDir`] ([`InitOptions`], [`MerchantInfo`],
//!   [`RateTable`], [`InstitutionDirectory`]), [`SandboxConfig`]
//!   ([`Exposure`]), [`Limits`], [`start`], [`start_with`], [`Error`].
//! - Drive it: [`RunningSandbox`] (addresses, the order, notification and
//!   attempt views [`OrderView`], [`NotificationView`],
//!   [`DeliveryAttemptView`], and the admin actions), [`AdminAction`] (the
//!   one list of admin actions and their routes, [`Event`] an order step;
//!   [`RunningSandbox::act`] carries one out: [`AdminAnswer`] or
//!   [`AdminError`]).
//! - Failures on demand: [`faults`] ([`FaultRule`], [`Fault`], [`Scope`],
//!   [`Stage`], [`FaultError`]).
//! - What it answers: [`SandboxCode`] (the status-code table), [`Refusal`],
//!   [`DeliveryFailure`], [`ClockError`].
//! - A merchant's code against a running sandbox: [`SandboxMerchant`] (the
//!   state directory's merchant and the profile it plays); HTTPS:
//!   [`SandboxConfig::tls`], [`RunningSandbox::tls_certificate_pem`].
//! - Files: [`files`] (the atomic, owner-only writes `et` shares) and the
//!   state directory's file names ([`DATABASE`], [`SANDBOX_JSON`],
//!   [`TLS_CERT_PEM`], …).
//!
//! The other constants name the bounds the [`manual`] states.
//!
//! # Inside
//!
//! Each module depends only on those before it in this list (methods on
//! the shared `App` are the engine's, so modules after `engine` call them):
//!
//! - `error` ([`Error`]), `clock`, `codes`, `files`, `lock`, `machine` (the order state machine,
//!   pure), `reply` (the one responder: security headers on every page).
//! - `keys`, `institutions` (the directory and `get_institutions`), `outbox`
//!   (pure: signed bodies, the retry schedule, [`DeliveryFailure`]).
//! - `store`: SQLite split by table (schema and migrations, orders, outbox
//!   and attempts with their life cycle, request log, jumps), typed
//!   columns; `page_reads` (the bounded queries only pages need).
//! - `money`, `html` (what every page shares: `<head>`, money as people
//!   read it), `faults`, `views`.
//! - `config`, `credentials` ([`SandboxMerchant`]), `tls` (`--tls`),
//!   `rotation` (ET's key and salt rotated, the old ones accepted for a
//!   window), `access` (who may use the dashboard and admin routes), `app`
//!   (the shared state), `engine` (order creation and every status change,
//!   with its notifications, in one transaction).
//! - `admin` ([`AdminAction`]), `refund_reply`, `request_log` (written by
//!   the API, read by the dashboard), `delivery` (one attempt), `ticker`
//!   (the background loop), `public_pages` (ET's checkout, jump page and
//!   voucher), `jump`.
//! - `api` (`POST /server`), `dashboard`, `limits`, `server` (routes),
//!   [`manual`] (the manual, text only), and this root ([`start`],
//!   [`RunningSandbox`]).
//!
//! ```text
//! request ─▶ server ─▶ api / jump / admin / dashboard ─▶ engine ─▶ store (order + outbox rows)
//!                                                                    │
//!            ticker (background loop) ─▶ delivery ◀──────────────────┘ ─▶ merchant's URL
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod admin;
mod api;
mod app;
mod clock;
mod codes;
mod config;
mod credentials;
mod dashboard;
mod delivery;
mod engine;
mod error;
pub mod faults;
pub mod files;
mod html;
mod institutions;
mod jump;
mod keys;
mod limits;
mod lock;
mod machine;
pub mod manual;
mod money;
mod outbox;
mod page_reads;
mod public_pages;
mod refund_reply;
mod reply;
mod request_log;
mod rotation;
mod server;
mod store;
mod ticker;
mod tls;
mod views;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use admin::{AdminAction, AdminAnswer, AdminError, AdminParseError};
pub use api::MAX_ATTACHMENTS_PER_TYPE;
pub use clock::{ClockError, MAX_ADVANCE, MAX_AHEAD, MAX_TIME_SCALE};
pub use codes::{Refusal, SandboxCode};
pub use config::{
    Exposure, InitOptions, MerchantInfo, RateTable, SandboxConfig, SandboxDir, DATABASE,
    ET_PRIVATE_PEM, ET_PUBLIC_PEM, MERCHANT_JSON, MERCHANT_PRIVATE_PEM, MERCHANT_PUBLIC_PEM,
    PROFILE_JSON, SANDBOX_JSON,
};
pub use credentials::{SandboxMerchant, SALT_TXT};
pub use dashboard::{ATTEMPTS_SHOWN, ORDER_PAGE_ROWS, PAGE_SIZE};
pub use delivery::{DELIVERY_HEADER, REPLY_HEAD_BYTES};
pub use engine::CLOSE_UNPAID_AFTER_MS;
pub use error::Error;
pub use faults::{Fault, FaultError, FaultRule, Scope, Stage};
pub use institutions::{InstitutionDirectory, DEFAULT_PAGE, MAX_PAGE, RESIDENCE};
pub use limits::{Limits, MAX_BODY, WORK_FACTOR};
pub use lock::LOCK_FILE;
pub use machine::Event;
pub use outbox::{DeliveryFailure, MAX_ATTEMPTS, RETRY_MINUTES};
pub use public_pages::PAY_METHODS;
pub use request_log::{MAX_LOGGED_PAYLOAD, REQUEST_LOG_ROWS};
pub use rotation::{Rotated, PREVIOUS_ET_PRIVATE_PEM, ROTATION_JSON};
pub use store::orders::OrderInstitution;
pub use ticker::{MAX_DELIVERIES, MAX_DELIVERIES_PER_ENDPOINT};
pub use tls::{TLS_CERT_PEM, TLS_KEY_PEM};
pub use views::{DeliveryAttemptView, NotificationView, OrderView};

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
    let previous = dir.previous(clock.system_time())?;
    let tls = match config.tls {
        true => Some(tls::server_config(&dir, config.listen.ip())?),
        false => None,
    };
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
        base_url: match tls {
            Some(_) => format!("https://{addr}"),
            None => format!("http://{addr}"),
        },
        wake: tokio::sync::Notify::new(),
        keys: rotation::EtKeys::new(et_key, previous, dir.profile()?),
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
    let (tls_certificate_pem, tls) = tls.unzip();
    let serving = server::serve(listener, server, tls, stopped.clone());
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
        tls_certificate_pem,
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
    tls_certificate_pem: Option<String>,
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

    /// The certificate served over HTTPS (PEM), for a client to trust as a
    /// root; `None` when serving plain HTTP ([`SandboxConfig::tls`]).
    pub fn tls_certificate_pem(&self) -> Option<&str> {
        self.tls_certificate_pem.as_deref()
    }

    /// `http://ADDR/server` (`https://` with [`SandboxConfig::tls`]), ET's API endpoint.
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
        Ok(admin::redeliver(&self.app, id)?.is_some())
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

    /// Adds a fault rule after the others ([`faults`]; [`AdminAction::AddFault`]).
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), FaultError> {
        self.app.faults.add(rule)
    }

    /// The fault rules, in matching order ([`AdminAction::ListFaults`]).
    pub fn faults(&self) -> Vec<FaultRule> {
        self.app.faults.list()
    }

    /// Removes the first fault rule equal to `rule` ([`AdminAction::RemoveFault`]);
    /// whether one was there.
    pub fn remove_fault(&self, rule: &FaultRule) -> bool {
        self.app.faults.remove(rule)
    }

    /// Removes every fault rule ([`AdminAction::ClearFaults`]); magic
    /// values still apply.
    pub fn clear_faults(&self) {
        self.app.faults.clear();
    }

    /// Rotates ET's key and the merchant's salt while serving (the files as
    /// [`SandboxDir::rotate`] does): from now on replies are signed with
    /// the new key and notifications with the new salt, while requests
    /// sealed to the old key and refund replies signed with the old salt
    /// are accepted for `window` of sandbox time (advancing the clock past
    /// it ends it). Notifications queued before keep the old
    /// salt's signature, as ET's already sent would.
    ///
    /// # Errors
    /// As [`SandboxDir::rotate`]; [`Error::Database`] updating the salt.
    pub fn rotate(&self, window: Duration) -> Result<Rotated, Error> {
        let now = self.app.clock.system_time();
        let rotated = self.dir.rotate_files(window, now)?;
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
        self.app.keys.replace(key, self.dir.previous(now)?);
        tracing::info!(?rotated.not_after, "ET's key and the salt rotated; the old ones accepted until then");
        Ok(rotated)
    }

    /// Carries out an admin action as its route does (the one vocabulary
    /// of the server, the dashboard and `et sandbox admin`): the order it
    /// acted on or shows, the fault rules, or the sandbox time.
    pub fn act(&self, action: AdminAction) -> Result<AdminAnswer, AdminError> {
        action.run(&self.app)
    }

    /// ET's step on the order ([`AdminAction::OrderStep`]).
    fn admin(&self, order_id: &str, event: Event) -> Result<OrderView, Refusal> {
        admin::step(&self.app, order_id, event)
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

// The README's example runs as a doctest, so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn act_carries_out_each_admin_action_in_process_as_its_route_does() {
        let tmp = tempfile::tempdir().expect("a directory");
        SandboxDir::init_small(tmp.path());
        let sandbox = start(SandboxConfig::new(tmp.path())).await.expect("starts");
        let refused = |action| match sandbox.act(action) {
            Err(AdminError::Refused(r)) => Some(r.code),
            _ => None,
        };
        let order_id = "ET-NONE".to_owned();
        let show = AdminAction::ShowOrder {
            order_id: order_id.clone(),
        };
        assert_eq!(refused(show), Some(SandboxCode::OrderNotFound));
        let remit = AdminAction::OrderStep {
            order_id,
            event: Event::Remit,
        };
        assert_eq!(refused(remit), Some(SandboxCode::OrderNotFound));
        let rule: FaultRule =
            serde_json::from_str(r#"{"scope":{"next":1},"fault":{"kind":"latency","ms":5}}"#)
                .expect("a rule");
        let added = sandbox.act(AdminAction::AddFault(rule.clone()));
        assert!(matches!(added, Ok(AdminAnswer::Faults(rules)) if rules == [rule.clone()]));
        assert_eq!(
            sandbox.faults(),
            std::slice::from_ref(&rule),
            "the method sees the same rules"
        );
        assert!(sandbox.act(AdminAction::ClearFaults).is_ok());
        let gone = sandbox.act(AdminAction::RemoveFault(rule));
        assert!(matches!(gone, Err(AdminError::NoSuchRule)), "{gone:?}");
        let hour = 3_600_000;
        let real = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let real = i64::try_from(real.expect("after 1970").as_millis()).expect("ms");
        let moved = sandbox.act(AdminAction::AdvanceClock { seconds: 3_600 });
        // A second's slack: sandbox time follows real time on a monotonic clock.
        let ahead = |now: i64| now >= real + hour - 1_000;
        assert!(
            matches!(moved, Ok(AdminAnswer::Now(now)) if ahead(now)),
            "{moved:?}"
        );
        sandbox.shutdown().await;
    }
}
