//! Turning driver and pool failures into [`StoreError`]s that are safe to log.
//!
//! Two classes: [`StoreError::Unavailable`] when the database could not be reached, dropped the
//! connection, refused new sessions or cancelled the statement (a timeout) — the things a retry later may
//! cure — and [`StoreError::Backend`] for everything else (a missing table, a constraint, a corrupt row).
//!
//! An error does not always mean that nothing was written. Every operation is one autocommitted statement
//! (or a read), so an error the server reports for the statement itself (a constraint, a timeout, a
//! trigger) leaves the table as it was. But a reply can be lost *after* the server committed: the
//! connection drops, the server crashes between the commit and the reply. The client then sees
//! `Unavailable` although the write took effect, and cannot tell the two apart (see the crate's README,
//! "When an operation fails").
//!
//! The SQLSTATE comes from the server, or from whatever proxy sits in front of it, and is classified
//! without trusting its shape: a code that is empty, short, not ASCII or otherwise not five characters of
//! `[0-9A-Z]` is an ordinary [`StoreError::Backend`], never a panic (R-SAFE-9).
//!
//! Messages never contain the connection password. The driver does not put it in its messages, but the
//! text of an I/O or server error is not under our control, so [`Redactor`] removes it if it ever appears.

use refresh_rotation::error::StoreError;

use crate::pool::ConnectError;

/// Scrubs the connection password out of error text.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    password: Option<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor([REDACTED])")
    }
}

impl Redactor {
    /// A redactor for this password (bytes that are not UTF-8 cannot be found in UTF-8 text anyway).
    pub(crate) fn new(password: Option<&[u8]>) -> Self {
        let password = password
            .and_then(|p| std::str::from_utf8(p).ok())
            // An empty or one-character "password" would redact innocent text; it protects nothing.
            .filter(|p| p.len() >= 2)
            .map(str::to_owned);
        Redactor { password }
    }

    /// `text` with every occurrence of the password replaced.
    pub(crate) fn clean(&self, text: String) -> String {
        match &self.password {
            Some(p) if text.contains(p.as_str()) => text.replace(p.as_str(), "[REDACTED]"),
            _ => text,
        }
    }

    /// The redacted one-line description of a driver error.
    pub(crate) fn text(&self, e: &tokio_postgres::Error) -> String {
        self.clean(describe(e))
    }

    /// Maps a driver error.
    pub(crate) fn pg(&self, e: &tokio_postgres::Error) -> StoreError {
        let text = self.text(e);
        if is_unavailable(e) {
            StoreError::Unavailable(text)
        } else {
            StoreError::Backend(text)
        }
    }

    /// The redacted one-line description of a failure to open a connection.
    pub(crate) fn connect_text(&self, e: &ConnectError) -> String {
        match e {
            ConnectError::Pg(e) => self.text(e),
            ConnectError::TimedOut(_) => self.clean(format!("postgres: {e}")),
        }
    }

    /// Maps a failure to open a connection: a stalled startup is the server being unavailable.
    pub(crate) fn connect(&self, e: &ConnectError) -> StoreError {
        match e {
            ConnectError::Pg(e) => self.pg(e),
            ConnectError::TimedOut(_) => StoreError::Unavailable(self.connect_text(e)),
        }
    }

    /// Maps a pool error. bb8 returns its own error only when no connection could be had within the
    /// timeout; `last` is the last error met while opening one in the background, which says why.
    pub(crate) fn pool(&self, e: &bb8::RunError<ConnectError>, last: Option<String>) -> StoreError {
        match e {
            bb8::RunError::User(e) => self.connect(e),
            bb8::RunError::TimedOut => StoreError::Unavailable(match last {
                Some(why) => format!("postgres pool: no connection in time; last attempt: {why}"),
                None => "postgres pool: no connection in time".to_owned(),
            }),
        }
    }
}

/// A one-line description: the SQLSTATE and primary message of a server error (not its DETAIL, which
/// may quote row values), or the driver's error and its causes.
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("postgres: {} {}", db.code().code(), db.message());
    }
    let mut text = format!("postgres: {e}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// What a SQLSTATE says about the failed statement and its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// The session is gone or going (class 08, admin/crash shutdown): drop the connection; the database
    /// may be reachable again later.
    ConnectionLost,
    /// The statement's transaction was rolled back because of a concurrent one (serialization failure,
    /// deadlock): it wrote nothing, and running the same autocommitted statement again is safe.
    Conflict,
    /// The database cannot serve now (insufficient resources, operator intervention, statement
    /// timeout, other transaction rollbacks): a retry later may cure it.
    Unavailable,
    /// Anything else, including a code that is not a well-formed SQLSTATE.
    Other,
}

