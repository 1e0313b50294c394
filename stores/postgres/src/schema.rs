//! The table, its indexes and every SQL statement the store sends, generated once per table name.
//!
//! Keeping all SQL in one place makes the store's database footprint reviewable at a glance: one table,
//! two secondary indexes, ten statements. The table name is the only thing spliced into SQL text, and it
//! is validated ([`TableName::parse`]) and quoted, so no caller input ever reaches a statement except as
//! a bound parameter.

use std::fmt;

use refresh_rotation::error::StoreError;

/// The largest generation a row may hold: `u32::MAX`, the range of [`refresh_rotation::store::FamilyState`].
pub(crate) const MAX_GENERATION: i64 = u32::MAX as i64;

/// The default table name.
pub(crate) const DEFAULT_TABLE: &str = "refresh_token_families";

/// A validated, optionally schema-qualified table name.
///
/// Each part is `[a-z_][a-z0-9_]*`; the table part is at most 48 bytes so that the index names derived
/// from it (`<table>_expires_at_idx`) stay within PostgreSQL's 63-byte identifier limit instead of being
/// silently truncated (two tables whose names share a long prefix would then share index names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    schema: Option<String>,
    table: String,
}

impl TableName {
    /// Parses `table` or `schema.table`.
    pub(crate) fn parse(name: &str) -> Result<Self, StoreError> {
        let bad = || {
            StoreError::Backend(format!(
                "invalid table name {name:?}: expected `table` or `schema.table`, each [a-z_][a-z0-9_]*, \
                 table at most 48 bytes"
            ))
        };
        let (schema, table) = match name.split_once('.') {
            Some((s, t)) => (Some(s), t),
            None => (None, name),
        };
        let ident_ok = |s: &str, max: usize| {
            !s.is_empty()
                && s.len() <= max
                && s.bytes().enumerate().all(|(i, b)| {
                    b == b'_' || b.is_ascii_lowercase() || (i > 0 && b.is_ascii_digit())
                })
        };
        if !ident_ok(table, 48) || schema.is_some_and(|s| !ident_ok(s, 63)) {
            return Err(bad());
        }
        Ok(TableName {
            schema: schema.map(str::to_owned),
            table: table.to_owned(),
        })
    }
}

impl fmt::Display for TableName {
    /// The quoted, qualified name as it goes into SQL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.schema {
            write!(f, "\"{s}\".")?;
        }
        write!(f, "\"{}\"", self.table)
    }
}

/// The columns every family-reading statement returns, in the order [`crate::store`] decodes them.
pub(crate) const FAMILY_COLUMNS: &str =
    "family_id, client_id, subject, username, device_key, scopes, \
                              auth_time, event_id, expires_at, generation, grace_deadline, key_id, \
                              revoked, device_confirmed";

/// The advisory lock every migration of this crate takes: one for all tables, since a key derived
/// from a table's name would differ between two spellings of one table (`t` and `public.t`), and
/// migrations are rare enough to queue behind each other.
pub(crate) const MIGRATION_LOCK: &str = "refresh-rotation-postgres migrate";

/// How long a migration waits for a lock on a table it must change, once it holds [`MIGRATION_LOCK`]:
/// while it waits for its lock, every other session's requests on that table queue behind it, so a
/// migration that cannot have the table soon gives up (and can be run again) rather than stall them.
const MIGRATION_LOCK_TIMEOUT: &str = "5s";

/// Runs the migration `ddl` in `tx`: without a statement timeout (building an index on a large table
/// may take long), behind [`MIGRATION_LOCK`] (concurrent migrations queue, however long the one ahead
/// takes), and with table locks waited for at most [`MIGRATION_LOCK_TIMEOUT`].
pub(crate) async fn migrate_in(
    tx: &tokio_postgres::Transaction<'_>,
    ddl: &str,
) -> Result<(), tokio_postgres::Error> {
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        &[&MIGRATION_LOCK],
    )
    .await?;
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT}'"
    ))
    .await?;
    tx.batch_execute(ddl).await
}

/// The columns of a family's state, in the order [`crate::store`] decodes them.
pub(crate) const STATE_COLUMNS: &str =
    "generation, grace_deadline, key_id, revoked, device_confirmed";

