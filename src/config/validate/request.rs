//! The members of a client request that are not part of a configuration: the pool and client ids
//! (R-CFG-1, R-CFG-2) and ListUserPoolClients' paging and filter.

use crate::error::Violation;

use super::check::{
    check_enum, check_int, check_secret_string, check_string, missing, At, CLIENT_ID_TYPE,
    PAGINATION_KEY, USER_POOL_ID_TYPE,
};

/// `UserPoolId`: required (R-CFG-1), UserPoolIdType (R-CFG-2).
pub(crate) fn check_user_pool_id(out: &mut Vec<Violation>, id: Option<&str>) -> bool {
    match id {
        None => {
            missing(out, 1, "UserPoolId");
            false
        }
        Some(id) => check_string(out, At::member(2, "UserPoolId"), id, USER_POOL_ID_TYPE),
    }
}

/// `ClientId`: required (R-CFG-1), ClientIdType (R-CFG-2).
pub(crate) fn check_client_id(out: &mut Vec<Violation>, id: Option<&str>) -> bool {
    match id {
        None => {
            missing(out, 1, "ClientId");
            false
        }
        Some(id) => check_secret_string(out, At::member(2, "ClientId"), id, CLIENT_ID_TYPE),
    }
}

/// `MaxResults` of ListUserPoolClients: QueryLimit 1..=60.
pub(crate) fn check_max_results(out: &mut Vec<Violation>, v: i64) -> Option<usize> {
    check_int(out, At::member(2, "MaxResults"), v, 1, 60).and_then(|v| usize::try_from(v).ok())
}

/// `NextToken`: PaginationKey (1..=131072, `[\S]+`).
pub(crate) fn check_next_token(out: &mut Vec<Violation>, token: &str) -> bool {
    check_string(out, At::member(2, "NextToken"), token, PAGINATION_KEY)
}

/// `ClientType` filter of ListUserPoolClients: `REGULAR` or `DCR`; returns whether DCR was asked for.
pub(crate) fn check_client_type(out: &mut Vec<Violation>, v: &str) -> Option<bool> {
    check_enum(
        out,
        At::member(2, "ClientType"),
        v,
        (
            |s| match s {
                "REGULAR" => Some(false),
                "DCR" => Some(true),
                _ => None,
            },
            &["REGULAR", "DCR"],
        ),
    )
}
