//! One enum per documented code list (02-constants.md), each keeping codes
//! it does not know, and newtypes for the lists whose values the public
//! pages do not show.
//!
//! Readers are tolerant (an integer code reads from `2` or `"2"`), writers
//! are exact (the documented JSON type).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Reads an integer code from a JSON number or a numeric string.
struct IntCodeVisitor(&'static str);

impl Visitor<'_> for IntCodeVisitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} as an integer or a numeric string", self.0)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format_args!("{} {v} is out of range", self.0)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // `2.0` from a lossy source still means code 2; `2.5` is no code.
        // The range check stops `1e19` saturating to `i64::MAX`.
        let whole = v as i64;
        if (i64::MIN as f64..i64::MAX as f64).contains(&v) && whole as f64 == v {
            Ok(whole)
        } else {
            Err(E::custom(format_args!("{} {v} is not an integer", self.0)))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format_args!("{} {v:?} is not an integer code", self.0)))
    }
}

/// Reads an integer code (number or numeric string); used by every integer code type.
fn read_int_code<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<i64, D::Error> {
    d.deserialize_any(IntCodeVisitor(what))
}

/// Reads a string code from a JSON string, or a number taken as its text,
/// and hands it to `F` (borrowed: a known code costs no allocation).
struct StrCodeVisitor<F>(&'static str, F);

impl<T, F: FnOnce(&str) -> T> Visitor<'_> for StrCodeVisitor<F> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} as a string", self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.1)(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok((self.1)(&v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok((self.1)(&v.to_string()))
    }
}

/// Reads a string code into `T` with `from_code`; used by every string code type.
pub(crate) fn read_str_code<'de, D: Deserializer<'de>, T>(
    d: D,
    what: &'static str,
    from_code: impl FnOnce(&str) -> T,
) -> Result<T, D::Error> {
    d.deserialize_any(StrCodeVisitor(what, from_code))
}

/// Declares an integer code enum with an `Other(i64)` variant.
macro_rules! int_code {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal => $meaning:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("\n\nCode `", $code, "`: ", $meaning, ".")] $variant, )*
            /// A code this version does not know, kept as received.
            Other(i64),
        }

        impl $name {
            /// Every documented value, in the order of ET's table.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The numeric code.
            pub fn code(self) -> i64 {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Other(code) => code,
                }
            }

            /// The value for `code`; unknown codes become `Other(code)`.
            pub fn from_code(code: i64) -> Self {
                match code {
                    $( $code => $name::$variant, )*
                    other => $name::Other(other),
                }
            }

            /// ET's meaning of the code, or `None` for an unknown code.
            pub fn meaning(self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some($meaning), )*
                    $name::Other(_) => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.meaning() {
                    Some(meaning) => f.write_str(meaning),
                    None => write!(f, concat!("unknown ", $what, " {}"), self.code()),
                }
            }
        }

        impl From<i64> for $name {
            fn from(code: i64) -> Self {
                $name::from_code(code)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                read_int_code(d, $what).map($name::from_code)
            }
        }

        impl $crate::wire::FieldValue for $name {}
    };
}

/// Declares a closed enum of string names (no `Other`: a name outside the
/// list is no value of it), each variant's name written once: the enum
/// (`Debug`, `Clone`, `Copy`, `Eq`, `Hash`), `ALL`, `as_str()` (the name),
/// `from_code(name)` (the one lookup verb), `Display` (the name, or the
/// text after `=>`) and serde as the name.
///
/// ```
/// et_model::name_enum! {
///     /// How a test went.
///     pub enum Outcome ("outcome") {
///         /// It passed.
///         Passed = "passed",
///         /// It failed.
///         Failed = "failed" => "it failed",
///     }
/// }
/// assert_eq!(Outcome::from_code("failed"), Some(Outcome::Failed));
/// assert_eq!(Outcome::Passed.to_string(), "passed");
/// assert_eq!(Outcome::Failed.to_string(), "it failed");
/// assert_eq!(serde_json::to_string(&Outcome::ALL).unwrap(), r#"["passed","failed"]"#);
/// assert!(serde_json::from_str::<Outcome>(r#""other""#).is_err());
/// ```
#[macro_export]
macro_rules! name_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal $(=> $display:literal)?, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; <[()]>::len(&[$($crate::name_enum!(@unit $variant)),*])] =
                [$($name::$variant),*];

            /// The name, as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )*
                }
            }

            /// The value named `code`, if any.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $( $code => Some($name::$variant), )*
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(match self {
                    $( $name::$variant => $crate::name_enum!(@display $code $(, $display)?), )*
                })
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = <::std::borrow::Cow<'de, str> as $crate::__serde::Deserialize>::deserialize(d)?;
                $name::from_code(&name).ok_or_else(|| {
                    <D::Error as $crate::__serde::de::Error>::custom(
                        format_args!(concat!("unknown ", $what, " {:?}"), name),
                    )
                })
            }
        }
    };
    (@unit $variant:ident) => { () };
    (@display $code:literal) => { $code };
    (@display $code:literal, $display:literal) => { $display };
}

