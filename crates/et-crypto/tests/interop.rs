//! Interoperability with openssl: every vector in `tests/vectors/` was made
//! by the openssl CLI (`make_vectors.sh`), not by this crate. Every test runs
//! on every compiled-in backend.

mod common;

use common::{backend_pairs, field, lines, private, public, read};
use et_crypto::{
    aes_cbc_decrypt, aes_cbc_encrypt, md5_hex, md5_verify, AesKey, Backend, Error, Iv, KeyFormat,
    KeyKind, KeyPadding, PrivateKey, PublicKey, SignHash,
};

#[test]
fn private_keys_load_from_every_format() {
    for bits in [1024, 2048] {
        let reference = private(bits, Backend::RustCrypto).to_pkcs8_pem().unwrap();
        for format in [
            "pkcs8.pem",
            "pkcs1.pem",
            "pkcs1.crlf.pem",
            "pkcs8.der",
            "pkcs1.der",
            "pkcs8.b64",
            "pkcs1.lines.b64",
        ] {
            let key = PrivateKey::load(&read(&format!("rsa{bits}.{format}")))
                .unwrap_or_else(|e| panic!("rsa{bits}.{format}: {e}"));
            assert_eq!(key.bits(), bits, "{format}");
            assert_eq!(*key.to_pkcs8_pem().unwrap(), *reference, "{format}");
        }
    }
}

#[test]
fn public_keys_load_from_every_format() {
    for bits in [1024, 2048] {
        let reference = public(bits, Backend::RustCrypto).to_spki_pem().unwrap();
        for format in [
            "spki.pem",
            "spki.crlf.pem",
            "spki.der",
            "spki.b64",
            "pkcs1pub.pem",
            "pkcs1pub.der",
        ] {
            let key = PublicKey::load(&read(&format!("rsa{bits}.{format}")))
                .unwrap_or_else(|e| panic!("rsa{bits}.{format}: {e}"));
            assert_eq!(key.bits(), bits, "{format}");
            assert_eq!(key.to_spki_pem().unwrap(), reference, "{format}");
        }
        // Our SPKI export is byte-identical to openssl's.
        assert_eq!(reference.as_bytes(), read(&format!("rsa{bits}.spki.pem")));
    }
}

#[test]
fn tolerates_whitespace_and_blank_lines() {
    let pem = String::from_utf8(read("rsa1024.pkcs1.pem")).unwrap();
    let messy = format!("\n\n  {}\n\n", pem.replace('\n', "\n\n  "));
    assert_eq!(PrivateKey::load(messy.as_bytes()).unwrap().bits(), 1024);
    let body = String::from_utf8(read("rsa1024.spki.b64")).unwrap();
    assert_eq!(
        PublicKey::load(format!("  {body}\r\n").as_bytes())
            .unwrap()
            .bits(),
        1024
    );
}

#[test]
fn load_errors_say_what_was_wrong() {
    let private_err = |name: &str| PrivateKey::load(&read(name)).err();
    let public_err = |name: &str| PublicKey::load(&read(name)).err();
    assert_eq!(
        private_err("rsa2048.encrypted.pkcs8.pem"),
        Some(Error::EncryptedKey)
    );
    assert_eq!(
        private_err("rsa2048.encrypted.pkcs8.der"),
        Some(Error::EncryptedKey)
    );
    assert_eq!(
        private_err("rsa1024.encrypted.pkcs1.pem"),
        Some(Error::EncryptedKey)
    );
    assert_eq!(
        private_err("rsa512.pkcs8.pem"),
        Some(Error::KeySize { bits: 512 })
    );
    assert_eq!(
        private_err("ec.pkcs8.pem"),
        Some(Error::UnsupportedKeyFormat)
    );
    let expected_private = Some(Error::WrongKeyKind {
        expected: KeyKind::Private,
    });
    assert_eq!(private_err("rsa2048.spki.pem"), expected_private);
    assert_eq!(private_err("rsa2048.pkcs1pub.der"), expected_private);
    let expected_public = Some(Error::WrongKeyKind {
        expected: KeyKind::Public,
    });
    assert_eq!(public_err("rsa1024.pkcs1.pem"), expected_public);
    assert_eq!(public_err("rsa1024.pkcs8.b64"), expected_public);
    assert_eq!(
        PublicKey::load(b"").err(),
        Some(Error::UnsupportedKeyFormat)
    );
    let unsupported = Some(Error::UnsupportedKeyFormat);
    assert_eq!(PublicKey::load(b"hello, world").err(), unsupported);
    assert_eq!(
        PublicKey::load(b"\x30\x03\x02\x01\x00").err(),
        Some(Error::KeyParse)
    );
    assert_eq!(PublicKey::load(b"AAAA").err(), Some(Error::KeyParse));
}

