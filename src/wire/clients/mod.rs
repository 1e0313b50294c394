//! Cognito's five client operations (CreateUserPoolClient, DescribeUserPoolClient,
//! UpdateUserPoolClient, DeleteUserPoolClient, ListUserPoolClients), exactly as AWS writes them
//! (R-WIRE-1).
//!
//! Requests are parsed leniently where Cognito itself reports errors (enum members are strings, integers
//! any `i64`), so that an invalid value is reported by the configuration validator together with every
//! other violation, in AWS's words; they are strict about shape: an unknown member is refused with an
//! error that names it (R-CFG-16). Parse request bodies with [`from_json`](crate::wire::from_json),
//! which also bounds their size. The secret member `ClientSecret` is a [`WireClientSecret`], whose
//! `Debug` is redacted.
//!
//! The operations themselves are [`UserPoolClientOperations`], an extension trait of the
//! [`ClientRegistry`](crate::ClientRegistry): the registry speaks typed Rust and never imports this
//! adapter (R-ENG-3).
//!
//! One file per operation holds its input and output; `shapes` the shapes they share; `convert` the
//! conversions to and from the core's types; `operations` the operations over the registry.

mod convert;
mod create;
mod delete;
mod describe;
mod list;
mod operations;
mod shapes;
mod update;

pub use create::{CreateUserPoolClientRequest, CreateUserPoolClientResponse};
pub use delete::DeleteUserPoolClientRequest;
pub use describe::{DescribeUserPoolClientRequest, DescribeUserPoolClientResponse};
pub use list::{
    ListUserPoolClientsRequest, ListUserPoolClientsResponse, UserPoolClientDescription,
};
pub use operations::{ToWire, UserPoolClientOperations};
pub use shapes::{
    AnalyticsConfigurationType, RefreshTokenRotationType, TokenValidityUnitsType,
    UserPoolClientType, WireClientSecret,
};
pub use update::{UpdateUserPoolClientRequest, UpdateUserPoolClientResponse};