/// Declares a string code enum with an `Other(..)` variant.
macro_rules! str_code {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal, $other:ty) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal => $meaning:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("\n\nCode `", $code, "`: ", $meaning, ".")] $variant, )*
            /// A code this version does not know, kept as received.
            Other($other),
        }

        impl $name {
            /// Every documented value, in the order of ET's table.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The code as it goes on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Other(code) => code.as_ref(),
                }
            }

            /// The value for `code`; unknown codes become `Other`.
            pub fn from_code(code: &str) -> Self {
                match code {
                    $( $code => $name::$variant, )*
                    other => $name::Other(other.to_owned().into()),
                }
            }

            /// ET's meaning of the code, or `None` for an unknown code.
            pub fn meaning(&self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some($meaning), )*
                    $name::Other(_) => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.meaning() {
                    Some(meaning) => f.write_str(meaning),
                    None => write!(f, concat!("unknown ", $what, " {:?}"), self.as_str()),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(code: &str) -> Result<Self, Self::Err> {
                Ok($name::from_code(code))
            }
        }

        impl From<&str> for $name {
            fn from(code: &str) -> Self {
                $name::from_code(code)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                read_str_code(d, $what, $name::from_code)
            }
        }

        impl $crate::wire::FieldValue for $name {
            fn texts(&self) -> impl Iterator<Item = (Option<usize>, &str)> {
                std::iter::once((None, self.as_str()))
            }
        }
    };
}

int_code! {
    /// `order_status`: where an order is in its life (order_status description,
    /// doc-3357587). Documented as integers; the v2 status-change
    /// notification sends them as strings, so both read.
    pub enum OrderStatus ("order status") {
        /// Order created, not yet paid.
        AwaitingPayment = 0 => "awaiting payment",
        /// Payment succeeded.
        Paid = 1 => "payment succeeded",
        /// ET is sending the money out.
        Remitting = 2 => "remittance in progress",
        /// Waiting for the recipient (school, landlord) to receive the funds.
        AwaitingReceipt = 3 => "awaiting receipt by the recipient",
        /// Order completed.
        Completed = 4 => "order completed",
        /// Order closed (for example unpaid after 7 days).
        Closed = -1 => "order closed",
        /// Refund completed.
        Refunded = -2 => "refund completed",
        /// Refund in progress.
        Refunding = -3 => "refund in progress",
    }
}

impl OrderStatus {
    /// Whether no further change is expected (completed, closed, refunded);
    /// our reading of the table, not an ET statement.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Completed | OrderStatus::Closed | OrderStatus::Refunded
        )
    }
}

int_code! {
    /// `attachment_type`: the kind of document uploaded (attachment_type
    /// description, doc-3357590, 2025-04-23; 13 codes, sparse).
    pub enum AttachmentType ("attachment type") {
        /// Student offer letter.
        OfferLetter = 1 => "student offer letter",
        /// Contract.
        Contract = 2 => "contract",
        /// Invoice or bill.
        Invoice = 3 => "invoice",
        /// Chinese national ID card, front.
        ChineseIdFront = 4 => "Chinese national ID card (front)",
        /// Chinese national ID card, back.
        ChineseIdBack = 5 => "Chinese national ID card (back)",
        /// Passport photo page.
        PassportFront = 6 => "passport (front)",
        /// Passport back.
        PassportBack = 7 => "passport (back)",
        /// Student selfie photo.
        StudentSelfie = 164 => "student selfie photo",
        /// Indian AADHAAR card, front.
        AadhaarFront = 170 => "Indian AADHAAR card (front)",
        /// Indian AADHAAR card, back.
        AadhaarBack = 178 => "Indian AADHAAR card (back)",
        /// Indian PAN card.
        PanCard = 171 => "Indian PAN card",
        /// Indian loan sanction letter.
        LoanSanctionLetter = 172 => "Indian loan sanction letter",
        /// Indian loan disbursement letter.
        LoanDisbursementLetter = 250 => "Indian loan disbursement letter",
    }
}

