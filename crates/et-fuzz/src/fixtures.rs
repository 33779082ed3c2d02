//! The committed test keys and the parties built from them, loaded once per process.

use std::sync::OnceLock;

use et_crypto::PrivateKey;
use et_model::ServerType;
use et_proto::{
    BuiltRequest, Credentials, EtSide, Merchant, NotificationVerifier, NotifySignRule, Profile,
};

/// The notification salt the fixtures (and the committed seeds) use.
pub const NOTIFY_SALT: &str = "fuzz-salt";

const MERCHANT_PEM: &[u8] = include_bytes!("../../et-proto/tests/fixtures/merchant-1024.pem");
const ET_PEM: &[u8] = include_bytes!("../../et-proto/tests/fixtures/et-1024.pem");

/// Both parties with et-proto's committed 1024-bit fixture keys (ET's own
/// examples are 1024-bit, and small keys keep each execution cheap).
#[derive(Debug)]
pub struct Fixtures {
    /// The merchant's key: signs requests, decrypts response `aeskey`s.
    pub merchant_key: PrivateKey,
    /// ET's key: signs responses, decrypts request `aeskey`s.
    pub et_key: PrivateKey,
    /// The merchant, default profile.
    pub merchant: Merchant,
    /// ET's side, default profile.
    pub et: EtSide,
    /// A notification verifier accepting the v2 rule and the v1 printed form.
    pub verifier: NotificationVerifier,
}

impl Fixtures {
    /// The process-wide fixtures. Panics only if the committed key files are broken.
    pub fn get() -> &'static Fixtures {
        static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
        FIXTURES.get_or_init(|| {
            let load = |pem| PrivateKey::load(pem).expect("committed fixture key loads");
            let merchant_key = load(MERCHANT_PEM);
            let et_key = load(ET_PEM);
            let credentials = Credentials::new(
                "ET82009",
                "ET82009S001",
                merchant_key.clone(),
                et_key.public_key().clone(),
                NOTIFY_SALT,
            );
            Fixtures {
                merchant: Merchant::new(credentials, Profile::default()),
                et: EtSide::new(et_key.clone(), Profile::default()),
                verifier: NotificationVerifier::new(NOTIFY_SALT, NotifySignRule::V1Compat),
                merchant_key,
                et_key,
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