/// Classifies a SQLSTATE as sent by the server (or a proxy). Pure and total: any string is accepted.
pub(crate) fn classify(code: &str) -> Class {
    let b = code.as_bytes();
    // A SQLSTATE is exactly five characters of [0-9A-Z]. Anything else is not classified at all: there is
    // no class to read from a malformed code, and guessing from a prefix could turn garbage into a
    // "retry later".
    let well_formed = b.len() == 5
        && b.iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
    if !well_formed {
        return Class::Other;
    }
    match (code, [b[0], b[1]]) {
        // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now.
        (_, [b'0', b'8']) | ("57P01" | "57P02" | "57P03", _) => Class::ConnectionLost,
        // 40001 serialization failure, 40P01 deadlock detected.
        ("40001" | "40P01", _) => Class::Conflict,
        // 53: insufficient resources (too many connections, disk full). 57: operator intervention
        // (statement timeout, query cancelled). 40: the other transaction rollbacks, among them 40003
        // "statement completion unknown", which is exactly the ambiguous case the README describes.
        // 55P03 lock not available: a migration that could not have its table within its lock timeout.
        (_, [b'5', b'3'] | [b'5', b'7'] | [b'4', b'0']) | ("55P03", _) => Class::Unavailable,
        _ => Class::Other,
    }
}

/// Whether `e` means that the connection it came from can no longer be trusted: the server closed it,
/// the socket failed, or the server is shutting the session down. Such a connection is dropped from the
/// pool at once rather than handed to the next operation.
pub(crate) fn breaks_connection(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        None => true,
        Some(code) => classify(code.code()) == Class::ConnectionLost,
    }
}

/// Whether `e` is a conflict with a concurrent transaction that rolled the statement back (see
/// [`Class::Conflict`]): the store runs such a statement again.
pub(crate) fn is_conflict(e: &tokio_postgres::Error) -> bool {
    e.code()
        .is_some_and(|code| classify(code.code()) == Class::Conflict)
}

/// Whether `e` may be the server refusing a prepared statement whose plan no longer fits what it reads
/// (SQLSTATE 0A000, feature not supported, as "cached plan must not change result type" is sent).
/// Told by the code alone: the message is translated with the server's `lc_messages`. Another 0A000
/// fails again once prepared afresh, and is then returned as it is.
pub(crate) fn is_stale_plan(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::FEATURE_NOT_SUPPORTED)
}

/// Whether `e` means "the database is not there right now" rather than "this statement is wrong".
fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        // No SQLSTATE: an I/O error, a closed connection, a connect timeout, a protocol failure.
        None => true,
        Some(code) => classify(code.code()) != Class::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_removes_the_password() {
        let r = Redactor::new(Some(b"hunter22"));
        assert_eq!(
            r.clean("auth failed for hunter22 at hunter22".into()),
            "auth failed for [REDACTED] at [REDACTED]"
        );
        assert_eq!(r.clean("fine".into()), "fine");
        assert!(!format!("{r:?}").contains("hunter22"));
        assert_eq!(Redactor::new(Some(b"x")).clean("x y".into()), "x y");
        assert_eq!(Redactor::new(None).clean("x y".into()), "x y");
    }

    /// R-SAFE-9: whatever a server or a proxy puts in the SQLSTATE field, classifying it never panics,
    /// and only a well-formed code is given a class.
    #[test]
    fn r_safe_9_sqlstate_of_any_shape_is_classified_without_panicking() {
        use tokio_postgres::error::SqlState;
        for odd in [
            "",
            "0",
            "08",
            "4",
            "é",
            "0é",
            "08é",
            "\u{1F600}",
            "€0001",
            "57P0",
            "080000",
            "08 01",
            "40p01",
            "4000",
            "\0\0\0\0\0",
            "ä08006",
        ] {
            // As the driver builds it from the server's ErrorResponse.
            let code = SqlState::from_code(odd);
            assert_eq!(classify(code.code()), Class::Other, "{odd:?}");
        }
        assert_eq!(classify("08006"), Class::ConnectionLost);
        assert_eq!(classify("57P01"), Class::ConnectionLost);
        assert_eq!(classify("57P03"), Class::ConnectionLost);
        assert_eq!(classify("40001"), Class::Conflict);
        assert_eq!(classify("40P01"), Class::Conflict);
        assert_eq!(classify("40003"), Class::Unavailable);
        assert_eq!(classify("57014"), Class::Unavailable);
        assert_eq!(classify("53300"), Class::Unavailable);
        assert_eq!(classify("55P03"), Class::Unavailable);
        assert_eq!(classify("55000"), Class::Other);
        assert_eq!(classify("42P01"), Class::Other);
        assert_eq!(classify("23505"), Class::Other);
        assert_eq!(
            classify(SqlState::TOO_MANY_CONNECTIONS.code()),
            Class::Unavailable
        );
    }
}
