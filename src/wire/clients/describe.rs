//! DescribeUserPoolClient: its input and output (R-WIRE-1, R-CLI-5).

use serde::{Deserialize, Serialize};

use super::shapes::UserPoolClientType;

/// DescribeUserPoolClient input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribeUserPoolClientRequest {
    /// `UserPoolId` (required).
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `ClientId` (required).
    #[serde(rename = "ClientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// DescribeUserPoolClient output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribeUserPoolClientResponse {
    /// `UserPoolClient`.
    #[serde(rename = "UserPoolClient", skip_serializing_if = "Option::is_none")]
    pub user_pool_client: Option<UserPoolClientType>,
}
