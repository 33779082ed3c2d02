//! et-crypto's tests that need the test kit: merchant keys on a real PKCS#11
//! token (SoftHSM2, feature `pkcs11`). A wrong PIN has its own binary
//! (`crypto_pkcs11_login.rs`): PKCS#11 logs in once per process and token.

mod pkcs11;
