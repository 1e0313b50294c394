//! The family store of one user pool whose app clients live on the same connections: a refresh's first
//! read fetches the client and the family in one statement (R-PER-5).

use std::fmt;
use std::sync::Arc;

use refresh_rotation::clock::Timestamp;
use refresh_rotation::directory::UserRecord;
use refresh_rotation::error::StoreError;
use refresh_rotation::store::{
    Advance, AsyncRefreshTokenStore, BoxFuture, Family, FamilyAndClient, FamilyId, FamilyRead,
    PurgeCutoff,
};

use tokio_postgres::Row;

use crate::store::{corrupt, decode_family};
use crate::{PgClientStore, PgRefreshTokenStore};

/// Where the client's columns start in a row of the joined read: after the family's 14 columns and
/// the database time.
const CLIENT_AT: usize = 15;
/// Where the user's columns start: after the client's 7 columns, a flag that says a user was found.
const USER_AT: usize = 22;

/// The user decoder of a [`PgUserJoin`].
type DecodeUser = dyn Fn(&Row, usize) -> Result<UserRecord, StoreError> + Send + Sync;

/// How [`PgPoolFamilies`] reads a family's user in the statement that reads the family, for a host
/// whose users live in the same database: a refresh then reads client, family and user in one round
/// trip. The user read must be the one the issuer's user directory would answer.
#[derive(Clone)]
pub struct PgUserJoin {
    select: Arc<str>,
    decode: Arc<DecodeUser>,
}

impl fmt::Debug for PgUserJoin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgUserJoin")
            .field("select", &self.select)
            .finish_non_exhaustive()
    }
}

impl PgUserJoin {
    /// `select` is SQL text (the host's own, never user input) for the user whose `sub` is the
    /// family's, `f.subject`, in user pool `$2`, answering at most one row; for example
    /// `SELECT sub, username, enabled, attributes::text FROM users WHERE pool_id = $2 AND sub = f.subject`.
    /// `decode` builds the user from that row's columns, the first at the index it is given.
    pub fn new(
        select: &str,
        decode: impl Fn(&Row, usize) -> Result<UserRecord, StoreError> + Send + Sync + 'static,
    ) -> PgUserJoin {
        PgUserJoin {
            select: Arc::from(select),
            decode: Arc::new(decode),
        }
    }
}

/// The joined read: one row always (outer joins on a one-row clock) with the family's columns, the
/// database time, the client's columns and, with `user_select`, a flag and the user's columns; each
/// group NULL when there is no such row.
fn joined_sql(
    families: &PgRefreshTokenStore,
    clients: &PgClientStore,
    user_select: Option<&str>,
) -> Arc<str> {
    let (family_table, _) = families.joined_read_parts();
    let (client_columns, client_table) = clients.joined_read_parts();
    let family_columns = crate::schema::FAMILY_COLUMNS
        .split(',')
        .map(|c| format!("f.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let db_time = crate::schema::DB_TIME;
    let (user_columns, user_join) = match user_select {
        Some(select) => (
            ", u.*",
            format!(
                " LEFT JOIN LATERAL (SELECT TRUE AS user_found, q.* FROM ({select}) AS q) AS u \
                 ON TRUE"
            ),
        ),
        None => ("", String::new()),
    };
    Arc::from(format!(
        "SELECT {family_columns}, now_s, {client_columns}{user_columns} \
         FROM (SELECT {db_time} AS now_s) AS clock \
         LEFT JOIN {family_table} f ON f.family_id = $1 \
         LEFT JOIN {client_table} c ON c.pool_id = $2 AND c.client_id = $3{user_join}"
    ))
}

/// The families of one user pool, read with that pool's app clients: [`PgClientStore::families`].
///
/// Every operation is the family store's, except [`read_with_client`](AsyncRefreshTokenStore::read_with_client),
/// which reads the family, the database time and the client in one statement, so that a refresh that
/// succeeds costs one read and the conditional update, two round trips, with its clients in
/// PostgreSQL too (R-PER-5). The client it reads is the one the pool's registry would read: give this
/// store to the issuer whose registry holds the [`PgClientStore`] it came from. Cheap to clone.
#[derive(Clone)]
pub struct PgPoolFamilies {
    families: PgRefreshTokenStore,
    clients: PgClientStore,
    sql: Arc<str>,
    users: Option<PgUserJoin>,
}

impl fmt::Debug for PgPoolFamilies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgPoolFamilies")
            .field("families", &self.families)
            .field("user_pool_id", &self.clients.user_pool_id())
            .field("users", &self.users)
            .finish()
    }
}

