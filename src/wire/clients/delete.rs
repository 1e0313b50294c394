//! DeleteUserPoolClient: its input; the operation has no output (R-WIRE-1, R-CLI-6).

use serde::{Deserialize, Serialize};

/// DeleteUserPoolClient input. The operation has no output; an endpoint answers `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteUserPoolClientRequest {
    /// `UserPoolId` (required).
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `ClientId` (required).
    #[serde(rename = "ClientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}
