//! The five client operations in Cognito's JSON shapes, over the registry's Rust API.
//!
//! The registry knows app clients, not Cognito's request shapes (R-ENG-3): this adapter checks a
//! request's own members (pool id, client id, paging, the Create-only secret members), turns its
//! configuration members into the validator's input, and calls the registry. One request gets one
//! report: the adapter's violations and the configuration's are collected in one list, in the order
//! AWS reports them, so the registry validates through a crate-internal entry point that appends to
//! that list instead of answering on its own.

use std::sync::Arc;

use crate::client::AppClient;
use crate::config::{
    check_client_id, check_client_type, check_list_sizes, check_max_results, check_next_token,
    check_secret_request, check_user_pool_id,
};
use crate::error::{Error, Violation};
use crate::future::BoxFuture;
use crate::registry::ClientRegistry;

use super::create::{CreateUserPoolClientRequest, CreateUserPoolClientResponse};
use super::delete::DeleteUserPoolClientRequest;
use super::describe::{DescribeUserPoolClientRequest, DescribeUserPoolClientResponse};
use super::list::{
    ListUserPoolClientsRequest, ListUserPoolClientsResponse, UserPoolClientDescription,
};
use super::shapes::UserPoolClientType;
use super::update::{UpdateUserPoolClientRequest, UpdateUserPoolClientResponse};

/// Page size of ListUserPoolClients when MaxResults is absent.
const DEFAULT_PAGE: usize = 60;

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::registry::ClientRegistry {}
    impl Sealed for crate::client::AppClient {}
}

/// CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient, DeleteUserPoolClient and
/// ListUserPoolClients on a [`ClientRegistry`], taking and returning Cognito's JSON shapes.
///
/// The registry's own API is typed Rust ([`ClientRegistry::create_client`],
/// [`ClientRegistry::update_client_with`], ...); this extension trait is the wire adapter over it.
/// Bring it into scope to call the operations as methods of the registry:
///
/// ```
/// use std::sync::Arc;
/// use refresh_rotation::wire::{
///     CreateUserPoolClientRequest, DescribeUserPoolClientRequest, UserPoolClientOperations as _,
/// };
/// use refresh_rotation::ClientRegistry;
/// use refresh_rotation::clock::SystemClock;
/// use refresh_rotation::random::SystemRandom;
///
/// # fn main() -> Result<(), refresh_rotation::Error> {
/// let registry = ClientRegistry::new(
///     "us-east-1_Example",
///     Arc::new(SystemClock),
///     Arc::new(SystemRandom::new()),
/// );
/// let created = registry.create_user_pool_client(&CreateUserPoolClientRequest {
///     user_pool_id: Some("us-east-1_Example".into()),
///     client_name: Some("web".into()),
///     ..Default::default()
/// })?;
/// let client_id = created.user_pool_client.and_then(|c| c.client_id);
/// let described = registry.describe_user_pool_client(&DescribeUserPoolClientRequest {
///     user_pool_id: Some("us-east-1_Example".into()),
///     client_id: client_id.clone(),
/// })?;
/// assert_eq!(described.user_pool_client.and_then(|c| c.client_id), client_id);
/// # Ok(())
/// # }
/// ```
///
/// Every operation validates first and changes nothing when validation fails; configuration
/// violations are all reported at once ([`Error::InvalidConfig`]), a pool other than the registry's is
/// `ResourceNotFoundException`. The trait is sealed: only the registry implements it.
pub trait UserPoolClientOperations: sealed::Sealed {
    /// CreateUserPoolClient. Reports every violation at once; a wrong pool is
    /// `ResourceNotFoundException`.
    fn create_user_pool_client(
        &self,
        req: &CreateUserPoolClientRequest,
    ) -> Result<CreateUserPoolClientResponse, Error>;

    /// DescribeUserPoolClient. An unknown client is `ResourceNotFoundException` (R-CLI-5).
    fn describe_user_pool_client(
        &self,
        req: &DescribeUserPoolClientRequest,
    ) -> Result<DescribeUserPoolClientResponse, Error>;

    /// UpdateUserPoolClient: full replacement (R-CLI-3). Absent members take their defaults, including
    /// RefreshTokenRotation; an absent ClientName keeps the current name, as it has no default.
    fn update_user_pool_client(
        &self,
        req: &UpdateUserPoolClientRequest,
    ) -> Result<UpdateUserPoolClientResponse, Error>;

