//! The sandbox's shared state: the database, the clock, the rate table and
//! institutions, ET's keys and the known merchants' keys. What changes
//! orders is the [engine](crate::engine); what runs in the background is
//! the [ticker](crate::ticker).

use et_crypto::PublicKey;
use et_model::{PayConfig, PayType};
use std::sync::Arc;

use crate::access::Access;
use crate::clock::{Clock, ClockError, Millis};
use crate::config::RateTable;
use crate::faults::FaultPlan;
use crate::institutions::InstitutionDirectory;
use crate::rotation::{EtKeys, Keys};
use crate::store::{self, Store};

/// `pay_type` of the one way to pay the sandbox offers (its checkout page).
const CHECKOUT_PAY_TYPE: PayType = PayType(1);

/// `meta` key of the last sandbox time seen.
pub(crate) const CLOCK_KEY: &str = "clock_ms";

/// Everything the handlers and the background loop share.
pub(crate) struct App {
    /// The database.
    pub store: Store,
    /// Sandbox time.
    pub clock: Clock,
    /// Rates and fees.
    pub rates: RateTable,
    /// The institutions `get_institutions` searches and orders name.
    pub institutions: InstitutionDirectory,
    /// `http://ADDR`, for checkout and voucher links.
    pub base_url: String,
    /// Woken when a notification is queued.
    pub wake: tokio::sync::Notify,
    /// ET's side of the protocol (keys and profile), swapped by a rotation.
    pub keys: EtKeys,
    /// The known merchants' public keys, parsed once at start (the
    /// merchants table changes only then).
    pub merchant_keys: Vec<MerchantKey>,
    /// The failures to play on demand (API and notifications).
    pub faults: FaultPlan,
    /// Who may use the dashboard and the admin routes.
    pub access: Access,
    /// The token the checkout's form carries (one per start: a cross-site
    /// page cannot read it, and a page from before a restart is refused).
    pub form_token: String,
}

/// A known merchant and its parsed public key.
pub(crate) struct MerchantKey {
    /// ET merchant number.
    pub merchant_number: String,
    /// ET sub-merchant number.
    pub sub_merchant_number: String,
    /// The key its requests are verified with and its responses encrypted to.
    pub key: PublicKey,
}

impl MerchantKey {
    /// Parses a stored merchant's key; a row whose key does not parse is
    /// left out, so its requests are refused as from an unknown merchant.
    pub(crate) fn parse(m: store::MerchantRecord) -> Option<Self> {
        let key = PublicKey::load(m.public_key_pem.as_bytes()).ok()?;
        Some(MerchantKey {
            merchant_number: m.merchant_number,
            sub_merchant_number: m.sub_merchant_number,
            key,
        })
    }
}

impl App {
    /// ET's keys in use now (one request or delivery uses one generation).
    pub(crate) fn keys(&self) -> Arc<Keys> {
        self.keys.current()
    }

    /// The public key of a known merchant, `None` for an unknown one.
    pub(crate) fn merchant_key(
        &self,
        merchant_number: &str,
        sub_merchant_number: &str,
    ) -> Option<&PublicKey> {
        self.merchant_keys
            .iter()
            .find(|m| {
                m.merchant_number == merchant_number && m.sub_merchant_number == sub_merchant_number
            })
            .map(|m| &m.key)
    }

    /// Where the order's remittance voucher is served.
    pub(crate) fn voucher_url(&self, order_id: &str) -> String {
        format!("{}/vouchers/{order_id}.pdf", self.base_url)
    }

    /// Where the order's checkout page is served.
    pub(crate) fn pay_url(&self, order_id: &str) -> String {
        format!("{}/pay/{order_id}", self.base_url)
    }

    /// The payment options of an order's answers: its checkout page.
    pub(crate) fn pay_configs(&self, order_id: &str) -> Vec<PayConfig> {
        vec![PayConfig {
            pay_url: self.pay_url(order_id),
            pay_type: CHECKOUT_PAY_TYPE,
            appid: None,
            original_id: None,
            extra: Default::default(),
        }]
    }

    /// Where the student of a jump places the order.
    pub(crate) fn jump_url(&self, token: &str) -> String {
        format!("{}/jump/{token}", self.base_url)
    }

    /// Saves the sandbox time, so a restart never moves it backwards. Read
    /// in the transaction, so a save and a [reset](Self::reset_clock) are
    /// written in the order they happened.
    pub(crate) fn save_clock(&self) -> rusqlite::Result<()> {
        self.store
            .tx(|c| store::set_meta(c, CLOCK_KEY, &self.clock.now().to_string()))
    }

    /// Moves sandbox time forward (an admin action) and wakes the ticker;
    /// the new time.
    pub(crate) fn advance_clock(&self, by: std::time::Duration) -> Result<Millis, ClockError> {
        self.clock.advance(by)?;
        self.wake.notify_one();
        Ok(self.clock.now())
    }

    /// Brings sandbox time back to real time and every pending
    /// notification back by as much (none before now), saves the clock
    /// and wakes the ticker; the new time.
    pub(crate) fn reset_clock(&self) -> rusqlite::Result<Millis> {
        let now = self.store.tx(|c| {
            let back = self.clock.reset();
            let now = self.clock.now();
            store::move_schedule_back(c, back, now)?;
            store::set_meta(c, CLOCK_KEY, &now.to_string())?;
            Ok::<_, rusqlite::Error>(now)
        })?;
        self.wake.notify_one();
        Ok(now)
    }
}
