//! et-crypto alone: AES-128-CBC of 1 KiB, and RSA sign, verify, key encrypt
//! and key decrypt per backend and key size.

use std::hint::black_box;

use benches::ThreadCpu;
use benches::{Parties, BACKENDS, KEY_BITS};
use criterion::{BenchmarkId, Criterion};
use et_crypto::{aes_cbc_decrypt, aes_cbc_encrypt, AesKey, Iv, KeyPadding, SignHash};

fn aes(c: &mut Criterion<ThreadCpu>) {
    let key = AesKey::new(*b"0123456789abcdef");
    let plaintext = vec![b'x'; 1024];
    let ciphertext = aes_cbc_encrypt(&key, Iv::SameAsKey, &plaintext);
    let id = BenchmarkId::new("rustcrypto", "1KiB");
    c.benchmark_group("aes_cbc_encrypt")
        .bench_function(id.clone(), |b| {
            b.iter(|| aes_cbc_encrypt(&key, Iv::SameAsKey, black_box(&plaintext)))
        });
    c.benchmark_group("aes_cbc_decrypt")
        .bench_function(id, |b| {
            b.iter(|| aes_cbc_decrypt(&key, Iv::SameAsKey, black_box(&ciphertext)))
        });
}

/// One fixture per (backend, bits), with a signature and a wrapped key to check.
struct RsaCase {
    backend: &'static str,
    bits: usize,
    fixture: Parties,
    signature: Vec<u8>,
    wrapped: Vec<u8>,
}

/// As long as what `openssl speed rsa` signs (a 36-byte MD5+SHA-1 digest,
/// never hashed), so that the `rsa_*` rows and bench-report's ratios compare
/// the RSA operation alone. Hashing a whole sign string (600 bytes made a
/// 1024-bit verify 8–15 % slower) is counted where whole envelopes are.
const MESSAGE: &[u8] = &[b'k'; 36];
const AES_KEY: &[u8] = b"0123456789abcdef";

fn cases() -> Vec<RsaCase> {
    let mut cases = Vec::new();
    for &bits in KEY_BITS {
        for &(backend, which) in BACKENDS {
            let fixture = benches::parties(bits, which).expect("fixture keys load");
            let key = &fixture.merchant_key;
            let signature = key.sign(SignHash::Sha256, MESSAGE).expect("sign");
            let wrapped = key
                .public_key()
                .encrypt_key(KeyPadding::Pkcs1v15, AES_KEY)
                .expect("encrypt");
            cases.push(RsaCase {
                backend,
                bits,
                fixture,
                signature,
                wrapped,
            });
        }
    }
    cases
}

fn rsa(c: &mut Criterion<ThreadCpu>) {
    let cases = cases();
    let id = |case: &RsaCase| BenchmarkId::new(case.backend, case.bits);
    let mut group = c.benchmark_group("rsa_sign");
    for case in &cases {
        let key = &case.fixture.merchant_key;
        group.bench_function(id(case), |b| {
            b.iter(|| key.sign(SignHash::Sha256, black_box(MESSAGE)))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("rsa_verify");
    for case in &cases {
        let public = case.fixture.merchant_key.public_key();
        group.bench_function(id(case), |b| {
            b.iter(|| public.verify(SignHash::Sha256, black_box(MESSAGE), &case.signature))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("rsa_key_encrypt");
    for case in &cases {
        let public = case.fixture.merchant_key.public_key();
        group.bench_function(id(case), |b| {
            b.iter(|| public.encrypt_key(KeyPadding::Pkcs1v15, black_box(AES_KEY)))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("rsa_key_decrypt");
    for case in &cases {
        let key = &case.fixture.merchant_key;
        group.bench_function(id(case), |b| {
            b.iter(|| key.decrypt_key(KeyPadding::Pkcs1v15, black_box(&case.wrapped)))
        });
    }
    group.finish();
}

// What criterion_group!/criterion_main! expand to, minus an undocumented pub fn.
fn main() {
    let mut c = Criterion::default()
        .with_measurement(ThreadCpu)
        .configure_from_args();
    aes(&mut c);
    rsa(&mut c);
    c.final_summary();
}
