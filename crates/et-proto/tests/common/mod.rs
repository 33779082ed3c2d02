//! Shared fixtures: committed RSA keys (generated once with `openssl genpkey`)
//! and the two parties built from them.
#![allow(dead_code)]

use std::sync::OnceLock;

use et_crypto::{PrivateKey, PublicKey};
use et_proto::{BuiltRequest, Credentials, EtSide, Merchant, OpenedRequest, Profile, Response};

pub const SALT: &str = "abc123";

/// Both key sizes ET's examples and modern deployments use.
pub const KEY_SIZES: [usize; 2] = [1024, 2048];

fn pem(who: &str, bits: usize) -> &'static [u8] {
    match (who, bits) {
        ("merchant", 1024) => include_bytes!("../fixtures/merchant-1024.pem"),
        ("merchant", _) => include_bytes!("../fixtures/merchant-2048.pem"),
        (_, 1024) => include_bytes!("../fixtures/et-1024.pem"),
        _ => include_bytes!("../fixtures/et-2048.pem"),
    }
}

/// Loads (once) a fixture key.
pub fn key(who: &str, bits: usize) -> &'static PrivateKey {
    static KEYS: OnceLock<[PrivateKey; 4]> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let load = |w, b| PrivateKey::load(pem(w, b)).expect("fixture key loads");
        [
            load("merchant", 1024),
            load("merchant", 2048),
            load("et", 1024),
            load("et", 2048),
        ]
    });
    let index = usize::from(who != "merchant") * 2 + usize::from(bits != 1024);
    &keys[index]
}

/// A merchant and ET that know each other's public keys.
pub struct Parties {
    pub merchant: Merchant,
    pub et: EtSide,
    pub merchant_public: PublicKey,
}

impl Parties {
    pub fn new(bits: usize, merchant_profile: Profile, et_profile: Profile) -> Self {
        let et = EtSide::new(key("et", bits).clone(), et_profile);
        let merchant_key = key("merchant", bits).clone();
        let merchant_public = merchant_key.public_key().clone();
        let merchant = Merchant::new(
            Credentials::new(
                "ET82009",
                "ET82009S001",
                merchant_key,
                et.public_key().clone(),
                SALT,
            ),
            merchant_profile,
        );
        Parties {
            merchant,
            et,
            merchant_public,
        }
    }

    pub fn same(bits: usize, profile: Profile) -> Self {
        Self::new(bits, profile.clone(), profile)
    }

    pub fn lookup(&self) -> impl FnOnce(&str, &str) -> Option<PublicKey> + '_ {
        |m, s| (m == "ET82009" && s == "ET82009S001").then(|| self.merchant_public.clone())
    }

    /// ET opens a request the merchant built (a step that must succeed).
    pub fn et_open(&self, request: &BuiltRequest) -> OpenedRequest {
        self.et
            .open_request(&request.body, self.lookup())
            .expect("ET opens the request")
    }

    /// ET seals `response` for the merchant (a step that must succeed).
    pub fn et_respond(&self, response: &Response) -> Vec<u8> {
        self.et
            .respond(&self.merchant_public, response)
            .expect("ET responds")
    }

    /// ET's answer to a `QueryOrders` request: order `ET1` is paid.
    pub fn et1_paid_reply(&self, request: &BuiltRequest) -> Vec<u8> {
        let response = Response::success(&self.et_open(request))
            .with_sensitive(&[serde_json::json!({"order_id": "ET1", "order_status": 1})])
            .expect("response");
        self.et_respond(&response)
    }
}
