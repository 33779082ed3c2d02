//! What et-proto's tests add to the test kit (et-testkit).
#![allow(dead_code, unused_imports)] // each test binary uses a subset

pub(crate) use et_testkit::{key, Parties, Who, KEY_SIZES, SALT};

use et_proto::{BuiltRequest, Response};

/// ET's answer to a `QueryOrders` request: order `ET1` is paid.
pub(crate) fn et1_paid_reply(parties: &Parties, request: &BuiltRequest) -> Vec<u8> {
    let response = Response::success(&parties.et_open(request))
        .with_sensitive(&[serde_json::json!({"order_id": "ET1", "order_status": 1})])
        .expect("response");
    parties.et_respond(&response)
}
