//! The committed test keys and the parties built from them: loaded once per
//! process for the fuzz targets, and per key size and backend for the benches.

use std::sync::OnceLock;

use et_crypto::PrivateKey;
use et_model::ServerType;
use et_proto::{
    BuiltRequest, Credentials, EtSide, Merchant, NotificationVerifier, NotifySignRule, Profile,
};

/// The notification salt the fixtures (and the committed seeds) use.
pub const NOTIFY_SALT: &str = "fuzz-salt";

/// Loads et-proto's committed fixture key `<who>-<bits>.pem` (`who` is
/// `merchant` or `et`; 1024 or 2048 bits), on the default backend.
pub fn fixture_key(who: &str, bits: usize) -> Result<PrivateKey, Box<dyn std::error::Error>> {
    let pem: &[u8] = match (who, bits) {
        ("merchant", 1024) => include_bytes!("../../et-proto/tests/fixtures/merchant-1024.pem"),
        ("merchant", 2048) => include_bytes!("../../et-proto/tests/fixtures/merchant-2048.pem"),
        ("et", 1024) => include_bytes!("../../et-proto/tests/fixtures/et-1024.pem"),
        ("et", 2048) => include_bytes!("../../et-proto/tests/fixtures/et-2048.pem"),
        _ => return Err(format!("no {bits}-bit fixture key for {who}").into()),
    };
    Ok(PrivateKey::load(pem)?)
}

/// A merchant and ET that trust each other's keys.
#[derive(Debug)]
pub struct Parties {
    /// The merchant's key: signs requests, decrypts response `aeskey`s.
    pub merchant_key: PrivateKey,
    /// ET's key: signs responses, decrypts request `aeskey`s.
    pub et_key: PrivateKey,
    /// The merchant `ET82009` / `ET82009S001`, default profile.
    pub merchant: Merchant,
    /// ET's side, default profile.
    pub et: EtSide,
}

impl Parties {
    /// Both parties over these keys; `salt` is the merchant's notification salt.
    pub fn new(merchant_key: PrivateKey, et_key: PrivateKey, salt: &str) -> Self {
        let credentials = Credentials::new(
            "ET82009",
            "ET82009S001",
            merchant_key.clone(),
            et_key.public_key().clone(),
            salt,
        );
        Parties {
            merchant: Merchant::new(credentials, Profile::default()),
            et: EtSide::new(et_key.clone(), Profile::default()),
            merchant_key,
            et_key,
        }
    }
}

/// What the fuzz targets share: both parties with the committed 1024-bit
/// fixture keys (ET's own examples are 1024-bit, and small keys keep each
/// execution cheap) and a notification verifier.
#[derive(Debug)]
pub struct Fixtures {
    /// Merchant and ET, salt [`NOTIFY_SALT`].
    pub parties: Parties,
    /// A notification verifier accepting the v2 rule and the v1 printed form.
    pub verifier: NotificationVerifier,
}

impl Fixtures {
    /// The process-wide fixtures. Panics only if the committed key files are broken.
    pub fn get() -> &'static Fixtures {
        static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
        FIXTURES.get_or_init(|| {
            let load = |who| fixture_key(who, 1024).expect("committed fixture key loads");
            Fixtures {
                parties: Parties::new(load("merchant"), load("et"), NOTIFY_SALT),
                verifier: NotificationVerifier::new(NOTIFY_SALT, NotifySignRule::V1Compat),
            }
        })
    }

    /// The request a response is opened against: empty `return_info`, which
    /// is what the seeds echo.
    pub fn request(server_type: ServerType) -> BuiltRequest {
        BuiltRequest {
            body: Vec::new(),
            serial_number: "20241201100000123456ET82009".to_owned(),
            server_type,
            return_info: String::new(),
        }
    }
}
