//! R-PER-5: `PgPoolFamilies`, the read of a refresh's client, family and user in one statement, in
//! every case of a part missing, and what it leaves to the registry and the user directory.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use refresh_rotation::clock::SystemClock;
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::InMemoryUserDirectory;
use refresh_rotation::directory::UserRecord;
use refresh_rotation::engine::{ClientId, PresentedSecret};
use refresh_rotation::error::StoreError;
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::{AsyncRefreshTokenStore, Family, FamilyAndClient, SecretSealer};
use refresh_rotation::{
    AppClientConfig, ClientRegistry, Error, NewClientSecret, RefreshRequest, RefreshToken,
    RefreshTokenKey, RefreshTokenKeys, SignInRequest,
};
use refresh_rotation_postgres::tokio_postgres::{self, NoTls};
use refresh_rotation_postgres::{PgClientStore, PgPoolFamilies, PgRefreshTokenStore, PgUserJoin};

const POOL: &str = "us-east-1_PgJoined";

/// A pool on fresh tables: its families joined with its clients and with `users` (a host table of
/// `(pool_id, sub, username, enabled)`), the id of one client, and a connection for setting up rows.
struct Setup {
    registry: Arc<ClientRegistry>,
    clients: PgClientStore,
    store: PgRefreshTokenStore,
    families: PgPoolFamilies,
    client_id: String,
    users: String,
    admin: tokio_postgres::Client,
}

async fn set_up(database_clock: bool) -> Option<Setup> {
    let store = common::try_async_store(database_clock).await?;
    Some(set_up_on(store, "sub, username, enabled").await)
}

/// A client store, a client and a users table (`sub, username, enabled, pool_id`) next to `store`, and
/// the pool's families with a user query that selects `columns` of that table.
async fn set_up_on(store: PgRefreshTokenStore, columns: &str) -> Setup {
    let url = common::pg_url().expect("a test database");
    let prefix = format!("{}_", common::unique_table());
    let sealer = SecretSealer::new(1, &[7; 32], Arc::new(SystemRandom::new())).unwrap();
    let clients =
        PgClientStore::with_table_prefix(&store, POOL, Arc::new(sealer), &prefix).unwrap();
    clients.migrate().await.unwrap();
    let registry = Arc::new(
        ClientRegistry::new(POOL, Arc::new(SystemClock), Arc::new(SystemRandom::new()))
            .with_store(Arc::new(clients.clone())),
    );
    let client = registry
        .create_client_async(
            AppClientConfig::builder("joined"),
            NewClientSecret::Generate,
        )
        .await
        .unwrap();
    let (admin, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let users = format!("{prefix}users");
    admin
        .batch_execute(&format!(
            "CREATE TABLE {users} (sub TEXT, username TEXT, enabled BOOLEAN, pool_id TEXT)"
        ))
        .await
        .unwrap();
    // No key on `sub`: the tests below put two rows for one user to see the rule kept.
    let families = clients
        .families(&store)
        .unwrap()
        .with_users(PgUserJoin::new(
            &format!("SELECT {columns} FROM {users} WHERE pool_id = $2 AND sub = f.subject"),
            |row, at| {
                let enabled: Option<bool> = row.try_get(at + 2).unwrap();
                let mut user = UserRecord::new(
                    row.try_get::<_, String>(at).unwrap(),
                    row.try_get::<_, String>(at + 1).unwrap(),
                );
                // A NULL `enabled` is a corrupt row here.
                user.enabled =
                    enabled.ok_or_else(|| StoreError::Backend("enabled is NULL".into()))?;
                Ok(user)
            },
        ));
    Setup {
        registry,
        clients: clients.clone(),
        store,
        families,
        client_id: client.client_id().to_string(),
        users,
        admin,
    }
}

impl Setup {
    /// A family of `sub` that expires far in the future, created in the store.
    async fn create_family(&self, sub: &str) -> Family {
        let f = common::family(sub, 4_000_000_000);
        AsyncRefreshTokenStore::create(&self.store, f.clone())
            .await
            .unwrap();
        f
    }

    async fn add_user(&self, sub: &str, enabled: Option<bool>) {
        self.admin
            .execute(
                &format!(
                    "INSERT INTO {} (pool_id, sub, username, enabled) VALUES ($1, $2, 'alice', $3)",
                    self.users
                ),
                &[&POOL, &sub, &enabled],
            )
            .await
            .unwrap();
    }

    async fn read(
        &self,
        family: &refresh_rotation::store::FamilyId,
        client: &str,
    ) -> FamilyAndClient {
        self.families
            .read_with_client(family, client)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn r_per_5_the_joined_read_answers_each_part_or_leaves_it() {
    let Some(s) = set_up(true).await else { return };
    let f = s.create_family("sub-joined").await;

    // Everything there but the user: the family, the database time, the client, and "no such user".
    let read = s.read(&f.id, &s.client_id).await;
    assert_eq!(read.family.family.as_ref().map(|x| x.id), Some(f.id));
    assert!(
        read.family.time.is_some(),
        "the database clock decides (R-ROT-11)"
    );
    let client = read.client.expect("read").expect("exists");
    assert_eq!(&**client.client_id(), s.client_id.as_str());
    assert!(client.secret().is_some(), "the secret opened");
    assert!(matches!(read.user, Some(None)));

    // The user, enabled or not, as the directory would give it.
    s.add_user("sub-joined", Some(false)).await;
    let read = s.read(&f.id, &s.client_id).await;
    let user = read.user.expect("read").expect("exists");
    assert_eq!((user.subject.as_str(), user.enabled), ("sub-joined", false));

    // No such client: said; no such family: no user either (there is no `sub` to look it up by).
    let read = s.read(&f.id, "nosuchclient0000000000000a").await;
    assert!(matches!(read.client, Some(None)));
    let missing = common::new_id();
    let read = s.read(&missing, &s.client_id).await;
    assert!(read.family.family.is_none());
    assert!(read.family.time.is_some());
    assert!(matches!(read.client, Some(Some(_))));
    assert!(read.user.is_none());

    // Two rows for one user break the host query's rule: left to the directory, not picked from.
    s.add_user("sub-joined", Some(true)).await;
    let read = s.read(&f.id, &s.client_id).await;
    assert!(read.user.is_none());
    assert_eq!(
        read.family.family.map(|x| x.id),
        Some(f.id),
        "the rest still answered"
    );

    // A user row the host's decoder refuses: left to the directory too (which reports it in order).
    let g = s.create_family("sub-corrupt").await;
    s.add_user("sub-corrupt", None).await;
    let read = s.read(&g.id, &s.client_id).await;
    assert!(read.user.is_none());
    assert!(matches!(read.client, Some(Some(_))));
}

#[tokio::test]
async fn r_rot_11_on_the_hosts_clock_the_joined_read_gives_no_time() {
    let Some(s) = set_up(false).await else { return };
    let f = s.create_family("sub-host-clock").await;
    let read = s.read(&f.id, &s.client_id).await;
    assert!(read.family.family.is_some());
    assert!(read.family.time.is_none());
}

/// One instance of a service: its own connections, client store, families and issuer, on shared tables.
struct Instance {
    issuer: refresh_rotation::AsyncTokenIssuer,
    registry: Arc<ClientRegistry>,
    families: PgPoolFamilies,
}

async fn instance(
    url: &str,
    table: &str,
    prefix: &str,
    users: &Arc<InMemoryUserDirectory>,
) -> Instance {
    let (store, clients) = stores_on(url, table, prefix).await;
    store.migrate().await.unwrap();
    clients.migrate().await.unwrap();
    let families = clients.families(&store).unwrap();
    let registry = Arc::new(
        ClientRegistry::new(POOL, Arc::new(SystemClock), Arc::new(SystemRandom::new()))
            .with_store(Arc::new(clients)),
    );
    let issuer = refresh_rotation::AsyncTokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "k").unwrap(),
        )),
        RefreshTokenKeys::new(RefreshTokenKey::new(1, &[3; 32]).unwrap()),
        registry.clone(),
        Arc::new(families.clone()),
        users.clone(),
    )
    .build();
    Instance {
        issuer,
        registry,
        families,
    }
}