/// The database clock in whole Unix seconds, read when the statement runs (not at the start of its
/// transaction, as `now()` would be): the time of a decision (R-ROT-11).
pub(crate) const DB_TIME: &str = "floor(extract(epoch FROM clock_timestamp()))::bigint";

/// The statements the store prepares on each connection, indexed by [`Stmt`].
#[derive(Debug)]
pub(crate) struct Statements {
    sql: [String; Stmt::COUNT],
}

/// One of the store's statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stmt {
    /// `$1..$14` = the family's columns; affects 0 rows when the id is taken.
    Insert,
    /// `$1` = family id; returns the family's columns and the database time.
    Get,
    /// `$1` = id, `$2` = expected generation, `$3` = new grace deadline, `$4` = the new generation's key
    /// id; returns the new state or nothing.
    Advance,
    /// `$1` = id; returns the state columns.
    ReadState,
    /// `$1` = id, `$2` = device key; returns the family's columns if it bound the device.
    BindDevice,
    /// `$1` = id, `$2` = device key; affects 1 row iff the family is bound to that device.
    ConfirmDevice,
    /// `$1` = id; affects 1 row iff the family existed and was live.
    Revoke,
    /// `$1` = subject; affects the families that were live.
    RevokeSubject,
    /// `$1` = client id; affects the families that were live.
    RevokeClient,
    /// `$1` = cutoff, `$2` = batch size; affects the deleted rows.
    Purge,
}

impl Stmt {
    /// How many statements there are.
    pub(crate) const COUNT: usize = 10;

    /// The statement's slot in [`Statements`] and in a connection's cache.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl Statements {
    /// The statements for `t`.
    pub(crate) fn new(t: &TableName) -> Self {
        let c = FAMILY_COLUMNS;
        let st = STATE_COLUMNS;
        let max = MAX_GENERATION;
        let sql = [
            // ON CONFLICT DO NOTHING rather than catching the unique violation: a colliding id then
            // leaves no error in the server log and no aborted statement, and 0 rows says it all.
            format!(
                "INSERT INTO {t} ({c}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (family_id) DO NOTHING"
            ),
            // The database time comes back with the row even when there is none (the outer join), in
            // the same round trip.
            format!(
                "SELECT {c}, now_s FROM (SELECT {DB_TIME} AS now_s) AS clock \
                 LEFT JOIN {t} ON family_id = $1"
            ),
            // The compare-and-set of R-SAFE-5. Under READ COMMITTED (which the store pins for its
            // sessions, whatever the server's default) a concurrent UPDATE of the same row blocks on the
            // row lock; when the holder commits, PostgreSQL re-evaluates this WHERE clause against the
            // committed row, so the loser matches nothing. (Under REPEATABLE READ it would fail with a
            // serialization error instead, which the store also survives by sending it again.)
            // `generation < max` keeps the
            // column within u32 (the CHECK constraint would otherwise turn the overflow into an error).
            format!(
                "UPDATE {t} SET generation = generation + 1, grace_deadline = $3, key_id = $4 \
                 WHERE family_id = $1 AND generation = $2 AND NOT revoked AND generation < {max} \
                 RETURNING {st}"
            ),
            format!("SELECT {st} FROM {t} WHERE family_id = $1"),
            format!(
                "UPDATE {t} SET device_key = $2, device_confirmed = FALSE \
                 WHERE family_id = $1 AND device_key IS NULL RETURNING {c}"
            ),
            format!(
                "UPDATE {t} SET device_confirmed = TRUE WHERE family_id = $1 AND device_key = $2"
            ),
            format!("UPDATE {t} SET revoked = TRUE WHERE family_id = $1 AND NOT revoked"),
            format!("UPDATE {t} SET revoked = TRUE WHERE subject = $1 AND NOT revoked"),
            // Client deletion is rare (R-REV-7): no index, a scan.
            format!("UPDATE {t} SET revoked = TRUE WHERE client_id = $1 AND NOT revoked"),
            // Bounded: the inner SELECT picks at most $2 ids through the expires_at index. SKIP LOCKED
            // lets several instances purge at once without queueing behind each other or behind a
            // request that holds a row; a skipped row is purged by a later run. expires_at never
            // changes, but the outer condition is repeated so the DELETE alone states R-REV-5.
            format!(
                "DELETE FROM {t} WHERE expires_at <= $1 AND family_id IN \
                 (SELECT family_id FROM {t} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 \
                  FOR UPDATE SKIP LOCKED)"
            ),
        ];
        Statements { sql }
    }

