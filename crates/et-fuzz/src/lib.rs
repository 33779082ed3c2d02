//! The body of every et-rs fuzz target, as one plain function each.
//!
//! This crate's one job is to hold the fuzz oracles once, so that two
//! drivers share them: the cargo-fuzz targets in `fuzz/fuzz_targets/` (one
//! line each, nightly, libFuzzer) and the stable test
//! `tests/corpus_replay.rs`, which feeds every committed seed in
//! `fuzz/corpus/<target>/` through the same function on every `cargo test`.
//!
//! Each function takes arbitrary bytes and panics only when a layer breaks
//! its contract: a panic inside a layer, or a violated property (a round
//! trip that changes a value, a sign string that depends on key order, a
//! body we signed ourselves that fails verification). Inputs that a layer
//! rejects with an error are the normal case.
//!
//! ```
//! // Arbitrary bytes are fine; only broken contracts panic.
//! for target in et_fuzz::TARGETS {
//!     (target.run)(b"{\"sign\":\"\"}");
//! }
//! ```

mod crypto;
mod fixtures;
mod model;
mod proto;

pub use crypto::{aes_decrypt, backends_agree, key_load};
pub use fixtures::{Fixtures, NOTIFY_SALT};
pub use model::model_payloads;
pub use proto::{
    notification, open_request, open_request_unsealed, open_response, open_response_unsealed,
    sign_string, CONTENT_TYPES,
};

/// A fuzz target: its name (also its `fuzz/fuzz_targets/<name>.rs` and
/// `fuzz/corpus/<name>/`) and its body.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Name of the cargo-fuzz target and of its corpus directory.
    pub name: &'static str,
    /// The body, fed one input.
    pub run: fn(&[u8]),
}

/// Every target, in the order `cargo xtask fuzz` lists them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "aes_decrypt",
        run: aes_decrypt,
    },
    Target {
        name: "backends_agree",
        run: backends_agree,
    },
    Target {
        name: "key_load",
        run: key_load,
    },
    Target {
        name: "model_payloads",
        run: model_payloads,
    },
    Target {
        name: "notification",
        run: notification,
    },
    Target {
        name: "open_request",
        run: open_request,
    },
    Target {
        name: "open_request_unsealed",
        run: open_request_unsealed,
    },
    Target {
        name: "open_response",
        run: open_response,
    },
    Target {
        name: "open_response_unsealed",
        run: open_response_unsealed,
    },
    Target {
        name: "sign_string",
        run: sign_string,
    },
];
