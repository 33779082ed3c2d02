//! Writes the committed seed corpora, `fuzz/corpus/<target>/`, from the real
//! builders and the test kit's keys: valid inputs only, a handful per
//! target. Envelopes carry fresh AES keys, so each run rewrites them.
//!
//! `cargo run -p et-fuzz --example seed_corpus`

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use et_crypto::{aes_cbc_encrypt, b64_encode, AesKey, Iv, KeyPadding, SignHash};
use et_fuzz::{Fixtures, CONTENT_TYPES, NOTIFY_SALT};
use et_model::{
    CreateOrder, GetPayUrl, Operation, OrderCreated, OrderInfo, Payload, QueryOrders, ReplyCode,
    UploadAttachment,
};
use et_proto::{sign_notification, BuiltRequest, Message, Response, UntypedObject, UntypedValue};
use et_testkit::{Parties, Who};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

const CREATE_ORDER: &str = r#"{"merchant_order_id":"M-20241201-0001","merchant_user_key":"user-42","country_code":"GBR","currency_code":"GBP","tuituon":10000.00,"first_name_en":"Wei","last_name_en":"Zhang","name_ch":"张伟","student_email":"wei.zhang@example.com","student_mobile":"13800138000","school_name":"University of Example","notify_url":"https://merchant.example/notify","fee_type_list":[{"fee_type":1,"fee_type_desc":"Tuition"}]}"#;
const ORDER_CREATED: &str = r#"{"order_id":"ET20241201000001","pay_config_list":[{"pay_url":"https://pay.example/ET20241201000001","pay_type":1,"appid":"","original_id":""},{"pay_url":"pages/pay?id=1","pay_type":2,"appid":"wx0123456789","original_id":"gh_0123456789"}],"tuition_rmb":91234.50,"counter_fee":0}"#;
const GET_PAY_URL: &str = r#"{"order_id":"ET20241201000001","notify_url":"https://merchant.example/notify","back_jump_url":"https://merchant.example/done"}"#;
const UPLOAD: &str = r#"{"order_id":"ET20241201000001","attachment_type":"1","base64":"JVBERi0xLjQK","file_name":"passport.pdf"}"#;
const RATE: &str = r#"{"currency_code":"GBP","rate":9.1234}"#;
const ESTIMATE: &str =
    r#"{"tuition_rmb":"91234.50","counter_fee":0,"total_rmb":91234.50,"rate":9.12345}"#;
const REFUND: &str = r#"{"order_id":"ET20241201000001","refund_order_id":"R-1","refund_amount":100.00,"refund_reason":"duplicate"}"#;
const PAYMENT_FIELDS: &str = r#"{"order_id":"ETxxxxxxxxxxxx01","pay_result":1,"pay_amount":10000.00,"pay_datetime":"2024-12-01 10:00:00","extend_info":""}"#;
const STATUS_FIELDS: &str = r#"{"notify_type":"order_status_change","order_id":"ET20241201000001","datetime":"2024-12-12 10:00:00","order_status":"-1"}"#;
const REFUND_FIELDS: &str = r#"{"order_id":"ET20241201000001","refund_order_id":"R-1","refund_result":"1","refund_amount":"100.00","refund_datetime":"2024-12-20 09:30:00","extend_info":""}"#;
const VOUCHER_FIELDS: &str = r#"{"order_id":"ET20241201000001","remittance_voucher_url":"https://et.example/voucher.pdf","extend_info":""}"#;
const ODD_OBJECT: &str = r#"{"b":"\u00e9t\u00e9 &=","B":1.50,"a_":true,"aa":null,"nested":{"x":[1,2]},"":"","sign":"zz",}"#;

struct Corpus(PathBuf);

impl Corpus {
    fn put(&self, target: &str, name: &str, bytes: impl AsRef<[u8]>) -> Result {
        let dir = self.0.join(target);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(name), bytes)?;
        Ok(())
    }
}