    /// DeleteUserPoolClient, as [`ClientRegistry::delete_client`] (R-CLI-6, R-REV-7): refused before
    /// anything is deleted while an asynchronous issuer's family store is linked (use the `_async` form).
    fn delete_user_pool_client(&self, req: &DeleteUserPoolClientRequest) -> Result<(), Error>;

    /// ListUserPoolClients, as [`ClientRegistry::list_clients`] (R-CLI-7). MaxResults defaults to 60.
    fn list_user_pool_clients(
        &self,
        req: &ListUserPoolClientsRequest,
    ) -> Result<ListUserPoolClientsResponse, Error>;

    /// CreateUserPoolClient, awaiting the client store (R-ENG-2): the one implementation, which
    /// [`create_user_pool_client`](Self::create_user_pool_client) polls once.
    fn create_user_pool_client_async<'a>(
        &'a self,
        req: &'a CreateUserPoolClientRequest,
    ) -> BoxFuture<'a, Result<CreateUserPoolClientResponse, Error>>;

    /// DescribeUserPoolClient, awaiting the client store.
    fn describe_user_pool_client_async<'a>(
        &'a self,
        req: &'a DescribeUserPoolClientRequest,
    ) -> BoxFuture<'a, Result<DescribeUserPoolClientResponse, Error>>;

    /// UpdateUserPoolClient, awaiting the client store.
    fn update_user_pool_client_async<'a>(
        &'a self,
        req: &'a UpdateUserPoolClientRequest,
    ) -> BoxFuture<'a, Result<UpdateUserPoolClientResponse, Error>>;

    /// DeleteUserPoolClient, awaiting the client store and the revocation of the client's families in
    /// the family store of every issuer built over the registry, synchronous or asynchronous.
    fn delete_user_pool_client_async<'a>(
        &'a self,
        req: &'a DeleteUserPoolClientRequest,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// ListUserPoolClients, awaiting the client store.
    fn list_user_pool_clients_async<'a>(
        &'a self,
        req: &'a ListUserPoolClientsRequest,
    ) -> BoxFuture<'a, Result<ListUserPoolClientsResponse, Error>>;
}

/// A registered client in Cognito's JSON shape: [`AppClient::to_wire`](ToWire::to_wire).
///
/// Sealed: only [`AppClient`] implements it.
pub trait ToWire: sealed::Sealed {
    /// The client as Describe returns it, its secret included when it has one (as Cognito returns it).
    fn to_wire(&self) -> UserPoolClientType;
}

impl ToWire for AppClient {
    fn to_wire(&self) -> UserPoolClientType {
        UserPoolClientType::from(self)
    }
}

/// `ResourceNotFoundException` unless `user_pool_id` is the registry's pool.
fn check_pool(registry: &ClientRegistry, user_pool_id: Option<&str>) -> Result<(), Error> {
    match user_pool_id {
        Some(id) if id == registry.user_pool_id() => Ok(()),
        other => Err(Error::UserPoolNotFound {
            user_pool_id: other.unwrap_or_default().to_owned(),
        }),
    }
}

/// Whether `out` holds a violation of the API model itself (R-CFG-1 required members, R-CFG-2 lengths,
/// patterns, enums and list sizes). Cognito validates a request against its model before the operation
/// runs, so these come before a pool or client that does not exist (ResourceNotFoundException); the
/// service's own rules (R-CFG-3 and on) are judged after it, in the pool the request names.
fn breaks_model(out: &[Violation]) -> bool {
    // Besides R-CFG-1 and R-CFG-2, some rules also check a member's own model constraint (a secret's
    // pattern, a grace period's range, a list's size).
    out.iter().any(|v| v.rule <= 2 || v.is_model_constraint())
}

/// Checks the ids of a Describe/Update/Delete request and finds the client. `Ok(None)` when the ids are
/// malformed (the violations are in `out`).
async fn locate(
    registry: &ClientRegistry,
    user_pool_id: Option<&str>,
    client_id: Option<&str>,
    out: &mut Vec<Violation>,
) -> Result<Option<Arc<AppClient>>, Error> {
    let pool_ok = check_user_pool_id(out, user_pool_id);
    let client_ok = check_client_id(out, client_id);
    if !(pool_ok && client_ok) {
        return Ok(None);
    }
    check_pool(registry, user_pool_id)?;
    let id = client_id.unwrap_or_default();
    registry.describe_client_async(id).await.map(Some)
}

