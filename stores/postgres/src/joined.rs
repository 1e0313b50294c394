//! The family store of one user pool whose app clients live on the same connections: a refresh's first
//! read fetches the client and the family in one statement (R-PER-5).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use refresh_rotation::clock::Timestamp;
use refresh_rotation::directory::UserRecord;
use refresh_rotation::error::StoreError;
use refresh_rotation::store::{
    Advance, AsyncRefreshTokenStore, BoxFuture, Family, FamilyAndClient, FamilyId, FamilyRead,
    PurgeCutoff, ReadWitness, WitnessedAdvance,
};

use tokio_postgres::Row;

use crate::store::{corrupt, decode_family, decode_state};
use crate::{PgClientStore, PgRefreshTokenStore};

/// Where the client's columns start in a row of the joined read: after the family's 14 columns and
/// the database time.
const CLIENT_AT: usize = 15;
/// The client row version (`xmin`, as a number), after the client's 7 columns.
const CLIENT_XMIN_AT: usize = 22;
/// The user row's fingerprint (SHA-256 of its text).
const USER_FP_AT: usize = 23;
/// Where the user's columns start: after the fingerprint, a flag that says a user was found.
const USER_AT: usize = 24;
/// How many families' last answers a store remembers before it starts over. Each holds the family, the
/// client row's version and the user as decoded (its own copy per family, as large as the host's
/// attributes and groups), and shares the client; what a memory holds goes when the map starts over.
const MAX_REMEMBERED: usize = 20_000;
/// The version of client `c`'s row: PostgreSQL's `xmin`, which every write of the row (an update, a
/// delete and a new insert) changes, as a number.
const CLIENT_XMIN: &str = "c.xmin::text::bigint";
/// The fingerprint of a user row as the joined read and the witnessed advance compute it.
const USER_FINGERPRINT: &str = "sha256(convert_to(u::text, 'UTF8'))";

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
    /// `decode` builds the user from that row's columns, the first at the index it is given; other
    /// columns may follow them in the row.
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
    Arc::from(joined_select(families, clients, user_select, false))
}

/// The SELECT of [`joined_sql`]; `after_refused_advance` makes it the read of [`witnessed_sql`]: no
/// row at all if the advance happened, and otherwise the family's newest committed row, waited for and
/// share-locked (`FOR SHARE`) rather than the statement's snapshot, which a writer that committed while
/// the advance waited for the row would have left behind; the database time is then taken after it.
fn joined_select(
    families: &PgRefreshTokenStore,
    clients: &PgClientStore,
    user_select: Option<&str>,
    after_refused_advance: bool,
) -> String {
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
            format!(", {USER_FINGERPRINT}, u.*"),
            format!(" LEFT JOIN LATERAL {} AS u ON TRUE", user_row(select)),
        ),
        None => (String::new(), String::new()),
    };
    let (time, from) = if after_refused_advance {
        (
            db_time,
            format!(
                "(SELECT 1 AS one WHERE NOT EXISTS (SELECT 1 FROM adv)) AS gate \
                 LEFT JOIN LATERAL (SELECT * FROM {family_table} WHERE family_id = $1 FOR SHARE) AS f \
                 ON TRUE"
            ),
        )
    } else {
        (
            "now_s",
            format!(
                "(SELECT {db_time} AS now_s) AS clock LEFT JOIN {family_table} f ON f.family_id = $1"
            ),
        )
    };
    format!(
        "SELECT {family_columns}, {time}, {client_columns}, {CLIENT_XMIN}{user_columns} \
         FROM {from} \
         LEFT JOIN {client_table} c ON c.pool_id = $2 AND c.client_id = $3{user_join}"
    )
}

/// Global sign-out in one pool of a family table that several pools may share (R-REV-3): the
/// subject's families, except those whose client is another pool's and not this one's. A family whose
/// client is in no pool any more (deleted) is revoked too: in doubt, the subject is signed out.
///
/// `$1` subject, `$2` pool.
fn revoke_subject_sql(families: &PgRefreshTokenStore, clients: &PgClientStore) -> Arc<str> {
    let (family_table, _) = families.joined_read_parts();
    let (_, client_table) = clients.joined_read_parts();
    Arc::from(format!(
        "UPDATE {family_table} f SET revoked = TRUE \
         WHERE f.subject = $1 AND NOT f.revoked \
         AND (EXISTS (SELECT 1 FROM {client_table} c WHERE c.pool_id = $2 AND c.client_id = f.client_id) \
              OR NOT EXISTS (SELECT 1 FROM {client_table} c WHERE c.client_id = f.client_id))"
    ))
}

