//! Third-party jump ordering (`merchant_jump_place_order`).
//!
//! A jump request is saved under a random token and answered with the
//! address `/jump/{token}`, where the student completes it
//! ([the jump page](crate::public_pages)). The token is the only
//! credential of the page, so it is long and random; a retried request
//! (same `merchant_order_id`) gets the same address, and a jump places at
//! most one order.

use et_model::{JumpAddress, JumpPlaceOrder};
use et_proto::OpenedRequest;

use crate::access::random_token;
use crate::app::App;
use crate::codes::{Refusal, SandboxCode};
use crate::store::{self, JumpRecord};

/// `merchant_jump_place_order`: saves the request, answers with the page's address.
pub(crate) fn place_jump(
    app: &App,
    req: &OpenedRequest,
    op: JumpPlaceOrder,
) -> Result<Vec<JumpAddress>, Refusal> {
    let request = serde_json::to_string(&op).map_err(|e| {
        Refusal::new(
            SandboxCode::Internal,
            format!("saving the jump failed: {e}"),
        )
    })?;
    let record = JumpRecord {
        token: random_token(),
        merchant_number: req.merchant_number.clone(),
        sub_merchant_number: req.sub_merchant_number.clone(),
        merchant_order_id: op.merchant_order_id.clone(),
        request,
        order_id: None,
        created_at: app.clock.now(),
    };
    let token = app.store.tx(|c| {
        let placed =
            store::order_by_merchant_order_id(c, &req.merchant_number, &op.merchant_order_id)?;
        if let Some(o) = placed {
            return Err(crate::engine::already_used(&o, "query that order instead"));
        }
        Ok(store::upsert_jump(c, &record)?)
    })?;
    Ok(vec![JumpAddress {
        jump_url: Some(app.jump_url(&token)),
        order_id: None,
        extra: Default::default(),
    }])
}