/// The operations, each written once as an `async fn` over the registry's asynchronous methods.
impl ClientRegistry {
    async fn wire_create_user_pool_client(
        &self,
        req: &CreateUserPoolClientRequest,
    ) -> Result<CreateUserPoolClientResponse, Error> {
        let mut out = Vec::new();
        // R-SAFE-1: an absurdly long list is refused before the request is copied or validated.
        if !check_list_sizes(&mut out, req.lists()) {
            return Err(Error::invalid_config(out));
        }
        let pool_ok = check_user_pool_id(&mut out, req.user_pool_id.as_deref());
        let generate = req.generate_secret.unwrap_or(false);
        let provided = req.client_secret.as_ref().map(|s| s.0.clone());
        check_secret_request(
            &mut out,
            generate,
            provided.as_ref(),
            req.publish_secrets_in_aws_secrets_manager.unwrap_or(false),
        );
        let has_secret = generate || provided.is_some();
        let raw = req.raw_config();
        let scopes = self.scopes_for_async(&raw).await?;
        let config =
            ClientRegistry::validate_in_pool(&raw, &scopes, Some(has_secret), true, &mut out);
        if pool_ok && !breaks_model(&out) {
            check_pool(self, req.user_pool_id.as_deref())?;
        }
        let config = match config {
            Some(config) if out.is_empty() => config,
            _ => return Err(Error::invalid_config(out)),
        };
        let client = self.insert_new_async(config, generate, provided).await?;
        Ok(CreateUserPoolClientResponse {
            user_pool_client: Some(client.to_wire()),
        })
    }

    async fn wire_describe_user_pool_client(
        &self,
        req: &DescribeUserPoolClientRequest,
    ) -> Result<DescribeUserPoolClientResponse, Error> {
        let mut out = Vec::new();
        match locate(
            self,
            req.user_pool_id.as_deref(),
            req.client_id.as_deref(),
            &mut out,
        )
        .await?
        {
            Some(client) => Ok(DescribeUserPoolClientResponse {
                user_pool_client: Some(client.to_wire()),
            }),
            None => Err(Error::invalid_request(out)),
        }
    }

    async fn wire_update_user_pool_client(
        &self,
        req: &UpdateUserPoolClientRequest,
    ) -> Result<UpdateUserPoolClientResponse, Error> {
        let mut out = Vec::new();
        // R-SAFE-1: an absurdly long list is refused before the request is copied or validated.
        if !check_list_sizes(&mut out, req.lists()) {
            return Err(Error::invalid_config(out));
        }
        // A pool or client that does not exist is told only of a request within the model's bounds.
        let (current, missing) = match locate(
            self,
            req.user_pool_id.as_deref(),
            req.client_id.as_deref(),
            &mut out,
        )
        .await
        {
            Ok(current) => (current, None),
            Err(e @ (Error::UserPoolNotFound { .. } | Error::ClientNotFound { .. })) => {
                (None, Some(e))
            }
            Err(e) => return Err(e),
        };
        let mut raw = req.raw_config();
        // R-CLI-3: no ClientName keeps the current one. Validated here with the name as read, and
        // stored with the name the client has then (`store_replacement_async` reads it again).
        let inherit_name = raw.client_name.is_none();
        if inherit_name {
            raw.client_name = current
                .as_ref()
                .map(|c| c.config().client_name().to_owned());
        }
        check_secret_request(
            &mut out,
            false,
            None,
            req.publish_secrets_in_aws_secrets_manager.unwrap_or(false),
        );
        let has_secret = current.as_ref().map(|c| c.secret().is_some());
        let scopes = self.scopes_for_async(&raw).await?;
        let config = ClientRegistry::validate_in_pool(
            &raw,
            &scopes,
            has_secret,
            current.is_some(),
            &mut out,
        );
        match (config, current) {
            (Some(config), Some(current)) if out.is_empty() => {
                let has_secret = current.secret().is_some();
                let client = self
                    .store_replacement_async(current.client_id(), config, has_secret, inherit_name)
                    .await?;
                Ok(UpdateUserPoolClientResponse {
                    user_pool_client: Some(client.to_wire()),
                })
            }
            _ => match missing {
                Some(not_found) if !breaks_model(&out) => Err(not_found),
                _ => Err(Error::invalid_config(out)),
            },
        }
    }