    /// The SQL text of `s`.
    pub(crate) fn sql(&self, s: Stmt) -> &str {
        &self.sql[s.index()]
    }
}

/// A column as a migration of this crate creates it: its name, its type as `format_type` spells it,
/// whether it is `NOT NULL`, and its collation where the crate sets one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) ty: &'static str,
    pub(crate) not_null: bool,
    pub(crate) collation: Option<&'static str>,
}

impl Column {
    /// A `NOT NULL` column of type `ty`.
    pub(crate) const fn not_null(name: &'static str, ty: &'static str) -> Self {
        Column {
            name,
            ty,
            not_null: true,
            collation: None,
        }
    }

    /// A nullable column of type `ty`.
    pub(crate) const fn nullable(name: &'static str, ty: &'static str) -> Self {
        Column {
            name,
            ty,
            not_null: false,
            collation: None,
        }
    }

    /// This column with collation `collation`.
    pub(crate) const fn collate(self, collation: &'static str) -> Self {
        Column {
            collation: Some(collation),
            ..self
        }
    }
}

/// A PL/pgSQL block that refuses table `t` unless it has the shape this crate gives it: every column of
/// `required` present, each column of `required` and of `optional` (columns a later version added,
/// which the migration adds when missing) of its type, nullability and collation, and `primary_key` as
/// its primary key. It runs after `CREATE TABLE IF NOT EXISTS` and before anything else changes the
/// table, so that a table of the same name made by something else is left untouched, with an error
/// that names the first difference, instead of gaining this crate's columns and indexes and failing
/// later, statement by statement. Reads only the catalog: it takes no lock on the table. A view in the
/// table's place fails it (a view's columns are never `NOT NULL`, and it has no primary key).
pub(crate) fn shape_check_sql(
    t: &TableName,
    required: &[Column],
    optional: &[Column],
    primary_key: &[&str],
) -> String {
    let mut checks = String::new();
    for (c, must_exist) in required
        .iter()
        .map(|c| (c, true))
        .chain(optional.iter().map(|c| (c, false)))
    {
        let (name, ty, not_null) = (c.name, c.ty, c.not_null);
        let expected = format!(
            "{ty}{}{}",
            if not_null { " NOT NULL" } else { "" },
            c.collation
                .map(|k| format!(" COLLATE \"{k}\""))
                .unwrap_or_default()
        );
        let collation_ok = match c.collation {
            Some(k) => {
                format!("(SELECT collname FROM pg_collation WHERE oid = col.attcollation) = '{k}'")
            }
            None => "TRUE".to_owned(),
        };
        checks.push_str(&format!(
            "
            SELECT format_type(a.atttypid, a.atttypmod) AS ty, a.attnotnull AS nn, a.attcollation
                INTO col FROM pg_attribute a
                WHERE a.attrelid = '{t}'::regclass AND a.attname = '{name}' AND a.attnum > 0
                AND NOT a.attisdropped;
            IF NOT FOUND THEN
                IF {must_exist} THEN
                    RAISE EXCEPTION 'table {t} exists with another shape: it has no column {name} \
                        (expected {expected}); refresh-rotation-postgres leaves it untouched';
                END IF;
            ELSIF col.ty <> '{ty}' OR col.nn <> {not_null} OR NOT {collation_ok} THEN
                RAISE EXCEPTION 'table {t} exists with another shape: column {name} is % % (expected \
                    {expected}); refresh-rotation-postgres leaves it untouched',
                    col.ty, CASE WHEN col.nn THEN 'NOT NULL' ELSE 'NULL' END;
            END IF;"
        ));
    }
    let key = primary_key
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let key_text = primary_key.join(", ");
    format!(
        "DO $check$
        DECLARE
            col record;
        BEGIN{checks}
            IF (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
                    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                    WHERE i.indrelid = '{t}'::regclass AND i.indisprimary)
                IS DISTINCT FROM ARRAY[{key}]::text[] THEN
                RAISE EXCEPTION 'table {t} exists with another shape: its primary key is not \
                    ({key_text}); refresh-rotation-postgres leaves it untouched';
            END IF;
        END
        $check$;"
    )
}

