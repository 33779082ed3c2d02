//! The et-rs test kit: what the workspace's tests, benches and fuzz
//! targets share, so that each fact lives once (like rustls's
//! `rustls-test`). Never published, and no published crate takes it, not
//! even as a dev-dependency: the tests that need it are in `crates/et-tests`.
//!
//! - [`key`] / [`pem`]: the one committed key set (`keys/`, regenerate with
//!   `keys/make_keys.sh`): merchant and ET at 1024 bits (ET's own examples
//!   use 1024-bit keys) and 2048 bits, and a third 1024-bit key that
//!   neither party trusts ([`Who::Stranger`]).
//! - [`Parties`]: a merchant and ET that trust each other's keys.
//! - [`order`], [`refund`]: a create-order request with only its required
//!   fields, a whole refund.
//! - [`resign`]: an envelope changed by a test, signed again.
//! - [`key_file`], and with feature `io` `merchant_dir`: the same keys as
//!   files, with `merchant.json`, as the sandbox's state directory and the
//!   `et` command's merchant directory hold them.
//! - With feature `io`, `http`: a loopback test server, a webhook receiver
//!   and plain HTTP clients.
//! - `skip`: a test that needs a service it does not find skips loudly and
//!   is counted (`cargo xtask test`), or fails under `ET_REQUIRE_SERVICES=1`.
//! - With feature `softhsm`, `softhsm`: a real PKCS#11 token (SoftHSM2) in a
//!   temporary directory.
//!
//! Setup that cannot fail on committed data panics with what broke.

#[cfg(feature = "io")]
pub mod http;
pub mod skip;
#[cfg(feature = "softhsm")]
pub mod softhsm;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

use et_crypto::{PrivateKey, PublicKey};
use et_model::{Amount, ApplyRefund, CountryCode, CreateOrder, CurrencyCode, Operation};
use et_proto::{
    BuiltRequest, Credentials, EtSide, Merchant, OpenedRequest, Profile, Reply, Response,
    UntypedObject, UntypedValue,
};

/// The test merchant's number.
pub const MERCHANT_NUMBER: &str = "ET82009";
/// The test merchant's sub-merchant number.
pub const SUB_MERCHANT_NUMBER: &str = "ET82009S001";
/// The notification salt of [`Parties`] and `merchant_dir`: ET's own
/// example salt.
pub const SALT: &str = "abc123";
/// Both key sizes of the key set.
pub const KEY_SIZES: [usize; 2] = [1024, 2048];

/// ET's own v2 payment-success notification example (spec 04 §3.1):
/// salt [`SALT`], the amount a JSON number, `sign` as printed.
pub const ET_V2_PAYMENT_NOTIFICATION: &str =
    include_str!("../fixtures/et-v2-payment-notification.json");

/// Whose key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The merchant's: signs requests, decrypts response `aeskey`s.
    Merchant,
    /// ET's: signs responses, decrypts request `aeskey`s.
    Et,
    /// A key neither party trusts (1024 bits only).
    Stranger,
}

/// The key set, written once: each party's file name and key sizes give
/// [`Who::file_name`] and `KEY_SET` (who, bits, the committed PEM of
/// `keys/{name}-{bits}.pem`).
macro_rules! key_set {
    ($($who:ident = $name:literal: $($bits:literal),+;)+) => {
        impl Who {
            /// The name of this party's key files (`keys/{name}-{bits}.pem`).
            pub fn file_name(self) -> &'static str {
                match self {
                    $(Who::$who => $name,)+
                }
            }
        }

        const KEY_SET: &[(Who, usize, &[u8])] = &[
            $($((Who::$who, $bits, include_bytes!(concat!("../keys/", $name, "-", $bits, ".pem"))),)+)+
        ];
    };
}

key_set! {
    Merchant = "merchant": 1024, 2048;
    Et = "et": 1024, 2048;
    Stranger = "stranger": 1024;
}

/// Where `who`'s `bits`-bit key is in `KEY_SET`. Panics for a key the set
/// does not hold.
fn key_index(who: Who, bits: usize) -> usize {
    KEY_SET
        .iter()
        .position(|&(w, b, _)| (w, b) == (who, bits))
        .unwrap_or_else(|| panic!("the test kit holds no {bits}-bit key for {who:?}"))
}