impl PgPoolFamilies {
    pub(crate) fn new(families: PgRefreshTokenStore, clients: PgClientStore) -> PgPoolFamilies {
        let sql = joined_sql(&families, &clients, None);
        PgPoolFamilies {
            families,
            clients,
            sql,
            users: None,
        }
    }

    /// Reads each family's user in the same statement too, with `users` (see [`PgUserJoin`]).
    pub fn with_users(mut self, users: PgUserJoin) -> PgPoolFamilies {
        self.sql = joined_sql(&self.families, &self.clients, Some(&users.select));
        self.users = Some(users);
        self
    }

    async fn joined_read(
        &self,
        id: &FamilyId,
        client_id: &str,
    ) -> Result<FamilyAndClient, StoreError> {
        let key = id.as_bytes().as_slice();
        let pool_id = self.clients.user_pool_id();
        let rows = self
            .clients
            .query(&self.sql, &[&key, &pool_id, &client_id])
            .await?;
        // One row, or more only if the host's user query answered more than one for the family's
        // `sub`: its rule is at most one, so such an answer is left to the user directory.
        let row = rows
            .first()
            .ok_or_else(|| corrupt("no row from the read"))?;
        let (_, database_clock) = self.families.joined_read_parts();
        let time: i64 = row.try_get(14).map_err(|_| corrupt("database time"))?;
        let family: Option<&[u8]> = row.try_get(0).map_err(|_| corrupt("family_id"))?;
        let family = family.map(|_| decode_family(row)).transpose()?;
        // A part that does not decode is not answered here: the registry or the directory reads it
        // again and reports the failure at its own step, after the checks that come first.
        let client: Option<&str> = row.try_get(CLIENT_AT).map_err(|_| corrupt("client_id"))?;
        let client = match client {
            None => Some(None),
            Some(_) => self.clients.decode_at(row, CLIENT_AT).ok().map(Some),
        };
        // The user only where there is a family whose `sub` it was looked up by.
        let user = match (&self.users, &family) {
            (Some(users), Some(_)) if rows.len() == 1 => {
                match row.try_get::<_, Option<bool>>(USER_AT) {
                    Ok(None) => Some(None),
                    Ok(Some(_)) => (users.decode)(row, USER_AT.saturating_add(1))
                        .ok()
                        .map(|u| Some(Arc::new(u))),
                    Err(_) => None,
                }
            }
            _ => None,
        };
        Ok(FamilyAndClient {
            family: FamilyRead {
                family,
                time: database_clock.then_some(Timestamp::from_unix_seconds(time)),
            },
            client,
            user,
        })
    }
}

impl AsyncRefreshTokenStore for PgPoolFamilies {
    fn create(&self, family: Family) -> BoxFuture<'_, Result<(), StoreError>> {
        self.families.create(family)
    }

    fn read<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<FamilyRead, StoreError>> {
        self.families.read(id)
    }

    fn read_with_client<'a>(
        &'a self,
        id: &'a FamilyId,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<FamilyAndClient, StoreError>> {
        self.clients.run(self.joined_read(id, client_id))
    }

    fn advance<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> BoxFuture<'a, Result<Advance, StoreError>> {
        self.families.advance(id, expected, grace_deadline, key_id)
    }

    fn bind_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Family>, StoreError>> {
        self.families.bind_device(id, device_key)
    }

    fn confirm_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.families.confirm_device(id, device_key)
    }

    fn revoke<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.families.revoke(id)
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        self.families.revoke_subject(subject)
    }

    fn revoke_client<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        self.families.revoke_client(client_id)
    }

    fn purge_expired(
        &self,
        cutoff: PurgeCutoff,
        max: usize,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        self.families.purge_expired(cutoff, max)
    }
}

#[cfg(test)]
mod tests {
    use super::{CLIENT_AT, USER_AT};

    #[test]
    fn column_offsets_follow_the_column_lists() {
        let family_columns = crate::schema::FAMILY_COLUMNS.split(',').count();
        // The family's columns, then the database time.
        assert_eq!(CLIENT_AT, family_columns + 1);
        // The client's columns (the last one an ARRAY(...) with commas inside: counted apart).
        let scopes = crate::schema::TableName::parse("s").unwrap();
        let client = crate::clients::client_columns(&scopes);
        let before_array = client.split("ARRAY(").next().unwrap();
        let client_columns = before_array
            .split(',')
            .filter(|c| !c.trim().is_empty())
            .count()
            + 1;
        assert_eq!(USER_AT, CLIENT_AT + client_columns);
    }
}
