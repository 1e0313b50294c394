//! Pooled connections, each with its own cache of prepared statements.
//!
//! A statement sent as text costs two round trips (parse, then bind and execute); a prepared one costs
//! one. The refresh path runs two or three statements, so preparing each once per connection roughly
//! halves its latency. PostgreSQL prepared statements belong to one session, hence the cache lives in
//! the pooled connection, next to its client.

use std::sync::Arc;

use postgres::{Client, Statement};

use crate::schema::{Statements, Stmt};

/// Opens a new client. Boxed so that the store's type does not depend on the TLS connector.
pub(crate) type Connector = Box<dyn Fn() -> Result<Client, postgres::Error> + Send + Sync>;

/// The r2d2 manager: opens clients, tells r2d2 when one is broken.
pub(crate) struct Manager {
    connect: Connector,
    statements: Arc<Statements>,
}

impl Manager {
    pub(crate) fn new(connect: Connector, statements: Arc<Statements>) -> Self {
        Manager {
            connect,
            statements,
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

    /// The client and statement `s`, prepared on first use.
    pub(crate) fn prepared(
        &mut self,
        s: Stmt,
    ) -> Result<(&mut Client, Statement), postgres::Error> {
        let slot = &mut self.prepared[s.index()];
        let stmt = match slot {
            Some(st) => st.clone(),
            None => {
                let st = self.client.prepare(self.statements.sql(s))?;
                *slot = Some(st.clone());
                st
            }
        };
        Ok((&mut self.client, stmt))
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        Ok(Conn {
            client: (self.connect)()?,
            statements: Arc::clone(&self.statements),
            prepared: Default::default(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        // The client learns that the server hung up only when its background task next polls the
        // socket, so `is_closed` alone can lag one failed operation behind.
        conn.broken || conn.client.is_closed()
    }
}