/// Re-armours a PEM file's body under another label.
fn relabel(pem: &[u8], label: &str) -> Vec<u8> {
    let text = String::from_utf8(pem.to_vec()).unwrap();
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n");
    format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n").into_bytes()
}

#[test]
fn a_pem_label_must_name_the_key_inside() {
    let mismatch = |label, found| Some(Error::KeyLabelMismatch { label, found });
    let pkcs8 = read("rsa1024.pkcs8.pem");
    // The case: a private key passed off as a public one.
    let disguised = relabel(&pkcs8, "PUBLIC KEY");
    assert_eq!(
        PublicKey::load(&disguised).err(),
        mismatch(KeyFormat::Spki, KeyFormat::Pkcs8)
    );
    assert_eq!(
        PrivateKey::load(&disguised).err(),
        mismatch(KeyFormat::Spki, KeyFormat::Pkcs8)
    );
    // Every other pairing of label and content.
    let files = [
        ("rsa1024.pkcs8.pem", KeyFormat::Pkcs8),
        ("rsa1024.pkcs1.pem", KeyFormat::Pkcs1Private),
        ("rsa1024.spki.pem", KeyFormat::Spki),
        ("rsa1024.pkcs1pub.pem", KeyFormat::Pkcs1Public),
    ];
    for (file, found) in files {
        for (_, label) in files {
            let input = relabel(&read(file), &label.to_string());
            let loaded = (
                PrivateKey::load(&input).err(),
                PublicKey::load(&input).err(),
            );
            if label == found {
                assert!(
                    loaded.0.is_none() || loaded.1.is_none(),
                    "{file} as {label}"
                );
            } else {
                assert_eq!(
                    loaded,
                    (mismatch(label, found), mismatch(label, found)),
                    "{file} as {label}"
                );
            }
        }
    }
}

#[test]
fn a_key_input_holds_one_key_and_nothing_after_it() {
    let trailing = Some(Error::KeyTrailingData);
    for (private_file, public_file) in [
        ("rsa1024.pkcs8.pem", "rsa1024.spki.pem"),
        ("rsa1024.pkcs1.der", "rsa1024.spki.der"),
        ("rsa2048.pkcs8.b64", "rsa1024.spki.b64"),
    ] {
        let (private_key, public_key) = (read(private_file), read(public_file));
        let two_keys = |first: &[u8], second: &[u8]| [first, b"\n", second].concat();
        assert_eq!(
            PrivateKey::load(&two_keys(&private_key, &private_key)).err(),
            trailing,
            "{private_file} twice"
        );
        assert_eq!(
            PrivateKey::load(&two_keys(&private_key, &public_key)).err(),
            trailing,
            "{private_file} + public"
        );
        assert_eq!(
            PublicKey::load(&two_keys(&public_key, &public_key)).err(),
            trailing,
            "{public_file} twice"
        );
        assert_eq!(
            PublicKey::load(&two_keys(&public_key, &private_key)).err(),
            trailing,
            "{public_file} + private"
        );
    }
    for garbage in [&b"garbage"[..], b"-----", b"\x00", b"AAAA"] {
        let pem = [read("rsa2048.spki.pem"), garbage.to_vec()].concat();
        assert_eq!(PublicKey::load(&pem).err(), trailing, "{garbage:?}");
        let der = [read("rsa2048.pkcs8.der"), garbage.to_vec()].concat();
        assert_eq!(PrivateKey::load(&der).err(), trailing, "{garbage:?}");
    }
    // Whitespace after the key is fine.
    let spaced = [read("rsa2048.spki.pem"), b"\r\n \t\n".to_vec()].concat();
    assert_eq!(PublicKey::load(&spaced).unwrap().bits(), 2048);
}

