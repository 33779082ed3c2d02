//! The institution directory: [`GetInstitutions`] and its result
//! [`Institution`]. This is where the `institution_code` of a
//! [`CreateOrder`](crate::CreateOrder) comes from.
//!
//! ET has not published the operation's page; the request is the one ET's
//! own Python demo sends (01-envelope-and-crypto.md §2):
//! `data` = `{"search_key": "", "count": 0, "institution_type": 1}` and
//! `sensitive_data` the encryption of `[]` (et-proto's
//! `EmptySensitive::EncryptEmptyList`; its default sends `""`). The answer
//! has never been seen: [`Institution`] says which of its names are guesses.

use crate::codes::str_newtype;
use crate::ops::operation;
use crate::wire::{wire_struct, FieldValue};
use crate::{CountryCode, InstitutionType, ServerType};

/// `count` is a plain JSON number.
impl FieldValue for u32 {}

/// An institution's code, as `get_institutions` answers it and
/// [`CreateOrder::institution_code`](crate::CreateOrder::institution_code)
/// takes it. The order page types it as a string; a number from ET reads
/// as its text, so a differently typed answer still reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstitutionCode(pub String);

impl InstitutionCode {
    /// The code as it goes on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

str_newtype!(InstitutionCode("institution code"), |code: &str| {
    InstitutionCode(code.to_owned())
});

impl FieldValue for InstitutionCode {}

wire_struct! {
    /// Search ET's institution directory (server_type `get_institutions`).
    /// Every field goes in `data`; `sensitive_data` is empty. The three
    /// names and their JSON types are the ones ET's demo sends; what they
    /// mean beyond that is our reading.
    ///
    /// ```
    /// use et_model::{GetInstitutions, Payload};
    /// let search = GetInstitutions::new("");
    /// search.validate().unwrap();
    /// assert_eq!(serde_json::to_string(&search).unwrap(),
    ///            r#"{"search_key":"","count":0,"institution_type":1}"#);
    /// ```
    pub struct GetInstitutions {
        /// Text to search for in the institutions' names (empty: all; no
        /// limits are documented, and an empty key is the demo's own request).
        pub search_key: String = "search_key" new,
        /// How many institutions to return; the demo's `0` presumably
        /// means ET's default page size.
        pub count: u32 = "count" default(0),
        /// Which kind of institution ([`InstitutionType::SCHOOL`] in the demo).
        pub institution_type: Option<InstitutionType> = "institution_type"
            default(Some(InstitutionType::SCHOOL)),
    }

    /// The demo's request with `search_key`: ET's default count, schools.
    pub fn new;
}

operation!(GetInstitutions, ServerType::GetInstitutions, Institution, out: Data, ReadOnly);

wire_struct! {
    /// One institution of a [`GetInstitutions`] answer, read from `data`
    /// (our guess: the answer was never published). `institution_code` is
    /// the name the order request uses for the code, so we expect the
    /// answer to use it too; `institution_name_en` / `institution_name_ch`
    /// follow the `_en` / `_ch` pairs of the order request (`city_name_en`);
    /// `country_code` and `institution_type` reuse the request names. All
    /// of these but the code are guesses, optional so that an answer with
    /// other names still reads: anything else ET sends is kept in `extra`.
    pub struct Institution {
        /// The code to send as `institution_code` when creating an order.
        pub institution_code: InstitutionCode = "institution_code",
        /// English name (guessed wire name).
        pub institution_name_en: Option<String> = "institution_name_en",
        /// Chinese name (guessed wire name).
        pub institution_name_ch: Option<String> = "institution_name_ch",
        /// Country the institution is in (guessed wire name).
        pub country_code: Option<CountryCode> = "country_code",
        /// Kind of institution (guessed wire name).
        pub institution_type: Option<InstitutionType> = "institution_type",
    }
}