fn main() -> Result {
    let corpus = Corpus(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus"));
    keys(&corpus)?;
    aes(&corpus)?;
    model(&corpus)?;
    envelopes(&corpus)?;
    notifications(&corpus)?;
    differential(&corpus)?;
    corpus.put("sign_string", "odd_object.json", ODD_OBJECT)?;
    corpus.put(
        "sign_string",
        "form.txt",
        "b=%C3%A9t%C3%A9&B=1.50&a_=&aa=x+y&sign=zz",
    )?;
    println!("seeds written to {}", corpus.0.display());
    Ok(())
}

fn keys(corpus: &Corpus) -> Result {
    let pem = std::str::from_utf8(et_testkit::pem(Who::Merchant, 1024))?;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)?;
    let public = key.to_public_key();
    let spki_der = public.to_public_key_der()?;
    let put = |name: &str, bytes: &[u8]| corpus.put("key_load", name, bytes);
    put("pkcs8.pem", pem.as_bytes())?;
    put("pkcs8.der", key.to_pkcs8_der()?.as_bytes())?;
    put("pkcs1.pem", key.to_pkcs1_pem(LineEnding::LF)?.as_bytes())?;
    put("pkcs1.der", key.to_pkcs1_der()?.as_bytes())?;
    put(
        "spki.pem",
        public.to_public_key_pem(LineEnding::LF)?.as_bytes(),
    )?;
    put("spki.der", spki_der.as_bytes())?;
    put(
        "pkcs1_public.pem",
        public.to_pkcs1_pem(LineEnding::CRLF)?.as_bytes(),
    )?;
    put("spki.b64", b64_encode(spki_der.as_bytes()).as_bytes())
}

fn aes(corpus: &Corpus) -> Result {
    let key_text = *b"0123456789abcdef";
    let key = AesKey::new(key_text);
    let seed = |plaintext: &[u8]| {
        [
            &key_text[..],
            &aes_cbc_encrypt(&key, Iv::SameAsKey, plaintext),
        ]
        .concat()
    };
    corpus.put("aes_decrypt", "order.bin", seed(CREATE_ORDER.as_bytes()))?;
    corpus.put("aes_decrypt", "empty_list.bin", seed(b"[]"))?;
    let base64 = b64_encode(aes_cbc_encrypt(&key, Iv::SameAsKey, RATE.as_bytes()));
    corpus.put(
        "aes_decrypt",
        "base64.txt",
        [&key_text[..], base64.as_bytes()].concat(),
    )
}

/// Checks that `json` reads as `T` (seeds must be valid), then writes it.
fn valid<T: Payload>(corpus: &Corpus, name: &str, json: &str) -> Result {
    serde_json::from_str::<T>(json).map_err(|e| format!("{name}: {e}"))?;
    corpus.put("model_payloads", name, json)
}

fn model(corpus: &Corpus) -> Result {
    valid::<CreateOrder>(corpus, "create_order.json", CREATE_ORDER)?;
    valid::<OrderCreated>(corpus, "order_created.json", ORDER_CREATED)?;
    valid::<GetPayUrl>(corpus, "get_pay_url.json", GET_PAY_URL)?;
    valid::<UploadAttachment>(corpus, "upload_attachment.json", UPLOAD)?;
    valid::<et_model::Rate>(corpus, "rate.json", RATE)?;
    valid::<et_model::Estimate>(corpus, "estimate.json", ESTIMATE)?;
    valid::<et_model::ApplyRefund>(corpus, "apply_refund.json", REFUND)?;
    valid::<OrderInfo>(corpus, "order_info.json", &order_info(1))?;
    valid::<et_model::OrderStatusChange>(corpus, "status_change_fields.json", STATUS_FIELDS)?;
    valid::<et_model::RefundResultNotice>(corpus, "refund_fields.json", REFUND_FIELDS)
}

fn order_info(i: u32) -> String {
    format!(
        r#"{{"order_id":"ET2024120100000{i}","merchant_order_id":"M-{i}","order_status":{},"tuition_rmb":"9123{i}.50","counter_fee":0,"currency_code":"GBP","tuituon":10000.00}}"#,
        i % 5
    )
}

