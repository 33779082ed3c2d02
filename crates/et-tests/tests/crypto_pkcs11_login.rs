//! A wrong PIN, on a real token (SoftHSM2). Its own test binary: PKCS#11
//! logs in per process and token, so once any key of a process has logged
//! in, a later session never checks a PIN again.
#![cfg(feature = "pkcs11")]

use et_crypto::{Error, Pkcs11Key, Pkcs11Uri, TokenCause, TokenStep};
use et_testkit::softhsm::{SoftHsm, PIN};
use zeroize::Zeroizing;

#[test]
fn a_wrong_pin_is_refused_as_a_login_error() {
    let Some(hsm) = SoftHsm::get("a_wrong_pin_is_refused_as_a_login_error") else {
        return;
    };
    let uri = Pkcs11Uri::parse(&hsm.uri("any"))
        .expect("parses")
        .with_pin(Zeroizing::new(format!("{PIN}-wrong")));
    let error = Pkcs11Key::open(&uri).expect_err("wrong PIN");
    assert_eq!(
        error,
        Error::Token {
            step: TokenStep::Login,
            cause: TokenCause::PinIncorrect
        }
    );
    assert!(!error.to_string().contains(PIN));
}