/// The host's user query as the joined read and the witnessed advance use it: a flag, then its columns.
fn user_row(select: &str) -> String {
    format!("(SELECT TRUE AS user_found, q.* FROM ({select}) AS q)")
}

/// The advance of a refresh decided on an answer from memory: the compare-and-set of the family store,
/// and in the same statement the check that everything the answer said is still true: the family's
/// device binding, its expiry on the database clock, the client row (revision, configuration, sealed
/// secret, declared scopes) and, with users, the user row's fingerprint. The new grace deadline is the
/// database clock plus the grace period.
///
/// `$1` family, `$2` pool, `$3` client, `$4` expected generation, `$5` grace period in seconds, `$6` key
/// id, `$7` device key, `$8` device confirmed, `$9` revision, `$10` the client row's version (`xmin`),
/// `$11` sealed secret, `$12` declared scopes (none: the configuration names no custom scope, all of
/// which must be declared to be read at all, so no declaration can concern it and none is looked up),
/// `$13` user row fingerprint, `$14` the time the answer
/// gave (the database clock must still read it, give or take the rounding and the request's latency).
///
/// Each row: the joined read's columns ([`joined_sql`]), then the new state and the database time. If
/// the update happened, that is one row, its read columns NULL (the read does not run). If it did not,
/// the rows of the read (one, unless the host's user query answers more), its state columns NULL, so
/// that the engine decides again on that read without another round trip (R-PER-5). The family in it
/// is the newest committed row (see [`joined_select`]); the client and the user are the statement's
/// snapshot, as a read of its own would have seen them a moment earlier.
fn witnessed_sql(
    families: &PgRefreshTokenStore,
    clients: &PgClientStore,
    user_select: Option<&str>,
) -> Arc<str> {
    let (family_table, _) = families.joined_read_parts();
    let (_, client_table) = clients.joined_read_parts();
    let scopes = clients.scopes_expression();
    let db_time = crate::schema::DB_TIME;
    let max = crate::schema::MAX_GENERATION;
    let state = crate::schema::STATE_COLUMNS;
    let user_check = match user_select {
        // The one row the host's query answers now is the one remembered, or no advance: no row
        // compares as NULL, and a second row makes the scalar subquery fail the statement, which
        // `witnessed_advance` answers as Unchanged (the engine then reads, and decides on what it
        // reads). The user check costs PostgreSQL a third less this way than as an aggregate of the
        // rows (pgbench on the statement's conditions: 14 µs instead of 21, of 61 instead of 68).
        Some(select) => format!(
            " AND (SELECT {USER_FINGERPRINT} FROM {} AS u) = $13::bytea",
            user_row(select)
        ),
        // No user join: `$13` is not compared (the directory answers the user, read every time).
        None => " AND $13::bytea IS NULL".to_owned(),
    };
    let read = joined_select(families, clients, user_select, true);
    Arc::from(format!(
        "WITH adv AS (UPDATE {family_table} f SET generation = f.generation + 1, \
         grace_deadline = {db_time} + $5, key_id = $6 \
         WHERE f.family_id = $1 AND f.client_id = $3 AND f.generation = $4 AND NOT f.revoked \
         AND f.generation < {max} AND f.expires_at > {db_time} \
         AND {db_time} BETWEEN $14::bigint - 1 AND $14::bigint + 2 \
         AND f.device_key IS NOT DISTINCT FROM $7 AND f.device_confirmed = $8 \
         AND EXISTS (SELECT 1 FROM {client_table} c WHERE c.pool_id = $2 AND c.client_id = $3 \
         AND c.revision = $9 AND {CLIENT_XMIN} = $10 \
         AND c.secret_sealed IS NOT DISTINCT FROM $11 \
         AND (cardinality($12::text[]) = 0 OR {scopes} = $12)){user_check} \
         RETURNING {state}, {db_time}) \
         SELECT j.*, adv.* FROM (SELECT 1) AS one LEFT JOIN adv ON TRUE \
         LEFT JOIN LATERAL ({read}) AS j ON TRUE"
    ))
}

/// The columns a witnessed advance returns after the joined read's: the state, then the database time.
const ADVANCE_COLUMNS: usize = 6;

