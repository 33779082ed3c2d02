//! The merchant's key on a PKCS#11 token (SoftHSM2) against the same key in
//! process: SHA-256 signing and `aeskey` unwrapping, 2048 bits, in one
//! command so that the ratio is read from one run (feature `pkcs11`;
//! without SoftHSM2 it says so and measures nothing).

use std::hint::black_box;

use benches::ThreadCpu;
use criterion::{BenchmarkId, Criterion};
use et_crypto::{KeyPadding, MerchantKey, Pkcs11Key, Pkcs11Uri, SignHash};
use et_testkit::softhsm::SoftHsm;
use et_testkit::{key, pem, Who};

const MESSAGE: &[u8] = &[b'k'; 36];
const BITS: usize = 2048;

fn merchant_key(c: &mut Criterion<ThreadCpu>) {
    let Some(hsm) = SoftHsm::get("pkcs11 bench") else {
        return;
    };
    hsm.import("bench-2048", 0x42, pem(Who::Merchant, BITS));
    let uri = Pkcs11Uri::parse(&hsm.uri("bench-2048")).expect("the bench URI parses");
    let token = Pkcs11Key::open(&uri).expect("the imported key opens");
    let in_process = key(Who::Merchant, BITS).clone();
    let keys: [(&str, &dyn MerchantKey); 2] = [("in-process", &in_process), ("softhsm2", &token)];
    let wrapped = in_process
        .public_key()
        .encrypt_key(KeyPadding::Pkcs1v15, b"0123456789abcdef")
        .expect("wraps");
    let mut group = c.benchmark_group("merchant_key_sign");
    for (name, key) in keys {
        group.bench_function(BenchmarkId::new(name, BITS), |b| {
            b.iter(|| key.sign(SignHash::Sha256, black_box(MESSAGE)))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("merchant_key_unwrap");
    for (name, key) in keys {
        group.bench_function(BenchmarkId::new(name, BITS), |b| {
            b.iter(|| key.decrypt_key(KeyPadding::Pkcs1v15, black_box(&wrapped)))
        });
    }
    group.finish();
}

// What criterion_group!/criterion_main! expand to, minus an undocumented pub fn.
fn main() {
    let mut c = Criterion::default()
        .with_measurement(ThreadCpu)
        .configure_from_args();
    merchant_key(&mut c);
    c.final_summary();
}
