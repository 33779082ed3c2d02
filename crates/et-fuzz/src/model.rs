//! et-model target: every payload's deserializer.

use std::collections::BTreeMap;

use et_model::{
    ApplyRefund, AttachmentUploaded, CreateOrder, Estimate, EstimateAmount, FeeItem, GetPayUrl,
    GetRate, NoPayload, Notification, OrderCreated, OrderInfo, OrderStatusChange, PayConfig,
    PayUrl, Payload, PaymentSuccess, QueryOrders, Rate, RefundAccepted, RefundResultNotice,
    RemittanceVoucher, UploadAttachment,
};
use et_model::{GetInstitutions, Institution, JumpAddress, JumpPlaceOrder};

/// Reads the input as every payload type. Whatever reads must validate
/// without panicking and survive a JSON round trip unchanged (readers are
/// tolerant, writers exact, and what a writer writes its reader reads).
/// A flat object of strings must also classify as a notification, and
/// [`Notification::to_fields`] must invert [`Notification::classify`].
pub fn model_payloads(data: &[u8]) {
    round_trip::<CreateOrder>(data);
    round_trip::<FeeItem>(data);
    round_trip::<OrderCreated>(data);
    round_trip::<PayConfig>(data);
    round_trip::<UploadAttachment>(data);
    round_trip::<AttachmentUploaded>(data);
    round_trip::<GetPayUrl>(data);
    round_trip::<PayUrl>(data);
    round_trip::<QueryOrders>(data);
    round_trip::<OrderInfo>(data);
    round_trip::<GetRate>(data);
    round_trip::<Rate>(data);
    round_trip::<EstimateAmount>(data);
    round_trip::<Estimate>(data);
    round_trip::<ApplyRefund>(data);
    round_trip::<RefundAccepted>(data);
    round_trip::<GetInstitutions>(data);
    round_trip::<Institution>(data);
    round_trip::<JumpPlaceOrder>(data);
    round_trip::<JumpAddress>(data);
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
