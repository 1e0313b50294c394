//! Turning driver and pool failures into [`StoreError`]s that are safe to log.
//!
//! Two classes: [`StoreError::Unavailable`] when the database could not be reached, dropped the
//! connection, refused new sessions or cancelled the statement (a timeout) — the things a retry later may
//! cure — and [`StoreError::Backend`] for everything else (a missing table, a constraint, a corrupt row).
//! Either way the statement did not commit: every operation is one autocommitted statement (or a read), so
//! an error leaves the table as it was.
//!
//! Messages never contain the connection password. The driver does not put it in its messages, but the
//! text of an I/O or server error is not under our control, so [`Redactor`] removes it if it ever appears.

use postgres::error::SqlState;
use refresh_rotation::StoreError;

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

    /// Maps a driver error.
    pub(crate) fn pg(&self, e: &postgres::Error) -> StoreError {
        let text = self.clean(describe(e));
        if is_unavailable(e) {
            StoreError::Unavailable(text)
        } else {
            StoreError::Backend(text)
        }
    }

    /// Maps a pool error: r2d2 gives one only when no connection could be had within the timeout.
    pub(crate) fn pool(&self, e: &r2d2::Error) -> StoreError {
        StoreError::Unavailable(self.clean(format!("postgres pool: {e}")))
    }
}

/// A one-line description: the SQLSTATE and primary message of a server error (not its DETAIL, which
/// may quote row values), or the driver's error and its causes.
fn describe(e: &postgres::Error) -> String {
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

/// Whether `e` means that the connection it came from can no longer be trusted: the server closed it,
/// the socket failed, or the server is shutting the session down. Such a connection is dropped from the
/// pool at once rather than handed to the next operation.
pub(crate) fn breaks_connection(e: &postgres::Error) -> bool {
    match e.code() {
        None => true,
        Some(code) => {
            let c = code.code();
            c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03")
        }
    }
}

/// Whether `e` means "the database is not there right now" rather than "this statement is wrong".
fn is_unavailable(e: &postgres::Error) -> bool {
    let Some(code) = e.code() else {
        // No SQLSTATE: an I/O error, a closed connection, a connect timeout, a protocol failure.
        return true;
    };
    // Class 08: connection exception. 53: insufficient resources (too many connections, disk full).
    // 57: operator intervention (admin shutdown, crash shutdown, cannot connect now, statement
    // timeout / query cancelled). 40: transaction rollback (serialization failure, deadlock).
    let class = &code.code()[..2];
    matches!(class, "08" | "53" | "57" | "40") || *code == SqlState::TOO_MANY_CONNECTIONS
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
}