#[test]
fn public_exponents_below_65537_are_refused() {
    let refused = Error::PublicExponent { exponent: 3 };
    assert_eq!(
        PrivateKey::load(&read("rsa1024.e3.pkcs8.pem")).err(),
        Some(refused.clone())
    );
    assert_eq!(
        PublicKey::load(&read("rsa1024.e3.spki.pem")).err(),
        Some(refused.clone())
    );
    let message = refused.to_string();
    assert!(
        message.contains("public exponent 3") && message.contains("65537"),
        "{message}"
    );
}

#[test]
fn debug_output_carries_no_key_material() {
    let pem = String::from_utf8(read("rsa1024.pkcs8.pem")).unwrap();
    let key = PrivateKey::load(pem.as_bytes()).unwrap();
    let shown = format!("{key:?} {:?}", key.public_key());
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let leaked = body
        .as_bytes()
        .windows(8)
        .any(|w| shown.contains(std::str::from_utf8(w).unwrap()));
    assert!(!leaked, "{shown}");
    assert!(shown.contains("bits: 1024"), "{shown}");
}

#[test]
fn signatures_match_openssl_byte_for_byte() {
    for backend in Backend::ALL.iter().copied() {
        for line in lines("signatures.txt") {
            let [bits, hash, msg, sig] = &line[..] else {
                panic!("bad line {line:?}")
            };
            let bits: usize = bits.parse().unwrap();
            let hash = if hash == "sha256" {
                SignHash::Sha256
            } else {
                SignHash::Sha1
            };
            let (msg, sig) = (field(msg), field(sig));
            let ours = private(bits, backend).sign(hash, &msg).unwrap();
            assert_eq!(ours, sig, "{backend:?} {bits} {hash:?}");
            let key = public(bits, backend);
            key.verify(hash, &msg, &sig).unwrap();
            let mut tampered = msg.clone();
            tampered.push(b'x');
            assert_eq!(
                key.verify(hash, &tampered, &sig),
                Err(Error::SignatureMismatch)
            );
            let other = if hash == SignHash::Sha1 {
                SignHash::Sha256
            } else {
                SignHash::Sha1
            };
            assert_eq!(key.verify(other, &msg, &sig), Err(Error::SignatureMismatch));
        }
    }
}

fn padding(name: &str) -> KeyPadding {
    match name {
        "pkcs1v15" => KeyPadding::Pkcs1v15,
        "oaep-sha256" => KeyPadding::OaepSha256,
        "oaep-sha1" => KeyPadding::OaepSha1,
        "oaep-sha256-mgf1-sha1" => KeyPadding::OaepSha256Mgf1Sha1,
        other => panic!("unknown padding {other}"),
    }
}

#[test]
fn decrypts_openssl_encrypted_keys() {
    for backend in Backend::ALL.iter().copied() {
        for line in lines("rsa_encrypted.txt") {
            let [bits, pad, plaintext, ct] = &line[..] else {
                panic!("bad line {line:?}")
            };
            let key = private(bits.parse().unwrap(), backend);
            let out = key.decrypt_key(padding(pad), &field(ct)).unwrap();
            assert_eq!(
                out.as_slice(),
                plaintext.as_bytes(),
                "{backend:?} {bits} {pad}"
            );
            // The wrong padding mode is an error (OpenSSL 3.2+ would answer
            // a PKCS#1 v1.5 padding error with implicit rejection; Debian 12
            // ships 3.0, which does not).
            let wrong = if pad == "pkcs1v15" {
                KeyPadding::OaepSha256
            } else {
                KeyPadding::Pkcs1v15
            };
            assert_eq!(
                key.decrypt_key(wrong, &field(ct)).map(|_| ()),
                Err(Error::RsaDecrypt)
            );
        }
    }
}