int_code! {
    /// `pay_result` of the payment-success notification (v1 and v2).
    pub enum PayResult ("pay result") {
        /// Payment failed.
        Failed = 0 => "payment failed",
        /// Payment succeeded.
        Succeeded = 1 => "payment succeeded",
    }
}

int_code! {
    /// `refund_result` of the refund-result notification.
    pub enum RefundResult ("refund result") {
        /// Refund failed.
        Failed = 0 => "refund failed",
        /// Refund succeeded.
        Succeeded = 1 => "refund succeeded",
    }
}

int_code! {
    /// `callback_process` of the request envelope; `1` must be arranged with ET.
    #[derive(Default)]
    pub enum CallbackProcess ("callback process") {
        /// No special handling (what we send).
        #[default]
        Normal = 0 => "no special handling",
        /// Special handling, as agreed with ET.
        Special = 1 => "special handling",
    }
}

str_code! {
    /// `notify_type` of a notification. Only the order-status-change
    /// notification is documented to carry one.
    pub enum NotifyType ("notify type", String) {
        /// Order status change (v2).
        OrderStatusChange = "order_status_change" => "order status change",
    }
}

str_code! {
    /// `status_code` of every synchronous response: a six-digit string
    /// (compare as text; leading zeros matter). Only two codes are public.
    /// Called `ReplyCode` so that it never reads as `http::StatusCode`, the
    /// HTTP status the same reply arrives with.
    pub enum ReplyCode ("status code", String) {
        /// Success.
        Success = "000000" => "success",
        /// The order is not awaiting payment, so no payment address can be issued.
        OrderNotAwaitingPayment = "200003" => "order is not awaiting payment",
    }
}

impl ReplyCode {
    /// Whether the call succeeded (`"000000"`).
    pub fn is_success(&self) -> bool {
        *self == ReplyCode::Success
    }
}

str_code! {
    /// `server_type`: which operation a request asks for. Names ET has not
    /// published are `Other` values, which can be constants because the
    /// payload is a `Cow<'static, str>`.
    pub enum ServerType ("server type", Cow<'static, str>) {
        /// Create an order (the name on the newest page; the default).
        CreateOrder = "create_order" => "create order",
        /// Create an order (the name on older pages; still accepted).
        AddSpecialRentOrder = "add_special_rent_order" => "create order (legacy name)",
        /// Upload an attachment.
        UploadAttachment = "upload_attachment" => "upload attachment",
        /// Get the payment address of an order.
        GetSpecialPayUrl = "get_special_pay_url" => "get payment address",
        /// Query orders in a batch.
        BatchSpecialQueryOrderInfo = "batch_special_query_order_info" => "batch order query",
        /// Get an exchange rate.
        GetRate = "get_rate" => "get exchange rate",
        /// Search ET's institution directory (the call ET's Python demo makes).
        GetInstitutions = "get_institutions" => "get institutions",
        /// Send the student to ET to place the order there (third-party jump ordering, Chinese pages).
        MerchantJumpPlaceOrder = "merchant_jump_place_order" => "third-party jump ordering",
    }
}