    async fn wire_delete_user_pool_client(
        &self,
        req: &DeleteUserPoolClientRequest,
    ) -> Result<(), Error> {
        let mut out = Vec::new();
        let (pool, id) = (req.user_pool_id.as_deref(), req.client_id.as_deref());
        let pool_ok = check_user_pool_id(&mut out, pool);
        let client_ok = check_client_id(&mut out, id);
        if !(pool_ok && client_ok) {
            return Err(Error::invalid_request(out));
        }
        check_pool(self, pool)?;
        // The registry's deletion answers an unknown client itself, and revokes nothing for it (R-REV-7).
        self.delete_client_async(id.unwrap_or_default()).await
    }

    async fn wire_list_user_pool_clients(
        &self,
        req: &ListUserPoolClientsRequest,
    ) -> Result<ListUserPoolClientsResponse, Error> {
        let mut out = Vec::new();
        let pool_ok = check_user_pool_id(&mut out, req.user_pool_id.as_deref());
        let limit = check_max_results(&mut out, req.max_results.unwrap_or(DEFAULT_PAGE as i64));
        if let Some(t) = &req.next_token {
            check_next_token(&mut out, t);
        }
        let dcr_only = req
            .client_type
            .as_deref()
            .map(|t| check_client_type(&mut out, t));
        let limit = match limit {
            Some(l) if out.is_empty() && pool_ok => l,
            _ => return Err(Error::invalid_request(out)),
        };
        check_pool(self, req.user_pool_id.as_deref())?;
        if dcr_only == Some(Some(true)) {
            // This crate creates no dynamic-client-registration clients; a token is still one of this
            // pool's, or refused as without the filter.
            if let Some(token) = req.next_token.as_deref() {
                self.decode_token(token)?;
            }
            return Ok(ListUserPoolClientsResponse {
                user_pool_clients: Some(Vec::new()),
                next_token: None,
            });
        }
        let page = self
            .list_clients_async(limit, req.next_token.as_deref())
            .await?;
        Ok(ListUserPoolClientsResponse {
            user_pool_clients: Some(
                page.clients
                    .iter()
                    .map(|c| UserPoolClientDescription::from(&**c))
                    .collect(),
            ),
            next_token: page.next_token,
        })
    }
}

impl UserPoolClientOperations for ClientRegistry {
    fn create_user_pool_client(
        &self,
        req: &CreateUserPoolClientRequest,
    ) -> Result<CreateUserPoolClientResponse, Error> {
        self.poll_now(self.wire_create_user_pool_client(req))
    }

    fn describe_user_pool_client(
        &self,
        req: &DescribeUserPoolClientRequest,
    ) -> Result<DescribeUserPoolClientResponse, Error> {
        self.poll_now(self.wire_describe_user_pool_client(req))
    }

    fn update_user_pool_client(
        &self,
        req: &UpdateUserPoolClientRequest,
    ) -> Result<UpdateUserPoolClientResponse, Error> {
        self.poll_now(self.wire_update_user_pool_client(req))
    }

    fn delete_user_pool_client(&self, req: &DeleteUserPoolClientRequest) -> Result<(), Error> {
        self.families_answer_at_once()?;
        self.poll_now(self.wire_delete_user_pool_client(req))
    }

    fn list_user_pool_clients(
        &self,
        req: &ListUserPoolClientsRequest,
    ) -> Result<ListUserPoolClientsResponse, Error> {
        self.poll_now(self.wire_list_user_pool_clients(req))
    }

    fn create_user_pool_client_async<'a>(
        &'a self,
        req: &'a CreateUserPoolClientRequest,
    ) -> BoxFuture<'a, Result<CreateUserPoolClientResponse, Error>> {
        Box::pin(self.wire_create_user_pool_client(req))
    }

    fn describe_user_pool_client_async<'a>(
        &'a self,
        req: &'a DescribeUserPoolClientRequest,
    ) -> BoxFuture<'a, Result<DescribeUserPoolClientResponse, Error>> {
        Box::pin(self.wire_describe_user_pool_client(req))
    }

    fn update_user_pool_client_async<'a>(
        &'a self,
        req: &'a UpdateUserPoolClientRequest,
    ) -> BoxFuture<'a, Result<UpdateUserPoolClientResponse, Error>> {
        Box::pin(self.wire_update_user_pool_client(req))
    }

    fn delete_user_pool_client_async<'a>(
        &'a self,
        req: &'a DeleteUserPoolClientRequest,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.wire_delete_user_pool_client(req))
    }

    fn list_user_pool_clients_async<'a>(
        &'a self,
        req: &'a ListUserPoolClientsRequest,
    ) -> BoxFuture<'a, Result<ListUserPoolClientsResponse, Error>> {
        Box::pin(self.wire_list_user_pool_clients(req))
    }
}
