//! Writes what this crate produces into a directory so that
//! `tests/vectors/make_vectors.sh --reverse` can check it with openssl
//! (the reverse direction of the committed vectors; not needed in CI).
//!
//! ```text
//! cargo run -p et-crypto --features aws-lc --example interop_out -- /tmp/out
//! ```

use std::path::PathBuf;

use et_crypto::{
    aes_cbc_encrypt, AesKey, Backend, Iv, KeyPadding, PrivateKey, PublicKey, SignHash,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: interop_out DIR")?);
    std::fs::create_dir_all(&out)?;
    let vectors = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors"));
    let msg = b"aeskey=&version=2.0.0";
    std::fs::write(out.join("msg"), msg)?;
    for &backend in Backend::ALL {
        for bits in [1024, 2048] {
            let name = |what: &str| out.join(format!("{backend:?}.{bits}.{what}"));
            let key = PrivateKey::load(&std::fs::read(
                vectors.join(format!("rsa{bits}.pkcs8.pem")),
            )?)?
            .with_backend(backend);
            let public = PublicKey::load(key.to_spki_pem()?.as_bytes())?.with_backend(backend);
            std::fs::write(name("sha256.sig"), key.sign(SignHash::Sha256, msg)?)?;
            std::fs::write(name("sha1.sig"), key.sign(SignHash::Sha1, msg)?)?;
            for (pad, file) in [
                (KeyPadding::Pkcs1v15, "pkcs1v15.ct"),
                (KeyPadding::OaepSha256, "oaep-sha256.ct"),
                (KeyPadding::OaepSha1, "oaep-sha1.ct"),
                (KeyPadding::OaepSha256Mgf1Sha1, "oaep-sha256-mgf1-sha1.ct"),
            ] {
                std::fs::write(name(file), public.encrypt_key(pad, b"Ab3dEf7hIj1lMn0p")?)?;
            }
        }
        let generated = PrivateKey::generate(2048)?.with_backend(backend);
        std::fs::write(
            out.join(format!("{backend:?}.generated.pem")),
            generated.to_pkcs8_pem()?.as_bytes(),
        )?;
    }
    let key = AesKey::new(*b"Ab3dEf7hIj1lMn0p");
    std::fs::write(
        out.join("aes.ct"),
        aes_cbc_encrypt(&key, Iv::SameAsKey, msg),
    )?;
    Ok(())
}