/// The client row as read (its version rather than its configuration's text): what the witnessed
/// advance checks is unchanged.
#[derive(Clone)]
struct ClientRow {
    revision: i64,
    xmin: i64,
    sealed: Option<Vec<u8>>,
    scopes: Vec<String>,
}

/// What a store remembers of a family after reading or advancing it, for the next refresh's answer
/// from memory.
#[derive(Clone)]
struct Remembered {
    family: Family,
    client: Arc<refresh_rotation::store::AppClient>,
    /// Shared by every clone: an answer from memory copies no buffer of it.
    client_row: Arc<ClientRow>,
    /// With a user join: the user and its row's fingerprint.
    user: Option<(Arc<UserRecord>, Vec<u8>)>,
    /// The database clock at the last read or write, and when that was on this host's monotonic clock.
    db_time: i64,
    at: Instant,
}

impl Remembered {
    /// The database clock now, as estimated from the last read or write.
    fn now(&self) -> Timestamp {
        let elapsed = i64::try_from(self.at.elapsed().as_secs()).unwrap_or(i64::MAX);
        Timestamp::from_unix_seconds(self.db_time.saturating_add(elapsed))
    }
}

/// The witness of an answer from memory: what it said, and the time it gave.
struct Witness {
    remembered: Remembered,
    now: Timestamp,
}