#[tokio::test]
async fn r_per_4_an_answer_from_memory_never_outlives_what_another_instance_changed() {
    let Some(url) = common::pg_url() else { return };
    let (table, prefix) = (
        common::unique_table(),
        format!("{}_", common::unique_table()),
    );
    let users = Arc::new(InMemoryUserDirectory::new());
    users.put(UserRecord::new("sub-mem", "alice")).unwrap();
    let a = instance(&url, &table, &prefix, &users).await;
    let b = instance(&url, &table, &prefix, &users).await;
    let client = a
        .registry
        .create_client_async(
            AppClientConfig::builder("memory")
                .refresh_token_rotation(RefreshTokenRotation::enabled(60).unwrap()),
            NewClientSecret::None,
        )
        .await
        .unwrap();
    let id = client.client_id().to_string();
    let sign_in = || async {
        a.issuer
            .sign_in(&SignInRequest::new(ClientId::parse(&id).unwrap(), "alice"))
            .await
            .unwrap()
            .refresh_token
            .unwrap()
    };
    async fn go(
        i: &Instance,
        t: &RefreshToken,
        id: &str,
    ) -> Result<refresh_rotation::TokenSet, Error> {
        i.issuer
            .get_tokens_from_refresh_token(&RefreshRequest::new(t, ClientId::parse(id).unwrap()))
            .await
    }
    let next = |r: Result<refresh_rotation::TokenSet, Error>| r.unwrap().refresh_token.unwrap();

    // A remembers the family after its first refresh.
    let t0 = sign_in().await;
    let t1 = next(go(&a, &t0, &id).await);
    assert!(a.families.remembered(&family_of(&a, &t1), &id).is_some());

    // B advances it: A's memory is behind. The token B gave works on A (A reads again)...
    let t2 = next(go(&b, &t1, &id).await);
    let t3 = next(go(&a, &t2, &id).await);
    // ...and t2, presented again on A within the grace period, is a retry, not a second advance.
    let again = next(go(&a, &t2, &id).await);
    assert_eq!(again, t3, "R-ROT-2: the same successor");

    // B turns rotation off: A's next refresh follows it (no new refresh token, R-ROT-6).
    b.registry
        .update_client_with_async(&id, |c| {
            c.refresh_token_rotation(RefreshTokenRotation::DISABLED)
        })
        .await
        .unwrap();
    assert!(go(&a, &t3, &id).await.unwrap().refresh_token.is_none());
    b.registry
        .update_client_with_async(&id, |c| {
            c.refresh_token_rotation(RefreshTokenRotation::enabled(60).unwrap())
        })
        .await
        .unwrap();
    let t4 = next(go(&a, &t3, &id).await);
    let t5 = next(go(&a, &t4, &id).await);

    // B revokes the family: A refuses at once.
    b.issuer
        .revoke_token(&t5, ClientId::parse(&id).unwrap(), None)
        .await
        .unwrap();
    assert_eq!(
        go(&a, &t5, &id).await.unwrap_err(),
        Error::RefreshTokenRevoked
    );

    // The client's row changed by hand, its revision kept: A does not advance on what it remembers,
    // it reads, and refuses the row as any read would.
    let v0 = sign_in().await;
    let v1 = next(go(&a, &v0, &id).await);
    let (admin, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    admin
        .execute(
            &format!(
                "UPDATE {prefix}app_clients SET config = jsonb_set(config, \
                 '{{access_token_validity}}', '999999') WHERE client_id = $1"
            ),
            &[&id],
        )
        .await
        .unwrap();
    assert!(matches!(go(&a, &v1, &id).await, Err(Error::Store(_))));
    admin
        .execute(
            &format!(
                "UPDATE {prefix}app_clients SET config = jsonb_set(config, \
                 '{{access_token_validity}}', '1') WHERE client_id = $1"
            ),
            &[&id],
        )
        .await
        .unwrap();

    // B deletes the client: A refuses at once.
    let u0 = sign_in().await;
    let u1 = next(go(&a, &u0, &id).await);
    b.registry.delete_client_async(&id).await.unwrap();
    assert!(matches!(
        go(&a, &u1, &id).await.unwrap_err(),
        Error::ClientNotFound { .. }
    ));
}

/// The family a refresh token names, as the issuer decodes it.
fn family_of(i: &Instance, t: &RefreshToken) -> refresh_rotation::store::FamilyId {
    i.issuer
        .engine()
        .refresh_keys()
        .decode(t.expose_secret())
        .unwrap()
        .family()
}

/// Alice (`sub`) in the database and the directory, the client turned to rotation with a 30-second
/// grace period, and an issuer over the joined store: the issuer and the client's secret.
async fn rotating_issuer(s: &Setup, sub: &str) -> (refresh_rotation::AsyncTokenIssuer, String) {
    s.add_user(sub, Some(true)).await;
    let users = Arc::new(InMemoryUserDirectory::new());
    users.put(UserRecord::new(sub, "alice")).unwrap();
    s.registry
        .update_client_with_async(&s.client_id, |c| {
            c.refresh_token_rotation(RefreshTokenRotation::enabled(30).unwrap())
        })
        .await
        .unwrap();
    let secret = s
        .registry
        .get_async(&s.client_id)
        .await
        .unwrap()
        .unwrap()
        .secret()
        .unwrap()
        .expose_secret()
        .to_owned();
    let issuer = refresh_rotation::AsyncTokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "k").unwrap(),
        )),
        RefreshTokenKeys::new(RefreshTokenKey::new(1, &[3; 32]).unwrap()),
        s.registry.clone(),
        Arc::new(s.families.clone()),
        users,
    )
    .build();
    (issuer, secret)
}