/// The family table's columns as the first version created them.
const FAMILY_TABLE: [Column; 12] = [
    Column::not_null("family_id", "bytea"),
    Column::not_null("client_id", "text"),
    Column::not_null("subject", "text"),
    Column::not_null("username", "text"),
    Column::nullable("device_key", "text"),
    Column::not_null("scopes", "text"),
    Column::not_null("auth_time", "bigint"),
    Column::not_null("event_id", "bytea"),
    Column::not_null("expires_at", "bigint"),
    Column::not_null("generation", "bigint"),
    Column::not_null("grace_deadline", "bigint"),
    Column::not_null("revoked", "boolean"),
];

/// The family table's columns added since, which the migration adds to an older table.
const FAMILY_TABLE_ADDED: [Column; 2] = [
    Column::not_null("key_id", "bigint"),
    Column::not_null("device_confirmed", "boolean"),
];

/// A condition: whether table `t` has a usable plain index on `column` alone, whatever its name. An
/// index's name says nothing of its table (a table renamed away keeps its indexes' names, and the fresh
/// table of the old name must still get its own). Usable: a valid B-tree (which a range, an order and
/// an equality lookup can all use) in the column's own collation (which its equality lookups need),
/// neither partial nor on an expression. `t` is a validated identifier ([`TableName::parse`]), so it is
/// safe inside the literal.
pub(crate) fn has_index_sql(t: &TableName, column: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a \
         ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam \
         WHERE i.indrelid = '{t}'::regclass AND i.indnkeyatts = 1 AND i.indisvalid \
         AND i.indpred IS NULL AND i.indexprs IS NULL AND am.amname = 'btree' \
         AND i.indcollation[0] = a.attcollation AND a.attname = '{column}')"
    )
}

