//! The merchant's reply to a refund result (spec 04 §4.4): besides
//! `notify_result` `OK`, the notification's `order_id` and an MD5 `sign`
//! by the same rule as the notification's. [Delivery](crate::delivery)
//! counts a reply that lacks either as a failed attempt.

use std::sync::Arc;

use et_proto::NotificationVerifier;

use crate::app::App;
use crate::store;

/// Whether `reply` answers the refund result of order `order_id` as ET's
/// page says: that `order_id` and a `sign` made with the merchant's salt
/// (the v2 rule, or also the v1 printed form when the sandbox plays
/// `v1-compat`). Else what is wrong with it, in words.
pub(crate) async fn check(app: &Arc<App>, order_id: &str, reply: &[u8]) -> Result<(), String> {
    let salt = merchant_salt(app, order_id).await?;
    // During a rotation's window a merchant may still sign with the old salt.
    let keys = app.keys();
    let verifier = NotificationVerifier::new(salt, keys.et.profile().notify_sign_rule)
        .with_accepted_salts(keys.previous_salt.clone());
    let bad = |reason: String| {
        Err(format!(
            "the refund-result reply {reason} (spec 04 §4.4: order_id, notify_result and sign)"
        ))
    };
    let view = match verifier.verify(Some("application/json"), reply, app.clock.system_time()) {
        Ok(view) => view,
        Err(e) => return bad(format!("does not verify: {e}")),
    };
    match view.text("order_id") {
        Some(id) if id == order_id => Ok(()),
        Some(id) => bad(format!("names order_id {id:?}, not {order_id:?}")),
        None => bad("has no order_id".into()),
    }
}

/// The salt of the merchant whose order `order_id` is.
async fn merchant_salt(app: &Arc<App>, order_id: &str) -> Result<String, String> {
    let (app, id) = (app.clone(), order_id.to_owned());
    let found = tokio::task::spawn_blocking(move || {
        app.store.tx(|c| {
            let Some(o) = store::order(c, &id)? else {
                return Ok(None);
            };
            let merchant = store::merchant(c, &o.merchant_number, &o.sub_merchant_number)?;
            Ok::<_, rusqlite::Error>(merchant.map(|m| m.salt))
        })
    })
    .await;
    match found {
        Ok(Ok(Some(salt))) => Ok(salt),
        Ok(Ok(None)) => Err(format!("order {order_id} or its merchant is gone")),
        Ok(Err(e)) => Err(format!("reading the merchant's salt failed: {e}")),
        Err(e) => Err(format!("reading the merchant's salt panicked: {e}")),
    }
}