#[tokio::test]
async fn r_per_5_a_witnessed_advance_sets_the_grace_deadline_on_the_database_clock_and_survives_a_broken_user_rule(
) {
    let Some(s) = set_up(true).await else { return };
    let (issuer, secret) = rotating_issuer(&s, "sub-wit").await;
    let mut sign_in = SignInRequest::new(ClientId::parse(&s.client_id).unwrap(), "alice");
    sign_in.client_secret = Some(PresentedSecret::parse(&secret).unwrap());
    let mut token = issuer
        .sign_in(&sign_in)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let refresh = |t: RefreshToken| {
        let (issuer, id, secret) = (&issuer, &s.client_id, &secret);
        async move {
            let mut req = RefreshRequest::new(&t, ClientId::parse(id).unwrap());
            req.client_secret = Some(PresentedSecret::parse(secret).unwrap());
            issuer.get_tokens_from_refresh_token(&req).await
        }
    };
    // The first refresh reads; the second is answered from memory and advanced with its witness.
    token = refresh(token).await.unwrap().refresh_token.unwrap();
    let id = issuer
        .engine()
        .refresh_keys()
        .decode(token.expose_secret())
        .unwrap()
        .family();
    assert!(s.families.remembered(&id, &s.client_id).is_some());
    token = refresh(token).await.unwrap().refresh_token.unwrap();
    let (deadline, db_now): (i64, i64) = {
        let row = s
            .admin
            .query_one(
                &format!(
                    "SELECT grace_deadline, floor(extract(epoch FROM clock_timestamp()))::bigint \
                     FROM {} WHERE family_id = $1",
                    s.store.table_name()
                ),
                &[&id.as_bytes().as_slice()],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(
        (db_now + 30 - 2..=db_now + 30).contains(&deadline),
        "grace deadline {deadline} = database clock {db_now} + 30"
    );

    // The host's user query now answers two rows (its rule broken): the witnessed advance does not
    // happen and does not fail (checked directly: through the issuer, a read would hide it) ...
    let remembered = s
        .families
        .remembered(&id, &s.client_id)
        .expect("remembered after its advance");
    let family = remembered.family.family.expect("the family");
    let deadline = remembered
        .family
        .time
        .unwrap()
        .checked_add_secs(30)
        .unwrap();
    s.add_user("sub-wit", Some(true)).await;
    let advanced = s
        .families
        .advance_witnessed(
            &id,
            family.state.generation,
            deadline,
            family.state.key_id,
            remembered.witness.as_ref().unwrap(),
        )
        .await
        .unwrap()
        .advance;
    assert!(
        matches!(advanced, refresh_rotation::store::Advance::Unchanged(_)),
        "{advanced:?}"
    );
    // ... and the read leaves the user to the directory, which answers.
    let answer = refresh(token).await;
    assert!(
        answer.as_ref().is_ok_and(|t| t.refresh_token.is_some()),
        "{answer:?}"
    );
}

#[tokio::test]
async fn r_per_5_a_client_naming_declared_scopes_is_remembered_with_them_and_checked_against_them()
{
    let Some(url) = common::pg_url() else { return };
    let (table, prefix) = (
        common::unique_table(),
        format!("{}_", common::unique_table()),
    );
    let users = Arc::new(InMemoryUserDirectory::new());
    users.put(UserRecord::new("sub-scopes", "alice")).unwrap();
    let a = instance(&url, &table, &prefix, &users).await;
    a.registry
        .declare_custom_scope_async("api/read")
        .await
        .unwrap();
    let client = a
        .registry
        .create_client_async(
            AppClientConfig::builder("scoped")
                .allowed_oauth_flows([refresh_rotation::config::OAuthFlow::ClientCredentials])
                .allowed_oauth_flows_user_pool_client(true)
                .allowed_oauth_scopes(["api/read"])
                .refresh_token_rotation(RefreshTokenRotation::enabled(60).unwrap()),
            NewClientSecret::Generate,
        )
        .await
        .unwrap();
    let id = client.client_id().to_string();
    let secret = client.secret().unwrap().expose_secret().to_owned();
    let go = |t: RefreshToken| {
        let (a, id, secret) = (&a, &id, &secret);
        async move {
            let mut req = RefreshRequest::new(&t, ClientId::parse(id).unwrap());
            req.client_secret = Some(PresentedSecret::parse(secret).unwrap());
            a.issuer.get_tokens_from_refresh_token(&req).await
        }
    };
    let mut sign_in = SignInRequest::new(ClientId::parse(&id).unwrap(), "alice");
    sign_in.client_secret = Some(PresentedSecret::parse(&secret).unwrap());
    let t0 = a
        .issuer
        .sign_in(&sign_in)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    // Read, then remembered with the declared scope; its witnessed advance happens (checked here
    // directly: through the issuer, a witnessed advance that did not happen would still succeed by a read).
    let t1 = go(t0).await.unwrap().refresh_token.unwrap();
    let fid = family_of(&a, &t1);
    let answer = a
        .families
        .remembered(&fid, &id)
        .expect("remembered after the read");
    let family = answer.family.family.expect("the family");
    let deadline = answer.family.time.unwrap().checked_add_secs(60).unwrap();
    let advanced = a
        .families
        .advance_witnessed(
            &fid,
            family.state.generation,
            deadline,
            family.state.key_id,
            answer.witness.as_ref().unwrap(),
        )
        .await
        .unwrap()
        .advance;
    let refresh_rotation::store::Advance::Advanced(state) = advanced else {
        panic!("the witnessed advance with a declared scope did not happen: {advanced:?}")
    };
    let t2 = a
        .issuer
        .engine()
        .refresh_keys()
        .encode(&fid, state.generation);
    assert!(
        go(t2.clone()).await.is_ok(),
        "the advanced family refreshes"
    );
    let t2 = a
        .issuer
        .engine()
        .refresh_keys()
        .encode(&fid, state.generation + 1);
    // The declaration removed by hand: the witnessed advance does not happen; the read refuses the
    // client, as any read of it would (its configuration names a scope no longer declared).
    let (admin, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    admin
        .execute(&format!("DELETE FROM {prefix}app_client_scopes"), &[])
        .await
        .unwrap();
    assert!(matches!(go(t2).await, Err(Error::Store(_))));
}

/// R-PER-5: the witnessed advance refuses any user row but the one remembered: none, a changed one, a
/// renamed one, or a second one (which fails the statement and is answered as Unchanged, the memory
/// forgotten); the same witness advances once the row is as remembered again. Checked directly, since
/// through the issuer a refused witnessed advance is hidden by the read that follows it.
#[tokio::test]
async fn r_per_5_a_witnessed_advance_refuses_any_user_row_but_the_one_remembered() {
    use refresh_rotation::store::Advance;
    let Some(s) = set_up(true).await else { return };
    let (issuer, secret) = rotating_issuer(&s, "sub-r").await;
    let client_id = ClientId::parse(&s.client_id).unwrap();
    let presented = PresentedSecret::parse(&secret).unwrap();
    let mut sign_in = SignInRequest::new(client_id, "alice");
    sign_in.client_secret = Some(presented);
    let token = issuer
        .sign_in(&sign_in)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let mut req = RefreshRequest::new(&token, client_id);
    req.client_secret = Some(presented);
    let token = issuer
        .get_tokens_from_refresh_token(&req)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let id = issuer
        .engine()
        .refresh_keys()
        .decode(token.expose_secret())
        .unwrap()
        .family();
    let generation = || async {
        let row = s
            .admin
            .query_one(
                &format!(
                    "SELECT generation FROM {} WHERE family_id = $1",
                    s.store.table_name()
                ),
                &[&id.as_bytes().as_slice()],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0)
    };
    let advance = |answer: &FamilyAndClient| {
        let family = answer.family.family.clone().unwrap();
        let deadline = answer.family.time.unwrap().checked_add_secs(30).unwrap();
        let witness = answer.witness.clone().unwrap();
        let families = s.families.clone();
        async move {
            families
                .advance_witnessed(
                    &id,
                    family.state.generation,
                    deadline,
                    family.state.key_id,
                    &witness,
                )
                .await
                .unwrap()
        }
    };
    let remembered = s
        .families
        .remembered(&id, &s.client_id)
        .expect("remembered");
    let before = generation().await;
    let users_table = &s.users;
    for (case, sql) in [
        ("no row", format!("DELETE FROM {users_table}")),
        ("a changed row", String::new()),
        (
            "a renamed user",
            format!("UPDATE {users_table} SET enabled = TRUE, username = 'bob'"),
        ),
    ] {
        if sql.is_empty() {
            s.add_user("sub-r", Some(false)).await;
        } else {
            s.admin.execute(&sql, &[]).await.unwrap();
        }
        let answer = advance(&remembered).await;
        assert!(
            matches!(answer.advance, Advance::Unchanged(_)),
            "{case}: {answer:?}"
        );
        assert_eq!(generation().await, before, "{case}");
        // R-PER-5: the statement read the user as it is now, for the engine's next decision.
        let read = answer.read.expect("read with the refused advance");
        let user = read.user.expect("the user was read");
        match case {
            "no row" => assert!(user.is_none(), "{case}: {user:?}"),
            "a changed row" => assert!(!user.expect(case).enabled, "{case}"),
            _ => assert_eq!(&*user.expect(case).username, "bob", "{case}"),
        }
        assert!(read.witness.is_none(), "{case}: a read has no witness");
    }
    // As remembered again: the same witness advances.
    s.admin
        .execute(&format!("UPDATE {users_table} SET username = 'alice'"), &[])
        .await
        .unwrap();
    let answer = advance(&remembered).await;
    assert!(matches!(answer.advance, Advance::Advanced(_)), "{answer:?}");
    assert!(
        answer.read.is_none(),
        "nothing read with an advance that happened"
    );
    assert_eq!(generation().await, before + 1);
    // A second row for the user: refused, and the memory of the family dropped.
    let remembered = s
        .families
        .remembered(&id, &s.client_id)
        .expect("remembered after its advance");
    s.admin
        .execute(
            &format!(
                "INSERT INTO {users_table} (pool_id, sub, username, enabled) \
                 VALUES ($1, 'sub-r', 'alice', TRUE)"
            ),
            &[&POOL],
        )
        .await
        .unwrap();
    let answer = advance(&remembered).await;
    assert!(
        matches!(answer.advance, Advance::Unchanged(_)),
        "{answer:?}"
    );
    assert_eq!(generation().await, before + 1);
    assert!(s.families.remembered(&id, &s.client_id).is_none());
}

/// R-PER-5: a witnessed advance refused because another instance advanced the family while the
/// statement waited for its row reads the family as that instance left it, not as the statement's
/// snapshot had it: the engine then decides on what is true, and does not spend a compare-and-set
/// that must fail and a third round trip.
#[tokio::test]
async fn r_per_5_a_refused_witnessed_advance_reads_what_a_concurrent_writer_committed() {
    use refresh_rotation::store::Advance;
    let Some(s) = set_up(true).await else { return };
    let url = common::pg_url().unwrap();
    // A family of the pool's client, which the witnessed advance checks.
    let mut family = common::family("sub-c", 4_000_000_000);
    Arc::make_mut(&mut family.info).client_id = Arc::from(s.client_id.as_str());
    AsyncRefreshTokenStore::create(&s.store, family.clone())
        .await
        .unwrap();
    s.add_user("sub-c", Some(true)).await;
    let first = s.read(&family.id, &s.client_id).await;
    let generation = first.family.family.as_ref().unwrap().state.generation;
    let remembered = s
        .families
        .remembered(&family.id, &s.client_id)
        .expect("remembered after a complete read");

    // Another instance's advance, not yet committed: the witnessed advance waits for the row.
    let (writer, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    writer
        .batch_execute(&format!(
            "BEGIN; UPDATE {} SET generation = generation + 1 WHERE family_id = '\\x{}'",
            s.store.table_name(),
            family
                .id
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ))
        .await
        .unwrap();
    let families = s.families.clone();
    let id = family.id;
    let deadline = remembered
        .family
        .time
        .unwrap()
        .checked_add_secs(30)
        .unwrap();
    let witness = remembered.witness.clone().unwrap();
    let key_id = family.state.key_id;
    let advance = tokio::spawn(async move {
        families
            .advance_witnessed(&id, generation, deadline, key_id, &witness)
            .await
            .unwrap()
    });
    // Commit only once the statement is waiting for the row lock.
    let mut waiting = false;
    for _ in 0..1_000 {
        let row = s
            .admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE wait_event_type = 'Lock' AND query LIKE 'WITH adv%'",
                &[],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(waiting, "the witnessed advance never waited for the row");
    writer.batch_execute("COMMIT").await.unwrap();

    let answer = advance.await.unwrap();
    assert!(
        matches!(answer.advance, Advance::Unchanged(_)),
        "{answer:?}"
    );
    let read = answer.read.expect("read with the refused advance");
    let state = read.family.family.expect("the family").state;
    assert_eq!(state.generation, generation + 1, "the committed advance");
    assert!(read.family.time.is_some(), "on the database clock");
}

/// R-REV-3 with pools sharing one family table: a global sign-out in one pool revokes the subject's
/// families of that pool (and of a client deleted since), never those of another pool's clients.
#[tokio::test]
async fn r_rev_3_global_sign_out_in_one_pool_leaves_another_pools_families() {
    let Some(s) = set_up(true).await else { return };
    let other = s.clients.for_pool("us-east-1_PgOther");
    let other_registry = ClientRegistry::new(
        "us-east-1_PgOther",
        Arc::new(SystemClock),
        Arc::new(SystemRandom::new()),
    )
    .with_store(Arc::new(other.clone()));
    let other_client = other_registry
        .create_client_async(AppClientConfig::builder("other"), NewClientSecret::None)
        .await
        .unwrap();
    let family_of = |client: &str| {
        let mut f = common::family("shared-sub", 4_000_000_000);
        let mut info = (*f.info).clone();
        info.client_id = Arc::from(client);
        f.info = Arc::new(info);
        f
    };
    let here = family_of(&s.client_id);
    let there = family_of(other_client.client_id());
    let deleted = family_of("a-client-deleted-since");
    for f in [&here, &there, &deleted] {
        AsyncRefreshTokenStore::create(&s.store, f.clone())
            .await
            .unwrap();
    }
    let revoked = |f: &Family| {
        let store = s.store.clone();
        let id = f.id;
        async move {
            AsyncRefreshTokenStore::read(&store, &id)
                .await
                .unwrap()
                .family
                .unwrap()
                .state
                .revoked
        }
    };
    assert_eq!(s.families.revoke_subject("shared-sub").await.unwrap(), 2);
    assert!(revoked(&here).await);
    assert!(revoked(&deleted).await);
    assert!(
        !revoked(&there).await,
        "another pool's family was signed out"
    );
    // The other pool's own sign-out reaches it.
    let other_families = other.families(&s.store).unwrap();
    assert_eq!(
        other_families.revoke_subject("shared-sub").await.unwrap(),
        1
    );
    assert!(revoked(&there).await);
}

/// R-REV-3 at scale: a global sign-out finds out whether a family's client belongs to another pool or
/// was deleted by looking the client id up in every pool, and that lookup goes through an index (built
/// by `migrate`), not through a read of the whole clients table: with the deployment's clients in one
/// table, that read would make every sign-out cost as much as the table is large.
/// PostgreSQL's statistics of the clients table show which: the sign-out's lookups are index scans and
/// add no sequential scan.
#[tokio::test]
async fn r_rev_3_global_sign_out_looks_clients_up_through_an_index() {
    let Some(url) = common::pg_url() else { return };
    let (family_table, prefix) = (
        common::unique_table(),
        format!("{}_", common::unique_table()),
    );
    let clients_table = format!("{prefix}app_clients");
    let (admin, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);

    // Set-up on an instance of its own, closed before the count starts.
    let (store, clients) = named_instance(&url, &family_table, &prefix, "rr_scan_setup").await;
    store.migrate().await.unwrap();
    clients.migrate().await.unwrap();
    let registry = ClientRegistry::new(POOL, Arc::new(SystemClock), Arc::new(SystemRandom::new()))
        .with_store(Arc::new(clients.clone()));
    let client = registry
        .create_client_async(AppClientConfig::builder("scan"), NewClientSecret::None)
        .await
        .unwrap();
    // One family of this pool's client, and one of a client deleted since: the lookup in every pool
    // runs for the latter.
    for client in [client.client_id(), "a-client-deleted-since"] {
        let mut f = common::family("scan-sub", 4_000_000_000);
        let mut info = (*f.info).clone();
        info.client_id = Arc::from(client);
        f.info = Arc::new(info);
        AsyncRefreshTokenStore::create(&store, f).await.unwrap();
    }
    // Another pool's clients, enough that reading them all costs more than an index lookup.
    admin
        .batch_execute(&format!(
            "INSERT INTO {clients_table} (pool_id, client_id, config, secret_sealed, creation_date, \
             last_modified_date, revision) \
             SELECT 'us-east-1_PgBulk', md5(i::text), '{{}}'::jsonb, NULL, 0, 0, 0 \
             FROM generate_series(1, 20000) AS i; \
             ANALYZE {clients_table}; ANALYZE {family_table}"
        ))
        .await
        .unwrap();
    drop((registry, clients, store));
    let before = scans_once_closed(&admin, "rr_scan_setup", &clients_table).await;

    // The sign-out alone, on another instance.
    let (store, clients) = named_instance(&url, &family_table, &prefix, "rr_scan_sign_out").await;
    let families = clients.families(&store).unwrap();
    assert_eq!(families.revoke_subject("scan-sub").await.unwrap(), 2);
    drop((families, clients, store));
    let after = scans_once_closed(&admin, "rr_scan_sign_out", &clients_table).await;

    assert!(after.1 > before.1, "no index scan: {before:?} -> {after:?}");
    assert_eq!(
        after.0, before.0,
        "the sign-out read the whole clients table: {before:?} -> {after:?}"
    );
    admin
        .batch_execute(&format!(
            "DROP TABLE {family_table}, {clients_table}, {prefix}app_client_scopes, \
             {prefix}app_client_pools"
        ))
        .await
        .unwrap();
}

/// A family store on `table` and a client store of [`POOL`] on the tables of `prefix`, on the
/// connections of `url`.
async fn stores_on(url: &str, table: &str, prefix: &str) -> (PgRefreshTokenStore, PgClientStore) {
    let store = PgRefreshTokenStore::builder()
        .table(table)
        .max_connections(4)
        .min_idle(Some(0))
        .connect(url)
        .await
        .unwrap();
    let sealer = SecretSealer::new(1, &[7; 32], Arc::new(SystemRandom::new())).unwrap();
    let clients = PgClientStore::with_table_prefix(&store, POOL, Arc::new(sealer), prefix).unwrap();
    (store, clients)
}

/// [`stores_on`], on connections that identify themselves as `application_name`.
async fn named_instance(
    url: &str,
    table: &str,
    prefix: &str,
    application_name: &str,
) -> (PgRefreshTokenStore, PgClientStore) {
    let url = common::with_param(url, "application_name", application_name);
    stores_on(&url, table, prefix).await
}

/// The sequential and index scans of `table` so far, once every connection named `application_name`
/// has closed. A server process reports its statistics when it exits, but may hold them back for up
/// to ten seconds while it lives; its exit is what makes the reading exact.
async fn scans_once_closed(
    admin: &tokio_postgres::Client,
    application_name: &str,
    table: &str,
) -> (i64, i64) {
    for _ in 0..200 {
        let open: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&application_name],
            )
            .await
            .unwrap()
            .get(0);
        if open == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The exiting process leaves the activity view just before it reports: readings 200 ms apart that
    // agree are the final ones.
    let reading = || async {
        admin
            .batch_execute("SELECT pg_stat_clear_snapshot()")
            .await
            .unwrap();
        let row = admin
            .query_one(
                "SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = $1",
                &[&table],
            )
            .await
            .unwrap();
        (row.get::<_, i64>(0), row.get::<_, i64>(1))
    };
    let mut last = reading().await;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = reading().await;
        if now == last {
            return now;
        }
        last = now;
    }
}

/// R-PER-5 / failure handling: the joined read is a statement prepared once per pooled connection. When
/// the host's user table gains a column (an ordinary online schema change) and the host's user query
/// selects `*`, PostgreSQL refuses every later execution of that prepared statement with 0A000 ("cached
/// plan must not change result type"). The store should prepare it again; it keeps the stale statement
/// and every refresh on that connection fails until the pool happens to recycle the connection.
#[tokio::test]
async fn r_per_5_the_joined_read_survives_a_column_added_to_the_users_table() {
    let Some(url) = common::pg_url() else { return };
    // One connection: the reads after the change run on the connection that prepared the statement.
    let store = PgRefreshTokenStore::builder()
        .table(&common::unique_table())
        .max_connections(1)
        .min_idle(Some(1))
        .connect(&url)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let s = set_up_on(store, "*").await;
    let f = s.create_family("sub-ddl").await;
    s.add_user("sub-ddl", Some(true)).await;
    assert!(s.read(&f.id, &s.client_id).await.user.is_some());
    s.admin
        .batch_execute(&format!(
            "ALTER TABLE {} ADD COLUMN last_seen BIGINT",
            s.users
        ))
        .await
        .unwrap();
    for attempt in 0..3 {
        let read = s.families.read_with_client(&f.id, &s.client_id).await;
        assert!(
            read.is_ok(),
            "attempt {attempt}: the joined read fails after a column was added: {:?}",
            read.err()
        );
    }
}

/// R-ROT-5 with R-PER-5: refreshes racing on one token, each decided on an answer from memory (the
/// witnessed advance), on two instances over one database: the family advances once, and every loser
/// is answered as the decision table says (grace open: the same successor; grace 0: reuse).
mod witnessed_race {
    use std::sync::Arc;

    use refresh_rotation::config::RefreshTokenRotation;
    use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
    use refresh_rotation::engine::ClientId;
    use refresh_rotation::store::AsyncRefreshTokenStore;
    use refresh_rotation::{
        AppClientConfig, AsyncTokenIssuer, Error, NewClientSecret, RefreshRequest, RefreshToken,
        SignInRequest,
    };

    use super::{common, instance};

    async fn go(
        i: &AsyncTokenIssuer,
        t: &RefreshToken,
        id: &str,
    ) -> Result<refresh_rotation::TokenSet, Error> {
        i.get_tokens_from_refresh_token(&RefreshRequest::new(t, ClientId::parse(id).unwrap()))
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn r_rot_5_racing_refreshes_from_memory_on_two_instances_advance_once() {
        let Some(url) = common::pg_url() else { return };
        let (table, prefix) = (
            common::unique_table(),
            format!("{}_", common::unique_table()),
        );
        let users = Arc::new(InMemoryUserDirectory::new());
        users.put(UserRecord::new("sub-race", "alice")).unwrap();
        let a = Arc::new(instance(&url, &table, &prefix, &users).await);
        let b = Arc::new(instance(&url, &table, &prefix, &users).await);
        for grace in [30u8, 0] {
            let client = a
                .registry
                .create_client_async(
                    AppClientConfig::builder("race")
                        .refresh_token_rotation(RefreshTokenRotation::enabled(grace).unwrap()),
                    NewClientSecret::None,
                )
                .await
                .unwrap();
            let id = client.client_id().to_string();
            for round in 0..10 {
                let t0 = a
                    .issuer
                    .sign_in(&SignInRequest::new(ClientId::parse(&id).unwrap(), "alice"))
                    .await
                    .unwrap()
                    .refresh_token
                    .unwrap();
                // Both instances remember the family at generation 1.
                let t1 = go(&a.issuer, &t0, &id)
                    .await
                    .unwrap()
                    .refresh_token
                    .unwrap();
                let t2 = go(&b.issuer, &t1, &id)
                    .await
                    .unwrap()
                    .refresh_token
                    .unwrap();
                let fam = a
                    .issuer
                    .engine()
                    .refresh_keys()
                    .decode(t2.expose_secret())
                    .unwrap()
                    .family();
                let t3 = go(&a.issuer, &t2, &id)
                    .await
                    .unwrap()
                    .refresh_token
                    .unwrap();
                let _ = b.families.read_with_client(&fam, &id).await.unwrap();
                let _ = a.families.read_with_client(&fam, &id).await.unwrap();
                assert!(a.families.remembered(&fam, &id).is_some());
                assert!(b.families.remembered(&fam, &id).is_some());
                let barrier = Arc::new(tokio::sync::Barrier::new(8));
                let tasks: Vec<_> = (0..8)
                    .map(|i| {
                        let inst = Arc::clone(if i % 2 == 0 { &a } else { &b });
                        let (barrier, t3, id) = (Arc::clone(&barrier), t3.clone(), id.clone());
                        tokio::spawn(async move {
                            barrier.wait().await;
                            go(&inst.issuer, &t3, &id).await
                        })
                    })
                    .collect();
                let mut results = Vec::new();
                for t in tasks {
                    results.push(t.await.unwrap());
                }
                let state = AsyncRefreshTokenStore::read(&a.families, &fam)
                    .await
                    .unwrap()
                    .family
                    .unwrap()
                    .state;
                assert_eq!(
                    state.generation, 4,
                    "grace {grace} round {round}: one advance: {results:?}"
                );
                if grace > 0 {
                    let tokens: Vec<_> = results
                        .iter()
                        .map(|r| {
                            r.as_ref()
                                .unwrap_or_else(|e| {
                                    panic!("grace {grace} round {round}: {e:?} in {results:?}")
                                })
                                .refresh_token
                                .clone()
                                .unwrap()
                        })
                        .collect();
                    assert!(
                        tokens.iter().all(|t| *t == tokens[0]),
                        "R-ROT-2: one successor"
                    );
                } else {
                    assert_eq!(
                        results.iter().filter(|r| r.is_ok()).count(),
                        1,
                        "grace 0: {results:?}"
                    );
                    assert!(
                        results
                            .iter()
                            .filter_map(|r| r.as_ref().err())
                            .all(|e| *e == Error::RefreshTokenReused),
                        "{results:?}"
                    );
                }
            }
        }
    }
}