#[test]
fn aes_matches_openssl_enc() {
    for line in lines("aes_cbc.txt") {
        let [key, iv, pt, ct] = &line[..] else {
            panic!("bad line {line:?}")
        };
        let key = AesKey::from_slice(&hex(key)).unwrap();
        let iv = <[u8; 16]>::try_from(hex(iv)).unwrap();
        let iv = if &iv == key.as_bytes() {
            Iv::SameAsKey
        } else {
            Iv::Explicit(iv)
        };
        let (pt, ct) = (field(pt), field(ct));
        assert_eq!(aes_cbc_encrypt(&key, iv, &pt), ct);
        assert_eq!(aes_cbc_decrypt(&key, iv, &ct).unwrap().as_slice(), pt);
    }
}

#[test]
fn md5_matches_openssl_and_et_example() {
    for line in lines("md5.txt") {
        let [salt, msg, expected] = &line[..] else {
            panic!("bad line {line:?}")
        };
        let (salt, msg) = (field(salt), field(msg));
        assert_eq!(md5_hex(&salt, &msg), *expected);
        assert!(md5_verify(&salt, &msg, expected.to_uppercase()));
    }
    assert!(lines("md5.txt")[0].contains(&"652614570bcc49940d7dcc7a3c3dc7e5".to_owned()));
}

#[test]
fn backends_interoperate() {
    for (producer, consumer) in backend_pairs() {
        for bits in [1024, 2048] {
            let msg = b"aeskey=&version=2.0.0";
            for hash in [SignHash::Sha256, SignHash::Sha1] {
                let sig = private(bits, producer).sign(hash, msg).unwrap();
                public(bits, consumer).verify(hash, msg, &sig).unwrap();
            }
            for pad in [
                KeyPadding::Pkcs1v15,
                KeyPadding::OaepSha256,
                KeyPadding::OaepSha1,
                KeyPadding::OaepSha256Mgf1Sha1,
            ] {
                let ct = public(bits, producer)
                    .encrypt_key(pad, b"Ab3dEf7hIj1lMn0p")
                    .unwrap();
                let pt = private(bits, consumer).decrypt_key(pad, &ct).unwrap();
                assert_eq!(
                    pt.as_slice(),
                    b"Ab3dEf7hIj1lMn0p",
                    "{producer:?}->{consumer:?} {bits} {pad:?}"
                );
            }
        }
    }
}

