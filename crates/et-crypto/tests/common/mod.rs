//! Shared fixtures for the integration tests: the openssl-made vectors in
//! `tests/vectors/` (regenerate with `tests/vectors/make_vectors.sh`).

#![allow(dead_code)] // each test binary uses a different subset

use et_crypto::{b64_decode, Backend, PrivateKey, PublicKey};

/// Fixture key sizes: the openssl-generated keys in `tests/vectors/`.
pub(crate) const SIZES: &[usize] = &[1024, 2048, 3072, 4096];

pub(crate) fn read(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Lines of a vector file, split on spaces.
pub(crate) fn lines(name: &str) -> Vec<Vec<String>> {
    String::from_utf8(read(name))
        .expect("vector files are UTF-8")
        .lines()
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

/// A Base64 field, where `-` stands for empty.
pub(crate) fn field(b64: &str) -> Vec<u8> {
    if b64 == "-" {
        Vec::new()
    } else {
        b64_decode(b64).expect("vector field is Base64")
    }
}

pub(crate) fn private(bits: usize, backend: Backend) -> PrivateKey {
    PrivateKey::load(&read(&format!("rsa{bits}.pkcs8.pem")))
        .expect("fixture private key loads")
        .with_backend(backend)
}

pub(crate) fn public(bits: usize, backend: Backend) -> PublicKey {
    PublicKey::load(&read(&format!("rsa{bits}.spki.pem")))
        .expect("fixture public key loads")
        .with_backend(backend)
}

/// Every (producer, consumer) backend pair: same-backend and cross-backend.
pub(crate) fn backend_pairs() -> Vec<(Backend, Backend)> {
    Backend::ALL
        .iter()
        .flat_map(|&a| Backend::ALL.iter().map(move |&b| (a, b)))
        .collect()
}
