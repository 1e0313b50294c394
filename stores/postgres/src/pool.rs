//! Pooled connections, each with its own cache of prepared statements.
//!
//! A statement sent as text costs two round trips (parse, then bind and execute); a prepared one costs
//! one. Preparing each statement once per connection is what keeps a successful refresh at two round
//! trips, the read and the conditional update (R-PER-5). PostgreSQL prepared statements belong to one
//! session, hence the cache lives in the pooled connection, next to its client.
//!
//! A tokio-postgres client is a handle; the socket is driven by a separate connection future, which is
//! spawned here on the runtime that opens the connection. It ends when the client is dropped or the
//! server goes away.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio_postgres::{Client, Statement};

use crate::schema::{Statements, Stmt};

/// Opens a new client and spawns its connection task. Boxed so that the store's type does not depend on
/// the TLS connector.
pub(crate) type Connector = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Client, tokio_postgres::Error>> + Send>>
        + Send
        + Sync,
>;

/// The bb8 manager: opens clients, tells bb8 when one is broken.
pub(crate) struct Manager {
    connect: Connector,
    statements: Arc<Statements>,
    last_error: LastError,
}

impl Manager {
    pub(crate) fn new(
        connect: Connector,
        statements: Arc<Statements>,
        last_error: LastError,
    ) -> Self {
        Manager {
            connect,
            statements,
            last_error,
        }
    }
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Deliberately shows nothing of the connection settings: they hold the password.
        f.write_str("Manager")
    }
}

/// A client and the statements prepared on it so far.
pub(crate) struct Conn {
    client: Client,
    statements: Arc<Statements>,
    prepared: [Option<Statement>; Stmt::COUNT],
    /// Statements of the other stores sharing this pool (the client store), by SQL text: a fixed,
    /// small set per store, so the map stays bounded.
    others: HashMap<Arc<str>, Statement>,
    /// Set when an operation failed in a way that leaves the session unusable; the pool then drops it.
    broken: bool,
}

impl Conn {
    /// The client, for statements that are not cached (the migration).
    pub(crate) fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Marks the connection as unusable, so the pool discards it instead of reusing it.
    pub(crate) fn mark_broken(&mut self) {
        self.broken = true;
    }

    /// The client and statement `s`, prepared on first use (one extra round trip, once per connection).
    pub(crate) async fn prepared(
        &mut self,
        s: Stmt,
    ) -> Result<(&Client, Statement), tokio_postgres::Error> {
        let i = s.index();
        let stmt = match &self.prepared[i] {
            Some(st) => st.clone(),
            None => {
                let st = self.client.prepare(self.statements.sql(s)).await?;
                self.prepared[i] = Some(st.clone());
                st
            }
        };
        Ok((&self.client, stmt))
    }
}

impl Conn {
    /// Statement `sql` of another store sharing the pool (the client store), prepared on first use on
    /// this connection, so that its reads cost one round trip as the family store's do.
    pub(crate) async fn prepared_sql(
        &mut self,
        sql: &Arc<str>,
    ) -> Result<Statement, tokio_postgres::Error> {
        if let Some(st) = self.others.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql).await?;
        self.others.insert(Arc::clone(sql), st.clone());
        Ok(st)
    }
}

impl bb8::ManageConnection for Manager {
    type Connection = Conn;
    type Error = tokio_postgres::Error;

    async fn connect(&self) -> Result<Conn, tokio_postgres::Error> {
        let client = (self.connect)().await?;
        // The server is reachable again: an older failure no longer explains a later timeout (which
        // would then be a pool exhausted by load).
        self.last_error.clear();
        Ok(Conn {
            client,
            statements: Arc::clone(&self.statements),
            prepared: Default::default(),
            others: HashMap::new(),
            broken: false,
        })
    }

    async fn is_valid(&self, conn: &mut Conn) -> Result<(), tokio_postgres::Error> {
        conn.client.simple_query("").await.map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        // The client learns that the server hung up only when its connection task next polls the
        // socket, so `is_closed` alone can lag one failed operation behind.
        conn.broken || conn.client.is_closed()
    }
}

/// Keeps the text of the last error met while opening a connection in the background.
///
/// bb8 opens connections on its own tasks and, when none could be had in time, tells the waiting
/// caller only that it timed out. The reason (refused, wrong password, an untrusted certificate) goes
/// to the pool's error sink: this one keeps it, already redacted, for the caller's error message.
#[derive(Clone, Default)]
pub(crate) struct LastError {
    text: Arc<Mutex<Option<String>>>,
    redact: crate::error::Redactor,
}

impl LastError {
    /// Whether `other` is this pool's (the two stores run on the same connections).
    pub(crate) fn same_pool(&self, other: &LastError) -> bool {
        Arc::ptr_eq(&self.text, &other.text)
    }

    pub(crate) fn new(redact: crate::error::Redactor) -> Self {
        LastError {
            text: Arc::default(),
            redact,
        }
    }

    /// The last connection error, if any.
    pub(crate) fn get(&self) -> Option<String> {
        // A poisoned lock only means another thread panicked while writing a string; the value is fine.
        match self.text.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn set(&self, text: Option<String>) {
        match self.text.lock() {
            Ok(mut g) => *g = text,
            Err(p) => *p.into_inner() = text,
        }
    }

    fn clear(&self) {
        self.set(None);
    }
}

impl std::fmt::Debug for LastError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LastError")
    }
}

impl bb8::ErrorSink<tokio_postgres::Error> for LastError {
    fn sink(&self, error: tokio_postgres::Error) {
        self.set(Some(self.redact.text(&error)));
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<tokio_postgres::Error>> {
        Box::new(self.clone())
    }
}
