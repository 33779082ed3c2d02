//! et-model target: every payload's deserializer.

use std::collections::BTreeMap;

use et_model::{
    FeeItem, NoPayload, Notification, OrderStatusChange, PayConfig, Payload, PaymentSuccess,
    RefundResultNotice, RemittanceVoucher,
};

/// Reads the input as every payload type. Whatever reads must validate
/// without panicking and survive a JSON round trip unchanged (readers are
/// tolerant, writers exact, and what a writer writes its reader reads).
/// A flat object of strings must also classify as a notification, and
/// [`Notification::to_fields`] must invert [`Notification::classify`].
pub fn model_payloads(data: &[u8]) {
    macro_rules! requests_and_outputs {
        ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
            $( round_trip::<et_model::$op>(data); round_trip::<et_model::$output>(data); )*
        };
    }
    et_model::for_each_operation!(requests_and_outputs);
    round_trip::<FeeItem>(data);
    round_trip::<PayConfig>(data);
    round_trip::<NoPayload>(data);
    round_trip::<PaymentSuccess>(data);
    round_trip::<OrderStatusChange>(data);
    round_trip::<RefundResultNotice>(data);
    round_trip::<RemittanceVoucher>(data);
    if let Ok(fields) = serde_json::from_slice::<BTreeMap<String, String>>(data) {
        if let Ok(notification) = Notification::classify(&fields) {
            let again = Notification::classify(&notification.to_fields());
            assert_eq!(
                again.ok(),
                Some(notification),
                "classify/to_fields round trip"
            );
        }
    }
}

fn round_trip<T: Payload>(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let _ = value.validate();
    let name = std::any::type_name::<T>();
    let json =
        serde_json::to_string(&value).unwrap_or_else(|e| panic!("{name} does not write: {e}"));
    let again: T = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{name} does not read its own JSON {json}: {e}"));
    assert_eq!(again, value, "{name} changed in a JSON round trip");
}