/// The idempotent migration: creates the table and its indexes if they do not exist. Sent as one
/// transaction (see [`crate::PgRefreshTokenStore::migrate`] for the locking).
///
/// Only what is missing is built: `ALTER TABLE ... ADD COLUMN IF NOT EXISTS` and
/// `CREATE INDEX IF NOT EXISTS` would take their locks on the table (the strongest one for the former)
/// before finding there is nothing to do, so a no-op migration behind any open reader of the table
/// (a backup, an idle transaction) would wait, and every other instance's requests would queue behind
/// it. The catalog is asked first; on an up-to-date table the migration takes no lock on it at all.
/// Names are validated identifiers ([`TableName::parse`]), so they are safe inside the literals.
pub(crate) fn migration_sql(t: &TableName) -> String {
    let max = MAX_GENERATION;
    let has_column = |column: &str| {
        format!(
            "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '{t}'::regclass \
             AND attname = '{column}' AND NOT attisdropped)"
        )
    };
    let (has_key_id, has_confirmed) = (has_column("key_id"), has_column("device_confirmed"));
    let (has_subject_idx, has_expires_idx) =
        (has_index_sql(t, "subject"), has_index_sql(t, "expires_at"));
    let shape = shape_check_sql(t, &FAMILY_TABLE, &FAMILY_TABLE_ADDED, &["family_id"]);
    format!(
        "CREATE TABLE IF NOT EXISTS {t} (
            family_id      BYTEA   PRIMARY KEY CHECK (octet_length(family_id) = 16),
            client_id      TEXT    NOT NULL,
            subject        TEXT    NOT NULL,
            username       TEXT    NOT NULL,
            device_key     TEXT    NULL,
            scopes         TEXT    NOT NULL,
            auth_time      BIGINT  NOT NULL,
            event_id       BYTEA   NOT NULL CHECK (octet_length(event_id) = 16),
            expires_at     BIGINT  NOT NULL,
            generation     BIGINT  NOT NULL CHECK (generation BETWEEN 0 AND {max}),
            grace_deadline BIGINT  NOT NULL,
            revoked        BOOLEAN NOT NULL
        );
        {shape}
        DO $migrate$
        BEGIN
            IF NOT {has_key_id} THEN
                ALTER TABLE {t} ADD COLUMN
                    key_id BIGINT NOT NULL DEFAULT 0 CHECK (key_id BETWEEN 0 AND {max});
            END IF;
            IF NOT {has_confirmed} THEN
                ALTER TABLE {t} ADD COLUMN device_confirmed BOOLEAN NOT NULL DEFAULT TRUE;
            END IF;
            -- Unnamed: PostgreSQL names them `<table>_subject_idx` and `<table>_expires_at_idx`, or
            -- with a number added if another object already has that name.
            IF NOT {has_subject_idx} THEN
                CREATE INDEX ON {t} (subject);
            END IF;
            IF NOT {has_expires_idx} THEN
                CREATE INDEX ON {t} (expires_at);
            END IF;
        END
        $migrate$;"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_validated_and_quoted() {
        assert_eq!(
            TableName::parse("families").unwrap().to_string(),
            "\"families\""
        );
        assert_eq!(
            TableName::parse("auth.families_2").unwrap().to_string(),
            "\"auth\".\"families_2\""
        );
        for bad in [
            "",
            "Families",
            "2fam",
            "fam-ily",
            "a.b.c",
            "fam\"; DROP TABLE x; --",
            ".fam",
            "fam.",
            &"x".repeat(49),
        ] {
            assert!(TableName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(TableName::parse(&"x".repeat(48)).is_ok());
    }

    /// The shape check runs after the table exists and before the block that may alter it.
    #[test]
    fn r_per_5_migration_checks_the_shape_before_changing_anything() {
        let sql = migration_sql(&TableName::parse("s.fam").unwrap());
        let at = |p: &str| sql.find(p).unwrap_or_else(|| panic!("{p} missing"));
        assert!(at("CREATE TABLE IF NOT EXISTS") < at("DO $check$"));
        assert!(at("DO $check$") < at("DO $migrate$"));
        for column in FAMILY_TABLE.iter().chain(&FAMILY_TABLE_ADDED) {
            assert!(
                sql.contains(&format!("a.attname = '{}'", column.name)),
                "{}",
                column.name
            );
        }
    }

    #[test]
    fn every_statement_names_the_table() {
        let t = TableName::parse("s.fam").unwrap();
        let st = Statements::new(&t);
        for s in [
            Stmt::Insert,
            Stmt::Get,
            Stmt::Advance,
            Stmt::ReadState,
            Stmt::BindDevice,
            Stmt::ConfirmDevice,
            Stmt::Revoke,
            Stmt::RevokeSubject,
            Stmt::RevokeClient,
            Stmt::Purge,
        ] {
            assert!(st.sql(s).contains("\"s\".\"fam\""), "{s:?}");
        }
        assert!(migration_sql(&t).contains("CREATE INDEX ON \"s\".\"fam\" (subject)"));
        assert!(migration_sql(&t).contains("indrelid = '\"s\".\"fam\"'::regclass"));
        // The array in `Statements::new` is indexed by the enum: check that each slot holds its statement.
        let starts = |s: Stmt, p: &str| assert!(st.sql(s).starts_with(p), "{s:?}: {}", st.sql(s));
        starts(Stmt::Insert, "INSERT INTO");
        starts(Stmt::Get, "SELECT family_id,");
        starts(
            Stmt::ConfirmDevice,
            "UPDATE \"s\".\"fam\" SET device_confirmed = TRUE",
        );
        starts(
            Stmt::RevokeClient,
            "UPDATE \"s\".\"fam\" SET revoked = TRUE WHERE client_id",
        );
        starts(
            Stmt::Advance,
            "UPDATE \"s\".\"fam\" SET generation = generation + 1",
        );
        starts(Stmt::ReadState, "SELECT generation,");
        starts(Stmt::BindDevice, "UPDATE \"s\".\"fam\" SET device_key = $2");
        starts(
            Stmt::Revoke,
            "UPDATE \"s\".\"fam\" SET revoked = TRUE WHERE family_id",
        );
        starts(
            Stmt::RevokeSubject,
            "UPDATE \"s\".\"fam\" SET revoked = TRUE WHERE subject",
        );
        starts(Stmt::Purge, "DELETE FROM");
    }
}
