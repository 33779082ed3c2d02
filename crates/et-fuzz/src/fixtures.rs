//! What the fuzz targets share: the test kit's parties with 1024-bit keys
//! (ET's own examples are 1024-bit, and small keys keep each execution
//! cheap) and a notification verifier, built once per process.

use std::sync::OnceLock;

use et_model::ServerType;
use et_proto::{BuiltRequest, NotificationVerifier, NotifySignRule, Profile};
use et_testkit::{key, Parties, Who};

/// The notification salt the fixtures (and the committed seeds) use.
pub const NOTIFY_SALT: &str = "fuzz-salt";

/// Both parties and a notification verifier.
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
            let keys = (key(Who::Merchant, 1024).clone(), key(Who::Et, 1024).clone());
            Fixtures {
                parties: Parties::from_keys(
                    keys,
                    NOTIFY_SALT,
                    Profile::default(),
                    Profile::default(),
                ),
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