/// The families of one user pool, read with that pool's app clients: [`PgClientStore::families`].
///
/// Several pools may keep their families in one table (the pools of one [`PgClientStore`] and its
/// [`for_pool`](PgClientStore::for_pool) stores). A global sign-out then revokes the subject's families
/// of this pool only: those whose client is this pool's, or is no longer in any pool (R-REV-3).
/// Deleting a client revokes the families of that client id (R-REV-7); client ids are drawn at random
/// and so differ between pools, unless a host restores one id into two pools sharing a table, whose
/// families the table cannot then tell apart: both pools' are revoked.
///
/// Every operation is the family store's, except [`read_with_client`](AsyncRefreshTokenStore::read_with_client),
/// which reads the family, the database time and the client in one statement, so that a refresh that
/// succeeds costs one read and the conditional update, two round trips, with its clients in
/// PostgreSQL too (R-PER-5). The client it reads is the one the pool's registry would read: give this
/// store to the issuer whose registry holds the [`PgClientStore`] it came from. Every operation runs in
/// the runtime of that [`PgClientStore`] ([`runtime`](PgClientStore::runtime)), so the store may be
/// awaited from outside it as the client store may. Cheap to clone.
#[derive(Clone)]
pub struct PgPoolFamilies {
    families: PgRefreshTokenStore,
    clients: PgClientStore,
    sql: Arc<str>,
    witnessed: Arc<str>,
    revoke_subject: Arc<str>,
    users: Option<PgUserJoin>,
    memory: Arc<Mutex<HashMap<FamilyId, Remembered>>>,
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
        let witnessed = witnessed_sql(&families, &clients, None);
        let revoke_subject = revoke_subject_sql(&families, &clients);
        PgPoolFamilies {
            families,
            clients,
            sql,
            witnessed,
            revoke_subject,
            users: None,
            memory: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Reads each family's user in the same statement too, with `users` (see [`PgUserJoin`]).
    pub fn with_users(mut self, users: PgUserJoin) -> PgPoolFamilies {
        self.sql = joined_sql(&self.families, &self.clients, Some(&users.select));
        self.witnessed = witnessed_sql(&self.families, &self.clients, Some(&users.select));
        self.users = Some(users);
        // A memory of its own: what a store without the user join remembered holds no user.
        self.memory = Arc::new(Mutex::new(HashMap::new()));
        self
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<FamilyId, Remembered>> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remember(&self, id: FamilyId, remembered: Remembered) {
        let mut memory = self.memory();
        if memory.len() >= MAX_REMEMBERED {
            memory.clear();
        }
        memory.insert(id, remembered);
    }

    fn forget(&self, id: &FamilyId) {
        self.memory().remove(id);
    }

    fn forget_all(&self) {
        self.memory().clear();
    }

    /// What to remember of a joined read: only a complete one (family, client and, with a user join,
    /// the user, all decoded), on the database clock.
    fn to_remember(
        &self,
        row: &Row,
        family: &Option<Family>,
        client: &Option<Option<Arc<refresh_rotation::store::AppClient>>>,
        user: &Option<Option<Arc<UserRecord>>>,
        time: i64,
    ) -> Option<Remembered> {
        let (_, database_clock) = self.families.joined_read_parts();
        let (Some(family), Some(Some(client))) = (family, client) else {
            return None;
        };
        if !database_clock {
            return None;
        }
        let at = |i: usize| CLIENT_AT.saturating_add(i);
        let client_row = Arc::new(ClientRow {
            revision: row.try_get(at(5)).ok()?,
            xmin: row.try_get(CLIENT_XMIN_AT).ok()?,
            sealed: row.try_get(at(2)).ok()?,
            scopes: row.try_get(at(6)).ok()?,
        });
        let user = match (&self.users, user) {
            (None, _) => None,
            (Some(_), Some(Some(user))) => Some((
                Arc::clone(user),
                row.try_get::<_, Vec<u8>>(USER_FP_AT).ok()?,
            )),
            (Some(_), _) => return None,
        };
        Some(Remembered {
            family: family.clone(),
            client: Arc::clone(client),
            client_row,
            user,
            db_time: time,
            at: Instant::now(),
        })
    }

    async fn witnessed_advance(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
        witness: &Witness,
    ) -> Result<WitnessedAdvance, StoreError> {
        let r = &witness.remembered;
        let grace = grace_deadline
            .unix_seconds()
            .checked_sub(witness.now.unix_seconds())
            .filter(|g| *g >= 0)
            .ok_or_else(|| corrupt("grace deadline before the decision"))?;
        let key = id.as_bytes().as_slice();
        let pool_id = self.clients.user_pool_id();
        let client_id: &str = r.client.client_id();
        let device_key: Option<&str> = r.family.info.device_key.as_deref();
        let fingerprint = r.user.as_ref().map(|(_, fp)| fp.as_slice());
        let rows = self
            .clients
            .query(
                &self.witnessed,
                &[
                    &key,
                    &pool_id,
                    &client_id,
                    &i64::from(expected),
                    &grace,
                    &i64::from(key_id),
                    &device_key,
                    &r.family.state.device_confirmed,
                    &r.client_row.revision,
                    &r.client_row.xmin,
                    &r.client_row.sealed,
                    &r.client_row.scopes,
                    &fingerprint,
                    &witness.now.unix_seconds(),
                ],
            )
            .await;
        let rows = match rows {
            Ok(rows) => rows,
            // The server could not run it (a host user query the statement cannot take, say): nothing
            // changed; the engine reads, and decides on what it reads.
            Err(StoreError::Backend(_)) => {
                self.forget(id);
                return Ok(Advance::Unchanged(r.family.state).into());
            }
            // Ambiguous: the advance may have happened. Read next time.
            Err(e) => {
                self.forget(id);
                return Err(e);
            }
        };
        let row = rows
            .first()
            .ok_or_else(|| corrupt("no row from the witnessed advance"))?;
        let at = row
            .len()
            .checked_sub(ADVANCE_COLUMNS)
            .ok_or_else(|| corrupt("witnessed advance columns"))?;
        let advanced: Option<i64> = row.try_get(at).map_err(|_| corrupt("generation"))?;
        if advanced.is_some() {
            let state = decode_state(row, at)?;
            let db_time: i64 = row
                .try_get(at.saturating_add(5))
                .map_err(|_| corrupt("database time"))?;
            let mut remembered = r.clone();
            remembered.family.state = state;
            (remembered.db_time, remembered.at) = (db_time, Instant::now());
            self.remember(*id, remembered);
            return Ok(Advance::Advanced(state).into());
        }
        // Something the answer said is no longer true: the engine decides again, on what the same
        // statement read (which this store now remembers instead).
        let Ok(read) = self.joined_answer(id, &rows) else {
            // A read that does not decode is not answered here: the driver reads again, and the
            // engine reports the failure at its step, after the client's checks.
            self.forget(id);
            return Ok(Advance::Unchanged(r.family.state).into());
        };
        let advance = match &read.family.family {
            Some(family) => Advance::Unchanged(family.state),
            None => Advance::NotFound,
        };
        Ok(WitnessedAdvance {
            advance,
            read: Some(read),
        })
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
        self.joined_answer(id, &rows)
    }

    /// The answer of the joined read of family `id` from its rows (the witnessed advance's carry more
    /// columns after the read's, ignored here), remembered if complete, else forgotten.
    fn joined_answer(&self, id: &FamilyId, rows: &[Row]) -> Result<FamilyAndClient, StoreError> {
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
        match self.to_remember(row, &family, &client, &user, time) {
            Some(remembered) => self.remember(*id, remembered),
            None => self.forget(id),
        }
        Ok(FamilyAndClient {
            family: FamilyRead {
                family,
                time: database_clock.then_some(Timestamp::from_unix_seconds(time)),
            },
            client,
            user,
            witness: None,
        })
    }
}

impl AsyncRefreshTokenStore for PgPoolFamilies {
    fn create(&self, family: Family) -> BoxFuture<'_, Result<(), StoreError>> {
        self.clients.run(self.families.create(family))
    }

    fn read<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<FamilyRead, StoreError>> {
        self.clients.run(self.families.read(id))
    }

    fn read_with_client<'a>(
        &'a self,
        id: &'a FamilyId,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<FamilyAndClient, StoreError>> {
        self.clients.run(self.joined_read(id, client_id))
    }