/// The committed PKCS#8 PEM of `who`'s `bits`-bit key. Panics for a key
/// the set does not hold.
pub fn pem(who: Who, bits: usize) -> &'static [u8] {
    KEY_SET[key_index(who, bits)].2
}

/// Which half of a key pair a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// The private key, PKCS#8 PEM.
    Private,
    /// The public key, SPKI PEM.
    Public,
}

/// The committed file of `who`'s 1024-bit key, for tests that pass key
/// files to a program.
pub fn key_file(who: Who, half: Half) -> PathBuf {
    let suffix = match half {
        Half::Private => "pem",
        Half::Public => "pub.pem",
    };
    let name = who.file_name();
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("keys/{name}-1024.{suffix}"))
}

/// `who`'s `bits`-bit key, loaded once per process (default backend).
pub fn key(who: Who, bits: usize) -> &'static PrivateKey {
    static KEYS: OnceLock<Vec<PrivateKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        KEY_SET
            .iter()
            .map(|(_, _, pem)| PrivateKey::load(pem).expect("committed test key loads"))
            .collect()
    });
    &keys[key_index(who, bits)]
}

/// A create-order request with only its required fields: `merchant_order_id`,
/// user key `student-1`, Great Britain, GBP and `amount` (decimal text;
/// panics on anything else).
pub fn order(merchant_order_id: impl Into<String>, amount: &str) -> CreateOrder {
    let amount = Amount::new(amount).unwrap_or_else(|e| panic!("test order amount: {e}"));
    CreateOrder::new(
        merchant_order_id,
        "student-1",
        CountryCode::Gbr,
        CurrencyCode::new("GBP"),
        amount,
    )
}

/// A refund of all of `order_id` as the merchant's refund
/// `refund_order_id`, no reason given.
pub fn refund(order_id: impl Into<String>, refund_order_id: impl Into<String>) -> ApplyRefund {
    ApplyRefund {
        order_id: order_id.into(),
        refund_order_id: refund_order_id.into(),
        refund_amount: None,
        refund_reason: None,
        extra: Default::default(),
    }
}

/// The test merchant's credentials with the `bits`-bit keys and salt
/// [`SALT`], for a client of a sandbox started on `merchant_dir`.
pub fn credentials(bits: usize) -> Credentials {
    let et_public = key(Who::Et, bits).public_key().clone();
    credentials_of(key(Who::Merchant, bits).clone(), et_public, SALT)
}

fn credentials_of(merchant_key: PrivateKey, et_public: PublicKey, salt: &str) -> Credentials {
    Credentials::new(
        MERCHANT_NUMBER,
        SUB_MERCHANT_NUMBER,
        merchant_key,
        et_public,
        salt,
    )
}

/// A merchant ([`MERCHANT_NUMBER`] / [`SUB_MERCHANT_NUMBER`]) and ET that
/// trust each other's keys.
#[derive(Debug)]
pub struct Parties {
    /// The merchant's key.
    pub merchant_key: PrivateKey,
    /// ET's key.
    pub et_key: PrivateKey,
    /// The merchant side.
    pub merchant: Merchant,
    /// ET's side.
    pub et: EtSide,
}

impl Parties {
    /// Both parties with the `bits`-bit keys, salt [`SALT`], default profiles.
    pub fn new(bits: usize) -> Self {
        Self::with_profiles(bits, Profile::default(), Profile::default())
    }

    /// [`new`](Self::new), both parties speaking `profile`.
    pub fn same(bits: usize, profile: Profile) -> Self {
        Self::with_profiles(bits, profile.clone(), profile)
    }

    /// Both parties with the `bits`-bit keys and salt [`SALT`], each
    /// speaking its own profile.
    pub fn with_profiles(bits: usize, merchant_profile: Profile, et_profile: Profile) -> Self {
        let keys = (key(Who::Merchant, bits).clone(), key(Who::Et, bits).clone());
        Self::from_keys(keys, SALT, merchant_profile, et_profile)
    }

    /// Both parties over `(merchant_key, et_key)` (e.g. pinned to one
    /// backend); `salt` is the merchant's notification salt.
    pub fn from_keys(
        (merchant_key, et_key): (PrivateKey, PrivateKey),
        salt: &str,
        merchant_profile: Profile,
        et_profile: Profile,
    ) -> Self {
        let credentials = credentials_of(merchant_key.clone(), et_key.public_key().clone(), salt);
        Parties {
            merchant: Merchant::new(credentials, merchant_profile),
            et: EtSide::new(et_key.clone(), et_profile),
            merchant_key,
            et_key,
        }
    }

