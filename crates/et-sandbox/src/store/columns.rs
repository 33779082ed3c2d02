//! Typed columns and the [`record!`] macro: a table's column list, its row
//! mapping and its statement parameters come from one struct declaration.
//!
//! et-model's types ([`OrderStatus`], [`NotificationKind`], [`Amount`])
//! cannot implement rusqlite's traits here (orphan rule), so every column
//! type implements the crate's [`Column`] instead: plain SQLite types by
//! delegation, the domain types by their codes and names. A stored value a
//! type does not read is a [`BadColumn`] error, never a silent default.

use std::fmt;

use et_model::{Amount, NotificationKind, OrderStatus};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::ToSql;

use crate::outbox::DeliveryFailure;

/// A value that goes into and out of one SQLite column as itself.
pub(crate) trait Column: Sized {
    /// The value as SQLite stores it.
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>>;
    /// The value a stored one stands for.
    fn from_column(value: ValueRef<'_>) -> FromSqlResult<Self>;
}

/// A [`Column`] as a statement parameter.
pub(crate) struct Param<'a>(pub &'a dyn ColumnParam);

/// The object-safe half of [`Column`].
pub(crate) trait ColumnParam {
    fn param(&self) -> rusqlite::Result<ToSqlOutput<'_>>;
}

impl<T: Column> ColumnParam for T {
    fn param(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.to_column()
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.0.param()
    }
}

/// Reads column `index` of a row as a [`Column`].
pub(crate) fn get<T: Column>(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<T> {
    let value = row.get_ref(index)?;
    T::from_column(value).map_err(|e| match e {
        FromSqlError::InvalidType => {
            rusqlite::Error::InvalidColumnType(index, String::new(), value.data_type())
        }
        FromSqlError::Other(cause) => {
            rusqlite::Error::FromSqlConversionFailure(index, value.data_type(), cause)
        }
        other => {
            rusqlite::Error::FromSqlConversionFailure(index, value.data_type(), Box::new(other))
        }
    })
}

/// A stored value its column's type does not read: which type, and the
/// value (at most 64 characters of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadColumn {
    /// The type the column holds.
    pub ty: &'static str,
    /// The value found.
    pub found: String,
}

impl fmt::Display for BadColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stored {:?} is no {}", self.found, self.ty)
    }
}

impl std::error::Error for BadColumn {}

fn bad(ty: &'static str, found: &str) -> FromSqlError {
    FromSqlError::Other(Box::new(BadColumn {
        ty,
        found: found.chars().take(64).collect(),
    }))
}

/// Types SQLite stores as they are: their rusqlite impls.
macro_rules! plain_columns {
    ($($ty:ty),* $(,)?) => {$(
        impl Column for $ty {
            fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                self.to_sql()
            }
            fn from_column(value: ValueRef<'_>) -> FromSqlResult<Self> {
                FromSql::column_result(value)
            }
        }
    )*};
}

plain_columns!(
    String,
    i64,
    bool,
    Vec<u8>,
    Option<String>,
    Option<i64>,
    Option<u16>
);

/// A status by its code.
impl Column for OrderStatus {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.code()))
    }
    fn from_column(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(OrderStatus::from_code)
    }
}

/// No status is `NULL`.
impl Column for Option<OrderStatus> {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Some(status) => ToSqlOutput::from(status.code()),
            None => ToSqlOutput::Owned(rusqlite::types::Value::Null),
        })
    }
    fn from_column(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Option::<i64>::column_result(value).map(|code| code.map(OrderStatus::from_code))
    }
}

/// A kind by its name (`payment_success`, …).
impl Column for NotificationKind {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
    fn from_column(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let name = value.as_str()?;
        NotificationKind::from_code(name).ok_or_else(|| bad("notification kind", name))
    }
}

/// An amount by its exact decimal text.
impl Column for Amount {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
    fn from_column(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Amount::new(text).map_err(|_| bad("amount", text))
    }
}

/// No amount is `''` (the columns are `NOT NULL DEFAULT ''`).
impl Column for Option<Amount> {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_ref().map_or("", Amount::as_str)))
    }
    fn from_column(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value.as_str()? {
            "" => Ok(None),
            _ => Amount::from_column(value).map(Some),
        }
    }
}

/// An acknowledged attempt is `''`, a failed one its failure's name.
impl Column for Option<DeliveryFailure> {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.map_or("", DeliveryFailure::as_str)))
    }
    fn from_column(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value.as_str()? {
            "" => Ok(None),
            name => DeliveryFailure::from_code(name)
                .map(Some)
                .ok_or_else(|| bad("delivery failure", name)),
        }
    }
}

/// A row of a table: its columns in field order, each a [`Column`].
pub(crate) trait Record: Sized {
    /// The columns, in field order.
    const COLUMNS: &'static [&'static str];

    /// The record in `row`, its columns from index `first` on.
    fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self>;

    /// Every field as a statement parameter, `?1` … in field order.
    fn params(&self) -> Vec<Param<'_>>;

    /// [`COLUMNS`](Self::COLUMNS) as a select list.
    fn columns() -> String {
        Self::COLUMNS.join(", ")
    }
}

/// Declares a struct whose fields are its table's columns, in order, each
/// a [`Column`], and its [`Record`] impl: the column list, the row mapping
/// and the parameters come from the one declaration.
macro_rules! record {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $ty, )*
        }

        impl $crate::store::columns::Record for $name {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
                let mut index = first;
                let mut next = || {
                    index += 1;
                    index - 1
                };
                Ok($name {
                    $( $field: $crate::store::columns::get(row, next())?, )*
                })
            }

            fn params(&self) -> Vec<$crate::store::columns::Param<'_>> {
                vec![$( $crate::store::columns::Param(&self.$field) ),*]
            }
        }
    };
}

pub(crate) use record;

/// `INSERT INTO table (COLUMNS) VALUES (?1, …, ?N)`.
pub(crate) fn insert_sql(table: &str, columns: &[&str]) -> String {
    let places: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        places.join(", ")
    )
}
