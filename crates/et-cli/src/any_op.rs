//! An operation chosen at run time: any `server_type`, any JSON objects.
//!
//! et-proto builds requests from typed [`Operation`]s whose `server_type` is
//! a constant. The command line takes the server type as an argument, so
//! [`AnyOperation`] borrows the one Profile slot that renames an operation
//! (the "estimated amount" server type, whose real name ET never published)
//! and points it at the requested name: envelope, encryption and signature
//! then come from et-proto unchanged.

use et_model::{EstimateAmount, Operation, Payload, Placement, RawJson, ServerType};
use et_proto::Profile;
use serde::{Deserialize, Serialize};

/// One JSON value kept as its exact text (numbers keep their scale).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AnyPayload(pub RawJson);

impl Payload for AnyPayload {}

/// A request for whatever `server_type` the profile returned by
/// [`AnyOperation::profile_for`] names, with raw `data` and `sensitive_data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnyOperation {
    data: AnyPayload,
    sensitive: AnyPayload,
}

impl AnyOperation {
    /// A request with these payloads, each checked to be JSON. An absent
    /// one is `{}`, which et-proto sends as empty per the Profile.
    pub fn new(data: Option<String>, sensitive: Option<String>) -> Result<Self, serde_json::Error> {
        let part = |text: Option<String>| {
            RawJson::new(text.unwrap_or_else(|| "{}".to_owned())).map(AnyPayload)
        };
        Ok(AnyOperation {
            data: part(data)?,
            sensitive: part(sensitive)?,
        })
    }

    /// `profile`, changed so that this operation goes out as `server_type`.
    pub fn profile_for(mut profile: Profile, server_type: &str) -> Profile {
        profile.estimate_server_type = ServerType::from_code(server_type);
        profile
    }
}

impl Payload for AnyOperation {}

impl Operation for AnyOperation {
    const SERVER_TYPE: ServerType = EstimateAmount::SERVER_TYPE;
    type Data = AnyPayload;
    type Sensitive = AnyPayload;
    type Output = AnyPayload;
    /// Results are read from `sensitive_data`, or `data` when that is empty.
    const OUTPUT_IN: Placement = Placement::Sensitive;

    fn parts(&self) -> (&AnyPayload, &AnyPayload) {
        (&self.data, &self.sensitive)
    }

    fn from_parts(data: AnyPayload, sensitive: AnyPayload) -> Self {
        AnyOperation { data, sensitive }
    }
}