    /// The merchant's public key, as ET holds it.
    pub fn merchant_public(&self) -> &PublicKey {
        self.merchant_key.public_key()
    }

    /// ET's lookup of a merchant's public key: knows only the test merchant.
    pub fn lookup(&self) -> impl FnOnce(&str, &str) -> Option<PublicKey> + '_ {
        |m, s| {
            (m == MERCHANT_NUMBER && s == SUB_MERCHANT_NUMBER)
                .then(|| self.merchant_public().clone())
        }
    }

    /// The merchant builds `op`, numbered with the system clock (a step
    /// that must succeed).
    pub fn build<Op: Operation>(&self, op: &Op) -> BuiltRequest {
        self.merchant
            .build(op, SystemTime::now())
            .expect("the merchant builds the request")
    }

    /// ET opens a request the merchant built (a step that must succeed).
    pub fn et_open(&self, request: &BuiltRequest) -> OpenedRequest {
        self.et
            .open_request(&request.body, self.lookup(), SystemTime::now())
            .expect("ET opens the request")
    }

    /// The merchant opens `body`, ET's answer to `request`, on the system
    /// clock (a step under test: its result as it is).
    pub fn open<Op: Operation>(
        &self,
        request: &BuiltRequest,
        body: &[u8],
    ) -> Result<Reply<Op::Output>, et_proto::Error> {
        self.merchant.open::<Op>(request, body, SystemTime::now())
    }

    /// ET seals `response` for the merchant (a step that must succeed).
    pub fn et_respond(&self, response: &Response) -> Vec<u8> {
        self.et
            .respond(self.merchant_public(), response)
            .expect("ET responds")
    }
}

#[cfg(feature = "io")]
/// A fresh directory holding the 1024-bit key set as the sandbox's state
/// directory and the `et` command's merchant directory name them
/// (`merchant-private.pem`, `merchant-public.pem`, `et-private.pem`,
/// `et-public.pem`) and `merchant.json` with salt [`SALT`].
pub fn merchant_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_keys(dir.path());
    let merchant = serde_json::json!({
        "merchant_number": MERCHANT_NUMBER,
        "sub_merchant_number": SUB_MERCHANT_NUMBER,
        "salt": SALT,
    });
    let path = dir.path().join("merchant.json");
    std::fs::write(&path, merchant.to_string())
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    dir
}

/// Copies the 1024-bit merchant and ET key files into `dir` (see `merchant_dir`).
pub fn write_keys(dir: &Path) {
    for who in [Who::Merchant, Who::Et] {
        for (half, suffix) in [(Half::Private, "private"), (Half::Public, "public")] {
            let to = dir.join(format!("{}-{suffix}.pem", who.file_name()));
            std::fs::copy(key_file(who, half), &to)
                .unwrap_or_else(|e| panic!("writing {}: {e}", to.display()));
        }
    }
}

/// Signs `object` with `key` (SHA256withRSA over its sign string, the
/// default rule) and sets its `sign`, replacing any: an envelope a test or
/// fuzz target changed, made valid again so that only the change is judged.
pub fn resign(object: &mut UntypedObject, key: &PrivateKey) -> Result<(), et_crypto::Error> {
    let text = et_proto::sign_string(object);
    let signature = key.sign(et_crypto::SignHash::Sha256, text.as_bytes())?;
    object.insert(
        "sign",
        UntypedValue::string(et_crypto::b64_encode(signature)),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_set_loads_and_its_public_file_is_its_half() {
        for &(who, bits, _) in KEY_SET {
            let public = key(who, bits).public_key().to_spki_pem().unwrap();
            assert_eq!(
                PrivateKey::load(pem(who, bits))
                    .unwrap()
                    .public_key()
                    .to_spki_pem()
                    .unwrap(),
                public
            );
            if bits == 1024 {
                let file = std::fs::read(key_file(who, Half::Public)).unwrap();
                let from_file = PublicKey::load(&file).unwrap().to_spki_pem().unwrap();
                assert_eq!(from_file, public, "{who:?}");
            }
        }
    }
}