#[test]
fn backend_choice_and_fallback() {
    use et_crypto::RsaOperation::{Decrypt, Encrypt, Sign, Verify};
    assert_eq!(
        private(2048, Backend::RustCrypto).backend(),
        Backend::RustCrypto
    );
    assert_eq!(Backend::ALL.last(), Some(&Backend::RustCrypto));
    let automatic = |bits| PrivateKey::load(&read(&format!("rsa{bits}.pkcs8.pem"))).unwrap();
    let every_op = [
        Sign(SignHash::Sha256),
        Sign(SignHash::Sha1),
        Decrypt(KeyPadding::Pkcs1v15),
        Decrypt(KeyPadding::OaepSha256Mgf1Sha1),
        Verify(SignHash::Sha256),
        Verify(SignHash::Sha1),
        Encrypt(KeyPadding::Pkcs1v15),
        Encrypt(KeyPadding::OaepSha256Mgf1Sha1),
    ];
    // Pinned to RustCrypto, or only RustCrypto compiled in: RustCrypto everywhere.
    for bits in [1024, 2048] {
        for op in every_op {
            assert_eq!(
                private(bits, Backend::RustCrypto).backend_for(op),
                Backend::RustCrypto
            );
            if Backend::ALL == [Backend::RustCrypto] {
                assert_eq!(automatic(bits).backend_for(op), Backend::RustCrypto);
            }
        }
    }
    #[cfg(feature = "aws-lc")]
    {
        assert_eq!(private(2048, Backend::AwsLc).backend(), Backend::AwsLc);
        // aws-lc-rs refuses 1024-bit private keys: documented fallback.
        assert_eq!(private(1024, Backend::AwsLc).backend(), Backend::RustCrypto);
        assert_eq!(public(1024, Backend::AwsLc).backend(), Backend::AwsLc);
        // The automatic choice takes aws-lc wherever it accepts the key.
        let key = automatic(2048);
        for op in [
            Sign(SignHash::Sha256),
            Decrypt(KeyPadding::Pkcs1v15),
            Verify(SignHash::Sha1),
            Encrypt(KeyPadding::OaepSha256),
        ] {
            assert_eq!(key.backend_for(op), Backend::AwsLc, "{op:?}");
        }
        assert_eq!(
            automatic(1024).backend_for(Verify(SignHash::Sha256)),
            Backend::AwsLc
        );
    }
    #[cfg(feature = "openssl")]
    {
        assert_eq!(private(1024, Backend::OpenSsl).backend(), Backend::OpenSsl);
        for op in every_op {
            assert_eq!(
                private(1024, Backend::OpenSsl).backend_for(op),
                Backend::OpenSsl,
                "{op:?}"
            );
        }
        // What aws-lc refuses, or everything without aws-lc, runs on OpenSSL.
        let small = automatic(1024);
        let mut refused_by_aws_lc = vec![
            Sign(SignHash::Sha256),
            Decrypt(KeyPadding::Pkcs1v15),
            Encrypt(KeyPadding::Pkcs1v15),
        ];
        refused_by_aws_lc.extend([
            Sign(SignHash::Sha1),
            Decrypt(KeyPadding::OaepSha256Mgf1Sha1),
        ]);
        for op in refused_by_aws_lc {
            assert_eq!(small.backend_for(op), Backend::OpenSsl, "{op:?}");
            assert_eq!(
                automatic(2048).backend_for(op) == Backend::OpenSsl,
                cfg!(not(feature = "aws-lc"))
                    || matches!(
                        op,
                        Sign(SignHash::Sha1) | Decrypt(KeyPadding::OaepSha256Mgf1Sha1)
                    ),
                "{op:?}"
            );
        }
    }
    #[cfg(all(feature = "aws-lc", not(feature = "openssl")))]
    assert_eq!(automatic(1024).backend(), Backend::RustCrypto);
}

#[test]
fn plaintext_too_long_is_rsa_encrypt_error() {
    for backend in Backend::ALL.iter().copied() {
        let key = public(1024, backend);
        assert_eq!(
            key.encrypt_key(KeyPadding::Pkcs1v15, &[0; 118]).map(|_| ()),
            Err(Error::RsaEncrypt)
        );
        assert_eq!(
            key.encrypt_key(KeyPadding::OaepSha256, &[0; 63])
                .map(|_| ()),
            Err(Error::RsaEncrypt)
        );
        assert!(key.encrypt_key(KeyPadding::OaepSha256, &[0; 62]).is_ok());
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A PEM header (`Name: value`) may come only before the Base64 body: a
/// line with a colon inside the body is refused, naming the line, instead
/// of being skipped.
#[test]
fn a_pem_header_is_allowed_only_before_the_body() {
    let pem = String::from_utf8(read("rsa1024.pkcs8.pem")).unwrap();
    let lines: Vec<&str> = pem.lines().collect();
    let headed = [&lines[..1], &["Comment: a test key", ""], &lines[1..]]
        .concat()
        .join("\n");
    assert_eq!(PrivateKey::load(headed.as_bytes()).unwrap().bits(), 1024);
    for at in [2, lines.len() - 1] {
        for header in ["Comment: a test key", "MIIC:AAAA", ":"] {
            let mut inside = lines.clone();
            inside.insert(at, header);
            let loaded = PrivateKey::load(inside.join("\n").as_bytes());
            assert_eq!(
                loaded.err(),
                Some(Error::PemHeaderInBody { line: at + 1 }),
                "{header:?}"
            );
        }
    }
}
