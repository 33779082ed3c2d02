//! Quick RSA throughput figures per backend, for docs/decisions.md.
//! Criterion benches live in `benches/`; this is a one-minute sanity check:
//!
//! ```text
//! cargo run -p et-crypto --release --features aws-lc,openssl --example rsa_speed
//! ```

use std::time::{Duration, Instant};

use et_crypto::{Backend, KeyPadding, PrivateKey, RsaOperation, SignHash};

const WINDOW: Duration = Duration::from_secs(3);

/// Runs `op` for about [`WINDOW`] and returns operations per second.
fn rate(mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < WINDOW {
        op();
        n += 1;
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), et_crypto::Error> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");
    for bits in [1024, 2048] {
        let pem = std::fs::read(format!("{dir}/rsa{bits}.pkcs8.pem"))
            .map_err(|_| et_crypto::Error::KeyParse)?;
        let automatic = PrivateKey::load(&pem)?;
        let pinned = Backend::ALL
            .iter()
            .map(|&b| (format!("{b:?}"), automatic.clone().with_backend(b)));
        for (label, key) in pinned.chain([("automatic".to_owned(), automatic.clone())]) {
            let public = key.public_key().clone();
            let msg = [b'x'; 600];
            let sig = key.sign(SignHash::Sha256, &msg)?;
            let ct = public.encrypt_key(KeyPadding::Pkcs1v15, b"Ab3dEf7hIj1lMn0p")?;
            let sign = rate(|| drop(key.sign(SignHash::Sha256, &msg)));
            let verify = rate(|| drop(public.verify(SignHash::Sha256, &msg, &sig)));
            let decrypt = rate(|| drop(key.decrypt_key(KeyPadding::Pkcs1v15, &ct)));
            println!(
                "rsa{bits} {label} (ran on {:?} / {:?} / {:?}): sign {sign:.0}/s, verify {verify:.0}/s, pkcs1v15 decrypt {decrypt:.0}/s",
                key.backend(),
                public.backend(),
                key.backend_for(RsaOperation::Decrypt(KeyPadding::Pkcs1v15)),
            );
        }
    }
    Ok(())
}