str_code! {
    /// `country_code` / `source_country_code`: ISO 3166-1 alpha-3 style
    /// codes (at most [`COUNTRY_CODE_MAX`](crate::limits::COUNTRY_CODE_MAX)
    /// characters). ET's list is cut off after `LUX` in every
    /// copy we have; other codes are `Other` and are sent as given.
    pub enum CountryCode ("country code", String) {
        /// The United Kingdom.
        Gbr = "GBR" => "The United Kingdom",
        /// United States.
        Usa = "USA" => "America",
        /// Spain.
        Esp = "ESP" => "Spain",
        /// Sweden.
        Swe = "SWE" => "Sweden",
        /// Canada.
        Can = "CAN" => "Canada",
        /// Portugal.
        Prt = "PRT" => "Portugal",
        /// Australia.
        Aus = "AUS" => "Australia",
        /// Japan.
        Jpn = "JPN" => "Japan",
        /// Germany.
        Deu = "DEU" => "Germany",
        /// Denmark.
        Dnk = "DNK" => "Denmark",
        /// France.
        Fra = "FRA" => "France",
        /// Netherlands.
        Nld = "NLD" => "Netherlands",
        /// Hong Kong SAR.
        Hkg = "HKG" => "Hong Kong, China, SAR",
        /// Italy.
        Ita = "ITA" => "Italy",
        /// Switzerland.
        Che = "CHE" => "Switzerland",
        /// Hungary.
        Hun = "HUN" => "Hungary",
        /// Singapore.
        Sgp = "SGP" => "Singapore",
        /// Ireland.
        Irl = "IRL" => "Ireland",
        /// Finland.
        Fin = "FIN" => "Finland",
        /// Republic of Korea.
        Kor = "KOR" => "Republic of Korea",
        /// New Zealand.
        Nzl = "NZL" => "New Zealand",
        /// Belgium.
        Bel = "BEL" => "The Kingdom Of Belgium",
        /// Thailand.
        Tha = "THA" => "Thailand",
        /// Malaysia.
        Mys = "MYS" => "Malaysia",
        /// Taiwan.
        Twn = "TWN" => "Taiwan China",
        /// Lithuania.
        Ltu = "LTU" => "Republic of Lithuania",
        /// Macao SAR.
        Mac = "MAC" => "Macao China SAR",
        /// China.
        Chn = "CHN" => "China",
        /// Jordan.
        Jor = "JOR" => "The Hashemite Kingdom of Jordan",
        /// Malta.
        Mlt = "MLT" => "Malta",
        /// Poland.
        Pol = "POL" => "Poland",
        /// Austria.
        Aut = "AUT" => "Austria",
        /// Vietnam.
        Vnm = "VNM" => "Vietnam",
        /// Czech Republic.
        Cze = "CZE" => "Czech Republic",
        /// Estonia.
        Est = "EST" => "Estonia",
        /// United Arab Emirates.
        Are = "ARE" => "United Arab Emirates",
        /// Cyprus.
        Cyp = "CYP" => "Cyprus",
        /// Luxembourg.
        Lux = "LUX" => "Luxembourg",
    }
}

/// Implements `Display`, `From<&str>` (`$from`), `Serialize` and
/// `Deserialize` (`$read`, by default `$from`: from the text read, a number
/// read as its text) for a newtype over a string code with an `as_str`.
macro_rules! str_newtype {
    ($name:ident ($what:literal), $from:expr) => {
        $crate::codes::str_newtype!($name($what), $from, $from);
    };
    ($name:ident ($what:literal), $from:expr, $read:expr) => {
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(code: &str) -> Self {
                ($from)(code)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::codes::read_str_code(d, $what, $read)
            }
        }
    };
}
pub(crate) use str_newtype;

/// Declares a newtype over an integer code whose value list ET has not
/// published; reads `2` or `"2"`, writes a JSON number.
macro_rules! int_newtype {
    ($(#[$meta:meta])* pub struct $name:ident ($what:literal);) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl $name {
            /// The numeric code.
            pub fn code(self) -> i64 {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!($what, " {}"), self.0)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                read_int_code(d, $what).map($name)
            }
        }

        impl $crate::wire::FieldValue for $name {}
    };
}

int_newtype! {
    /// `pay_type` of a [`PayConfig`](crate::PayConfig): an integer (seed
    /// `002_…`) whose value table ("pay_type description") is not public,
    /// so no value is named.
    pub struct PayType ("pay type");
}

int_newtype! {
    /// `id_type` of the student's ID document: an integer (order page) whose
    /// table ("ID type Description") is not public, so no value is named.
    pub struct IdType ("ID type");
}

int_newtype! {
    /// `price_mode` ("pricing model") of an order: an integer whose table is
    /// not public, so no value is named.
    pub struct PriceMode ("price mode");
}

int_newtype! {
    /// `institution_type` of an institution search: an integer whose table is
    /// not public. ET's Python demo sends `1`, the one value named here.
    pub struct InstitutionType ("institution type");
}

impl InstitutionType {
    /// `1`: the value ET's Python demo searches with. That it means schools
    /// is our reading (the demo looks up universities), not an ET statement.
    pub const SCHOOL: InstitutionType = InstitutionType(1);
}

/// A code whose JSON type ET has not published: kept as the number or the
/// string it arrived as, and written back the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UntypedCode {
    /// Arrived as a JSON number.
    Int(i64),
    /// Arrived as a JSON string.
    Text(String),
}

impl fmt::Display for UntypedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UntypedCode::Int(code) => write!(f, "{code}"),
            UntypedCode::Text(code) => f.write_str(code),
        }
    }
}

impl Serialize for UntypedCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            UntypedCode::Int(code) => s.serialize_i64(*code),
            UntypedCode::Text(code) => s.serialize_str(code),
        }
    }
}

