//! How to run the demo.

use std::time::Duration;

/// How to run the demo.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// RSA key size of ET's and the merchant's keys.
    pub bits: usize,
    /// Sandbox clock speed-up.
    pub time_scale: f64,
    /// How long to wait for each notification.
    pub notify_timeout: Duration,
    /// The salt the webhook receiver verifies with; `None` (the default) is
    /// the sandbox merchant's. Another value shows what a misconfigured
    /// merchant sees: notifications refused, the run failing.
    pub receiver_salt: Option<String>,
    /// Run the third-party jump flow instead: the merchant hands the
    /// student to ET, the student places and pays the order there.
    pub jump: bool,
    /// Store every notification in an et-inbox SQLite inbox before
    /// acknowledging it, then reconcile and consume (`et demo --inbox`).
    pub inbox: bool,
    /// Serve the sandbox over HTTPS and trust its certificate as an extra
    /// root (`et demo --tls`).
    pub tls: bool,
    /// The merchant's key instead of a fresh one: a key file or a
    /// `pkcs11:` URI (`et demo --merchant-key`). The sandbox is given its
    /// public half; `bits` is then ET's key size only.
    pub merchant_key: Option<std::path::PathBuf>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            bits: 2048,
            time_scale: 3600.0,
            notify_timeout: Duration::from_secs(10),
            receiver_salt: None,
            jump: false,
            inbox: false,
            tls: false,
            merchant_key: None,
        }
    }
}