fn envelopes(corpus: &Corpus) -> Result {
    let f = &Fixtures::get().parties;
    let merchant_public = f.merchant_key.public_key();

    let order: CreateOrder = serde_json::from_str(CREATE_ORDER)?;
    let order_request = f.merchant.build(&order, SystemTime::now())?;
    let pay_url: GetPayUrl = serde_json::from_str(GET_PAY_URL)?;
    let upload: UploadAttachment = serde_json::from_str(UPLOAD)?;
    let query = QueryOrders::new([
        "ET202412010000001",
        "ET202412010000002",
        "ET202412010000003",
    ]);
    let query_request = f.merchant.build(&query, SystemTime::now())?;
    corpus.put("open_request", "create_order.json", &order_request.body)?;
    corpus.put(
        "open_request",
        "get_pay_url.json",
        f.merchant.build(&pay_url, SystemTime::now())?.body,
    )?;
    corpus.put(
        "open_request",
        "upload_attachment.json",
        f.merchant.build(&upload, SystemTime::now())?.body,
    )?;
    corpus.put("open_request", "query_orders.json", &query_request.body)?;
    corpus.put("sign_string", "request.json", &order_request.body)?;

    let created: OrderCreated = serde_json::from_str(ORDER_CREATED)?;
    let body = exchange::<CreateOrder>(
        corpus,
        f,
        (&order_request, "create_order.json"),
        (&[created], "order_created.json"),
    )?;
    corpus.put("sign_string", "response.json", &body)?;

    let orders = (1..=3)
        .map(|i| serde_json::from_str(&order_info(i)))
        .collect::<std::result::Result<Vec<OrderInfo>, _>>()?;
    exchange::<QueryOrders>(
        corpus,
        f,
        (&query_request, "query_orders.json"),
        (&orders, "query_3_orders.json"),
    )?;

    let error = Response::new(
        ReplyCode::OrderNotAwaitingPayment,
        "order is not awaiting payment",
        "",
    );
    corpus.put(
        "open_response",
        "error_200003.json",
        f.et.respond(merchant_public, &error)?,
    )
}

/// One exchange's seeds: ET opens `request` (its `open_request_unsealed`
/// seed `request_name`) and answers `items`, which the merchant opens (its
/// `open_response_unsealed` and `open_response` seeds `response_name`).
/// Returns the answer's body.
fn exchange<Op: Operation>(
    corpus: &Corpus,
    f: &Parties,
    (request, request_name): (&BuiltRequest, &str),
    (items, response_name): (&[Op::Output], &str),
) -> Result<Vec<u8>> {
    let merchant_public = f.merchant_key.public_key();
    let lookup = |_: &str, _: &str| Some(merchant_public.clone());
    let opened =
        f.et.open_request(&request.body, lookup, SystemTime::now())?;
    unsealed(
        corpus,
        "open_request_unsealed",
        request_name,
        &opened.fields,
        &opened.sensitive,
    )?;
    let response = Response::success(&opened).with_output::<Op>(items)?;
    let body = f.et.respond(merchant_public, &response)?;
    unsealed_response(corpus, f, request, response_name, &body)?;
    f.merchant.open::<Op>(request, &body, SystemTime::now())?;
    corpus.put("open_response", response_name, &body)?;
    Ok(body)
}

/// The `open_response_unsealed` seed of `body`: the envelope as the
/// merchant opens it (in reply to `request`), with its decrypted text.
fn unsealed_response(
    corpus: &Corpus,
    f: &Parties,
    request: &BuiltRequest,
    name: &str,
    body: &[u8],
) -> Result {
    let reply = f
        .merchant
        .open_untyped(Some(request), body, SystemTime::now())?;
    let sensitive = reply.sensitive.as_ref().map(ToString::to_string);
    let fields = UntypedObject::parse_json(body, Message::Response)?;
    unsealed(
        corpus,
        "open_response_unsealed",
        name,
        &fields,
        &sensitive.unwrap_or_default(),
    )
}

/// An after-the-signature seed: an AES key, then the envelope with its
/// `sensitive_data` (the decrypted `sensitive`) encrypted under that key.
fn unsealed(
    corpus: &Corpus,
    target: &str,
    name: &str,
    fields: &UntypedObject,
    sensitive: &str,
) -> Result {
    let key_text = *b"fedcba9876543210";
    let mut envelope = fields.clone();
    let sealed = aes_cbc_encrypt(&AesKey::new(key_text), Iv::SameAsKey, sensitive.as_bytes());
    envelope.insert("sensitive_data", UntypedValue::string(b64_encode(sealed)));
    envelope.insert("aeskey", UntypedValue::string("wrapped"));
    corpus.put(
        target,
        name,
        [&key_text[..], envelope.to_json().as_bytes()].concat(),
    )
}