/// Reads a [`UntypedCode`] as whichever JSON type it arrived as.
struct UntypedCodeVisitor;

impl Visitor<'_> for UntypedCodeVisitor {
    type Value = UntypedCode;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string code")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<UntypedCode, E> {
        Ok(UntypedCode::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<UntypedCode, E> {
        IntCodeVisitor("code").visit_u64(v).map(UntypedCode::Int)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<UntypedCode, E> {
        Ok(UntypedCode::Text(v.to_owned()))
    }
}

impl<'de> Deserialize<'de> for UntypedCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UntypedCodeVisitor)
    }
}

/// Declares a newtype over a [`UntypedCode`] for a list whose values and JSON
/// type ET has not published.
macro_rules! untyped_newtype {
    ($(#[$meta:meta])* pub struct $name:ident ($what:literal);) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub UntypedCode);

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!($what, " {}"), self.0)
            }
        }

        impl $crate::wire::FieldValue for $name {}
    };
}

untyped_newtype! {
    /// `fee_type` of a fee item ("payment purpose"): table and JSON type not
    /// public, so the code is kept as received.
    pub struct FeeType ("fee type");
}

untyped_newtype! {
    /// Gender code ("Gender Description"): table, JSON type and field name
    /// not public; pass the field through `extra` until they are.
    pub struct Gender ("gender");
}

untyped_newtype! {
    /// Funding-source code ("Funding Source Description"): table, JSON type
    /// and field name not public; pass the field through `extra`.
    pub struct FundingSource ("funding source");
}

untyped_newtype! {
    /// Payer-relationship-to-student code: table, JSON type and field name
    /// not public; pass the field through `extra`.
    pub struct PayerRelationship ("payer relationship");
}

/// `currency_code` / `pay_currency_code`: a string code. ET's table is not
/// public; the only documented value is `RMB` (the payment-success
/// notification's default), so ET may use `RMB` rather than ISO `CNY`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode(pub Cow<'static, str>);

impl CurrencyCode {
    /// Chinese yuan as ET writes it (documented default of `pay_currency_code`).
    pub const RMB: CurrencyCode = CurrencyCode(Cow::Borrowed("RMB"));

    /// A currency code as given (for example `"GBP"`).
    pub fn new(code: impl Into<Cow<'static, str>>) -> Self {
        CurrencyCode(code.into())
    }

    /// The code as it goes on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How many decimal places an amount in this currency may have: ISO
    /// 4217's minor unit (0 for `JPY` or `KRW`, 3 for `KWD` or `BHD`), and
    /// [`DEFAULT_DECIMAL_PLACES`] for every other code, `RMB` included. ET
    /// publishes no table of its own; a request's
    /// [`validate`](crate::Payload::validate) refuses an amount with more.
    pub fn decimal_places(&self) -> u32 {
        let code = self.as_str();
        let listed = |codes: &[&str]| codes.iter().any(|c| c.eq_ignore_ascii_case(code));
        if listed(&NO_DECIMALS) {
            0
        } else if listed(&THREE_DECIMALS) {
            3
        } else if listed(&FOUR_DECIMALS) {
            4
        } else {
            DEFAULT_DECIMAL_PLACES
        }
    }
}

/// The decimal places of an amount in a currency ISO 4217 does not list
/// otherwise, or in no named currency at all: cents.
pub const DEFAULT_DECIMAL_PLACES: u32 = 2;