    fn remembered(&self, id: &FamilyId, client_id: &str) -> Option<FamilyAndClient> {
        let remembered = self.memory().get(id).cloned()?;
        if &**remembered.client.client_id() != client_id {
            return None;
        }
        let now = remembered.now();
        Some(FamilyAndClient {
            family: FamilyRead {
                family: Some(remembered.family.clone()),
                time: Some(now),
            },
            client: Some(Some(Arc::clone(&remembered.client))),
            user: remembered
                .user
                .as_ref()
                .map(|(user, _)| Some(Arc::clone(user))),
            witness: Some(ReadWitness::new(Witness { remembered, now })),
        })
    }

    fn advance_witnessed<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
        witness: &'a ReadWitness,
    ) -> BoxFuture<'a, Result<WitnessedAdvance, StoreError>> {
        self.clients.run(async move {
            let witness = witness
                .downcast_ref::<Witness>()
                .ok_or_else(|| corrupt("a witness of another store"))?;
            self.witnessed_advance(id, expected, grace_deadline, key_id, witness)
                .await
        })
    }

    fn advance<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> BoxFuture<'a, Result<Advance, StoreError>> {
        self.clients.run(async move {
            let advance = self
                .families
                .advance(id, expected, grace_deadline, key_id)
                .await;
            // What is remembered of the family is what the last read saw: move it on with the advance.
            let mut memory = self.memory();
            match (&advance, memory.get_mut(id)) {
                (Ok(Advance::Advanced(state)), Some(r))
                    if r.family.state.generation == expected =>
                {
                    r.family.state = *state;
                }
                _ => {
                    memory.remove(id);
                }
            }
            drop(memory);
            advance
        })
    }

    fn bind_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Family>, StoreError>> {
        self.forget(id);
        self.clients.run(self.families.bind_device(id, device_key))
    }

    fn confirm_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.forget(id);
        self.clients
            .run(self.families.confirm_device(id, device_key))
    }

    fn revoke<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.forget(id);
        self.clients.run(self.families.revoke(id))
    }

    /// The subject's families in this pool only (R-REV-3), though the family table is shared: see
    /// [`PgPoolFamilies`].
    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        self.forget_all();
        self.clients.run(async move {
            if !crate::store::storable(subject) {
                return Ok(0);
            }
            let pool_id = self.clients.user_pool_id();
            crate::store::row_count(
                self.clients
                    .execute(&self.revoke_subject, &[&subject, &pool_id])
                    .await?,
            )
        })
    }

    fn revoke_client<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        self.forget_all();
        self.clients.run(self.families.revoke_client(client_id))
    }

    fn purge_expired(
        &self,
        cutoff: PurgeCutoff,
        max: usize,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        self.forget_all();
        self.clients.run(self.families.purge_expired(cutoff, max))
    }
}

#[cfg(test)]
mod tests {
    use super::{ADVANCE_COLUMNS, CLIENT_AT, CLIENT_XMIN_AT, USER_AT, USER_FP_AT};

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
        // Then the client row's version, the user row's fingerprint, the user (its flag first).
        assert_eq!(CLIENT_XMIN_AT, CLIENT_AT + client_columns);
        assert_eq!(USER_FP_AT, CLIENT_XMIN_AT + 1);
        assert_eq!(USER_AT, USER_FP_AT + 1);
        // A witnessed advance's row ends with the state and the database time.
        let state_columns = crate::schema::STATE_COLUMNS.split(',').count();
        assert_eq!(ADVANCE_COLUMNS, state_columns + 1);
    }
}