/// Seeds for `backends_agree`: per key size and padding, the padded block
/// of a real ciphertext and the ciphertext itself; per hash, the encoded
/// message of a real signature over `"et"`; and one message to round-trip.
fn differential(corpus: &Corpus) -> Result {
    use rsa::traits::PublicKeyParts;
    let paddings = [
        KeyPadding::Pkcs1v15,
        KeyPadding::OaepSha256,
        KeyPadding::OaepSha1,
        KeyPadding::OaepSha256Mgf1Sha1,
    ];
    for (size_bit, bits) in [(0u8, 1024), (1, 2048)] {
        let key = et_testkit::key(Who::Merchant, bits);
        let raw = rsa::RsaPrivateKey::from_pkcs8_pem(&key.to_pkcs8_pem()?)?;
        let block = |integer: rsa::BigUint| {
            let bytes = integer.to_bytes_be();
            [vec![0; raw.size() - bytes.len()], bytes].concat()
        };
        for (i, padding) in (0u8..).zip(paddings) {
            let ct = key.public_key().encrypt_key(padding, b"Ab3dEf7hIj1lMn0p")?;
            let em = rsa::hazmat::rsa_decrypt_and_check(
                &raw,
                None::<&mut rsa::rand_core::OsRng>,
                &rsa::BigUint::from_bytes_be(&ct),
            )?;
            let name = format!("{bits}_{padding:?}");
            corpus.put(
                "backends_agree",
                &format!("{name}_block.bin"),
                [&[size_bit | i << 3][..], &block(em)].concat(),
            )?;
            corpus.put(
                "backends_agree",
                &format!("{name}_ciphertext.bin"),
                [&[size_bit | 2 | i << 3][..], &ct].concat(),
            )?;
        }
        for (hash_bit, hash) in [(0u8, SignHash::Sha256), (0x20, SignHash::Sha1)] {
            let sig = key.sign(hash, b"et")?;
            let em = rsa::hazmat::rsa_encrypt(&raw, &rsa::BigUint::from_bytes_be(&sig))?;
            corpus.put(
                "backends_agree",
                &format!("{bits}_{hash:?}_signature.bin"),
                [&[size_bit | 4 | hash_bit][..], &block(em)].concat(),
            )?;
        }
    }
    corpus.put("backends_agree", "round_trip.bin", b"\x06Ab3dEf7hIj1lMn0p")
}

/// Seeds are the selector byte (index into `CONTENT_TYPES`) + the body.
fn notifications(corpus: &Corpus) -> Result {
    let selector = |content_type: Option<&str>| {
        CONTENT_TYPES
            .iter()
            .position(|c| *c == content_type)
            .and_then(|i| u8::try_from(i).ok())
            .ok_or("content type not in CONTENT_TYPES")
    };
    let json = selector(Some("application/json"))?;
    let form = selector(Some("application/x-www-form-urlencoded"))?;
    let sniffed = selector(None)?;
    let signed = |fields: &str| -> Result<Vec<u8>> {
        Ok(sign_notification(
            NOTIFY_SALT,
            UntypedObject::parse_json(fields.as_bytes(), Message::Notification)?,
        ))
    };
    let payment = signed(PAYMENT_FIELDS)?;
    corpus.put(
        "notification",
        "payment_json.bin",
        [&[json][..], &payment].concat(),
    )?;
    corpus.put("sign_string", "notification.json", &payment)?;
    let status = UntypedObject::parse_json(&signed(STATUS_FIELDS)?, Message::Notification)?;
    let form_body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(status.iter().map(|(k, v)| (k, v.text())))
        .finish();
    corpus.put(
        "notification",
        "status_form.bin",
        [&[form][..], form_body.as_bytes()].concat(),
    )?;
    corpus.put(
        "notification",
        "refund_sniffed.bin",
        [&[sniffed][..], &signed(REFUND_FIELDS)?].concat(),
    )?;
    // ET's own voucher example has a trailing comma.
    let voucher = String::from_utf8(signed(VOUCHER_FIELDS)?)?.replace('}', ",}");
    corpus.put(
        "notification",
        "voucher_trailing_comma.bin",
        [&[json][..], voucher.as_bytes()].concat(),
    )
}
