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
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use refresh_rotation::error::StoreError;
use tokio_postgres::{Client, Statement};

use crate::schema::{Statements, Stmt};

/// How long past the server's own `statement_timeout` the store waits for an answer before it gives the
/// connection up. The server cancels a statement at its timeout and answers at once, so a longer silence
/// means that the server, or the path to it, has stopped answering (R-SAFE-1: never hang).
pub(crate) const ANSWER_MARGIN: Duration = Duration::from_secs(2);

/// `fut`, or `None` if it did not finish within `limit` (no limit: `None`).
pub(crate) async fn within<T>(limit: Option<Duration>, fut: impl Future<Output = T>) -> Option<T> {
    match limit {
        None => Some(fut.await),
        Some(limit) => tokio::time::timeout(limit, fut).await.ok(),
    }
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The driver's error.
    Pg(tokio_postgres::Error),
    /// The server accepted the connection but did not complete the startup (or TLS) exchange within
    /// the connect timeout: tokio-postgres bounds only the TCP connect itself.
    TimedOut(Duration),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Pg(e) => e.fmt(f),
            ConnectError::TimedOut(d) => write!(
                f,
                "the server did not complete the connection within {} ms",
                d.as_millis()
            ),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Pg(e) => Some(e),
            ConnectError::TimedOut(_) => None,
        }
    }
}

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
    /// The whole of opening a connection: TCP, TLS and the startup exchange.
    connect_timeout: Duration,
    /// How long a statement on a connection may go unanswered (see [`ANSWER_MARGIN`]).
    answer_limit: Option<Duration>,
}

impl Manager {
    pub(crate) fn new(
        connect: Connector,
        statements: Arc<Statements>,
        last_error: LastError,
        connect_timeout: Duration,
        answer_limit: Option<Duration>,
    ) -> Self {
        Manager {
            connect,
            statements,
            last_error,
            connect_timeout,
            answer_limit,
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
    answer_limit: Option<Duration>,
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

    /// Whether a statement that failed with `e` on attempt `attempt` (of at most `max`) is to be sent
    /// again on this connection: after a conflict with a concurrent transaction, which rolled it back,
    /// or after the server refused a statement prepared before a change of what it reads (SQLSTATE
    /// 0A000, "cached plan must not change result type", as a host's user query selecting `*` meets
    /// after a column is added to its table). The server refuses such a plan before running it, so
    /// nothing was done; the connection's prepared statements are dropped, and the next attempt
    /// prepares them again. Without that, every statement on the connection would fail the same way
    /// until the pool retired it.
    pub(crate) fn send_again(&mut self, e: &tokio_postgres::Error, attempt: u32, max: u32) -> bool {
        if attempt >= max {
            return false;
        }
        if crate::error::is_conflict(e) {
            return true;
        }
        if crate::error::is_stale_plan(e) {
            self.prepared = Default::default();
            self.others.clear();
            return true;
        }
        false
    }

    /// How long a statement on this connection may go unanswered: the limit to run it [`within`].
    pub(crate) fn answer_limit(&self) -> Option<Duration> {
        self.answer_limit
    }

    /// The outcome of a statement run [`within`] this connection's limit. One left unanswered gives the
    /// connection up (its session is in an unknown state) and is [`StoreError::Unavailable`].
    pub(crate) fn answered<T>(&mut self, answer: Option<T>) -> Result<T, StoreError> {
        answer.ok_or_else(|| {
            self.mark_broken();
            let ms = self.answer_limit.map_or(0, |l| l.as_millis());
            StoreError::Unavailable(format!(
                "postgres: no answer within {ms} ms; the connection was given up"
            ))
        })
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
    type Error = ConnectError;

    async fn connect(&self) -> Result<Conn, ConnectError> {
        let client = within(Some(self.connect_timeout), (self.connect)())
            .await
            .ok_or(ConnectError::TimedOut(self.connect_timeout))?
            .map_err(ConnectError::Pg)?;
        // The server is reachable again: an older failure no longer explains a later timeout (which
        // would then be a pool exhausted by load).
        self.last_error.clear();
        Ok(Conn {
            client,
            statements: Arc::clone(&self.statements),
            prepared: Default::default(),
            others: HashMap::new(),
            broken: false,
            answer_limit: self.answer_limit,
        })
    }

    async fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectError> {
        within(Some(self.connect_timeout), conn.client.simple_query(""))
            .await
            .ok_or(ConnectError::TimedOut(self.connect_timeout))?
            .map(|_| ())
            .map_err(ConnectError::Pg)
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

impl bb8::ErrorSink<ConnectError> for LastError {
    fn sink(&self, error: ConnectError) {
        self.set(Some(self.redact.connect_text(&error)));
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<ConnectError>> {
        Box::new(self.clone())
    }
}