/// ISO 4217 currencies without a minor unit.
const NO_DECIMALS: [&str; 17] = [
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
/// ISO 4217 currencies with three decimal places.
const THREE_DECIMALS: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
/// ISO 4217 units of account with four decimal places.
const FOUR_DECIMALS: [&str; 2] = ["CLF", "UYW"];

/// Codes read without an allocation of their own (a batch answer carries
/// one per order); any other code is kept as an owned string. ET's yuan
/// (`RMB`, and ISO's `CNY`) and the currencies of the destinations its
/// payers study in.
const COMMON_CURRENCIES: [&str; 22] = [
    "RMB", "CNY", "GBP", "USD", "EUR", "AUD", "CAD", "NZD", "HKD", "SGD", "JPY", "KRW", "CHF",
    "SEK", "DKK", "NOK", "MYR", "THB", "MOP", "INR", "AED", "RUB",
];

str_newtype!(
    CurrencyCode("currency code"),
    |code: &str| CurrencyCode(Cow::Owned(code.to_owned())),
    |code: &str| {
        let common = COMMON_CURRENCIES.iter().find(|common| **common == code);
        CurrencyCode(common.map_or_else(|| Cow::Owned(code.to_owned()), |c| Cow::Borrowed(*c)))
    }
);

impl crate::wire::FieldValue for CurrencyCode {
    fn texts(&self) -> impl Iterator<Item = (Option<usize>, &str)> {
        std::iter::once((None, self.as_str()))
    }
    fn currency(&self) -> Option<&CurrencyCode> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_read_exactly_and_common_ones_without_a_copy() {
        let read = |json: &str| serde_json::from_str::<CurrencyCode>(json).unwrap().0;
        assert!(matches!(read("\"GBP\""), Cow::Borrowed("GBP")));
        assert!(matches!(read("\"RMB\""), Cow::Borrowed("RMB")));
        for (json, code) in [("\"XBT\"", "XBT"), ("\"gbp\"", "gbp"), ("826", "826")] {
            assert!(
                matches!(read(json), Cow::Owned(owned) if owned == code),
                "{json}"
            );
        }
        assert!(COMMON_CURRENCIES
            .iter()
            .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn integer_codes_read_numbers_and_numeric_strings() {
        for input in ["2", "\"2\"", "\" 2 \"", "2.0"] {
            assert_eq!(
                serde_json::from_str::<OrderStatus>(input).unwrap(),
                OrderStatus::Remitting,
                "{input}"
            );
        }
        assert_eq!(
            serde_json::from_str::<OrderStatus>("\"-1\"").unwrap(),
            OrderStatus::Closed
        );
        assert_eq!(serde_json::to_string(&OrderStatus::Closed).unwrap(), "-1");
        for bad in [
            "\"two\"",
            "2.5",
            "null",
            "18446744073709551615",
            "9223372036854775808.0",
        ] {
            assert!(serde_json::from_str::<OrderStatus>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_codes_are_kept() {
        let status: OrderStatus = serde_json::from_str("\"9\"").unwrap();
        assert_eq!(status, OrderStatus::Other(9));
        assert_eq!(serde_json::to_string(&status).unwrap(), "9");
        assert_eq!(status.to_string(), "unknown order status 9");
        let code: ReplyCode = serde_json::from_str("\"100001\"").unwrap();
        assert_eq!(code, ReplyCode::Other("100001".into()));
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"100001\"");
    }

    #[test]
    fn every_documented_code_maps_back_and_displays_its_meaning() {
        assert_eq!(OrderStatus::ALL.len(), 8);
        assert_eq!(AttachmentType::ALL.len(), 13);
        assert_eq!(CountryCode::ALL.len(), 38);
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::from_code(status.code()), *status);
            assert!(!status.to_string().starts_with("unknown"));
        }
        for kind in AttachmentType::ALL {
            assert_eq!(AttachmentType::from_code(kind.code()), *kind);
        }
        assert_eq!(AttachmentType::LoanDisbursementLetter.code(), 250);
        assert_eq!(ReplyCode::Success.as_str(), "000000");
        assert!(ReplyCode::from_code("000000").is_success());
        assert_eq!(
            ReplyCode::OrderNotAwaitingPayment.to_string(),
            "order is not awaiting payment"
        );
        assert_eq!(ServerType::from_code("get_rate"), ServerType::GetRate);
        assert!(OrderStatus::Refunded.is_terminal() && !OrderStatus::Paid.is_terminal());
        assert_eq!(CallbackProcess::default().code(), 0);
    }

    #[test]
    fn string_codes_read_numbers_as_text() {
        assert_eq!(
            serde_json::from_str::<ReplyCode>("200003").unwrap(),
            ReplyCode::OrderNotAwaitingPayment
        );
        assert_eq!(
            serde_json::from_str::<CurrencyCode>("\"GBP\"").unwrap(),
            CurrencyCode::new("GBP")
        );
        assert_eq!(
            serde_json::to_string(&CurrencyCode::RMB).unwrap(),
            "\"RMB\""
        );
    }

    #[test]
    fn raw_codes_keep_their_json_type() {
        for input in ["3", "\"3\"", "\"TUITION\""] {
            let fee: FeeType = serde_json::from_str(input).unwrap();
            assert_eq!(serde_json::to_string(&fee).unwrap(), input);
        }
        assert_eq!(
            serde_json::from_str::<PayType>("\"1\"").unwrap(),
            PayType(1)
        );
        assert_eq!(PayType(1).to_string(), "pay type 1");
    }
}
