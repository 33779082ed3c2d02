//! Replays every committed seed in `fuzz/corpus/<target>/` through the
//! target's body, so that `cargo test` on stable exercises each fuzz target.

use std::collections::BTreeSet;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_seed_replays_without_breaking_a_contract() {
    let mut failures = Vec::new();
    for target in et_fuzz::TARGETS {
        let seeds = files_in(&fuzz_dir().join("corpus").join(target.name));
        assert!(
            !seeds.is_empty(),
            "fuzz/corpus/{} has no seeds",
            target.name
        );
        for seed in seeds {
            let data =
                fs::read(&seed).unwrap_or_else(|e| panic!("reading {}: {e}", seed.display()));
            if catch_unwind(AssertUnwindSafe(|| (target.run)(&data))).is_err() {
                failures.push(format!("{}: {}", target.name, seed.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "seeds that panicked:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_cargo_fuzz_target_is_a_listed_body() {
    let on_disk: BTreeSet<String> = files_in(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .collect();
    let listed: BTreeSet<String> = et_fuzz::TARGETS.iter().map(|t| t.name.to_owned()).collect();
    assert_eq!(
        on_disk, listed,
        "fuzz/fuzz_targets/*.rs and et_fuzz::TARGETS differ"
    );
}

/// The envelope seeds must still open with today's et-proto, or the fuzzer
/// starts from rejected inputs only; regenerate them with
/// `cargo run -p et-fuzz --example seed_corpus`. Seeds named `crash-…`
/// reproduce a fixed crash: replayed above, not required to open.
#[test]
fn envelope_seeds_still_open() {
    let f = &et_fuzz::Fixtures::get().parties;
    let merchant_public = f.merchant_key.public_key();
    for seed in files_in(&fuzz_dir().join("corpus/open_request")) {
        let body = fs::read(&seed).unwrap_or_else(|e| panic!("reading {}: {e}", seed.display()));
        let opened = f.et.open_request(
            &body,
            |_, _| Some(merchant_public.clone()),
            std::time::SystemTime::now(),
        );
        assert!(opened.is_ok(), "{}: {:?}", seed.display(), opened.err());
    }
    let request = et_fuzz::Fixtures::request(et_model::ServerType::CreateOrder);
    let is_reproducer = |seed: &PathBuf| {
        seed.file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("crash-"))
    };
    for seed in files_in(&fuzz_dir().join("corpus/open_response"))
        .into_iter()
        .filter(|seed| !is_reproducer(seed))
    {
        let body = fs::read(&seed).unwrap_or_else(|e| panic!("reading {}: {e}", seed.display()));
        match f
            .merchant
            .open_untyped(Some(&request), &body, std::time::SystemTime::now())
        {
            Ok(_)
            | Err(et_proto::Error::Api {
                authenticated: true,
                ..
            }) => {}
            Err(e) => panic!("{}: {e:?}", seed.display()),
        }
    }
}

/// The after-the-signature seeds must open, or those targets start from
/// rejected inputs only (regenerate as above).
#[test]
fn unsealed_seeds_still_open() {
    use et_model::{CreateOrder, QueryOrders};
    use et_proto::fuzzing::{open_request, open_response};
    let seed = |path: &str| {
        let data = fs::read(fuzz_dir().join("corpus").join(path)).expect("seed is committed");
        let (key, body) = data.split_at(16);
        let key: [u8; 16] = key.try_into().expect("16-byte key");
        (et_crypto::AesKey::new(key), body.to_vec())
    };
    let (key, body) = seed("open_request_unsealed/create_order.json");
    open_request::<CreateOrder>(&body, &key).expect("create_order request seed opens");
    let (key, body) = seed("open_request_unsealed/query_orders.json");
    open_request::<QueryOrders>(&body, &key).expect("query_orders request seed opens");
    let (key, body) = seed("open_response_unsealed/order_created.json");
    let items = open_response::<CreateOrder>(&body, &key).expect("order_created seed opens");
    assert_eq!(items.len(), 1);
    let (key, body) = seed("open_response_unsealed/query_3_orders.json");
    let items = open_response::<QueryOrders>(&body, &key).expect("query seed opens");
    assert_eq!(items.len(), 3);
}
