//! ListUserPoolClients: its input, its output and the entry it lists (R-WIRE-1, R-CLI-7).

use serde::{Deserialize, Serialize};

/// ListUserPoolClients input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListUserPoolClientsRequest {
    /// `UserPoolId` (required).
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `MaxResults` (1..=60). Defaults to 60.
    #[serde(rename = "MaxResults", skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i64>,
    /// `NextToken`: the opaque token of the previous page.
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// `ClientType` filter: `REGULAR` or `DCR` (this crate creates only REGULAR clients).
    #[serde(rename = "ClientType", skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
}

/// `UserPoolClientDescription`: one entry of ListUserPoolClients (R-CLI-7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPoolClientDescription {
    /// `ClientId`.
    #[serde(rename = "ClientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `UserPoolId`.
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `ClientName`.
    #[serde(rename = "ClientName", skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

/// ListUserPoolClients output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListUserPoolClientsResponse {
    /// `UserPoolClients`.
    #[serde(rename = "UserPoolClients", skip_serializing_if = "Option::is_none")]
    pub user_pool_clients: Option<Vec<UserPoolClientDescription>>,
    /// `NextToken`: present when more clients follow.
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}
