//! Driver errors sorted into the core's terms, by what they say about the database rather than
//! by their message text:
//!
//! - **unavailable**: the database can't serve right now (no connection, pool exhausted, server
//!   shutting down, out of resources, a failover in progress). Worth a 503 and a retry; the
//!   only kind a breaker counts.
//! - **rejected**: the database refused the input for its content (a NUL in a text, a value out
//!   of range, a broken constraint). The caller's error: a 400, a poison event. Retrying the
//!   same input fails the same way, so it must never count against the database's breaker.
//! - **unexpected**: everything else (a bug in a statement, a missing table, a permission).

use application::ports::{RepoError, StoreError};
use sea_orm::{DbErr, RuntimeErr, sqlx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unavailable,
    Rejected,
    Unexpected,
}

pub(crate) fn repo_error(e: DbErr) -> RepoError {
    // The one unique key an insert can break is the short code's.
    if sqlx_error(&e).is_some_and(|e| {
        e.as_database_error()
            .is_some_and(sqlx::error::DatabaseError::is_unique_violation)
    }) {
        return RepoError::CodeTaken;
    }
    let message = e.to_string();
    match db_kind(&e) {
        Kind::Unavailable => RepoError::Unavailable(message),
        Kind::Rejected => RepoError::Rejected(message),
        Kind::Unexpected => RepoError::Unexpected(message),
    }
}

/// The same sorting for the click store, which talks to sqlx directly (see click_store.rs).
pub(crate) fn store_error(e: &sqlx::Error) -> StoreError {
    store_error_of(sqlx_kind(e), e.to_string())
}

/// The same sorting for the stats store, which goes through sea-orm.
pub(crate) fn stats_error(e: &DbErr) -> StoreError {
    store_error_of(db_kind(e), e.to_string())
}

fn store_error_of(kind: Kind, message: String) -> StoreError {
    match kind {
        Kind::Unavailable => StoreError::Unavailable(message),
        Kind::Rejected => StoreError::Rejected(message),
        Kind::Unexpected => StoreError::Unexpected(message),
    }
}

fn sqlx_error(e: &DbErr) -> Option<&sqlx::Error> {
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(inner))
        | DbErr::Exec(RuntimeErr::SqlxError(inner))
        | DbErr::Query(RuntimeErr::SqlxError(inner)) => Some(inner),
        _ => None,
    }
}

fn db_kind(e: &DbErr) -> Kind {
    match (e, sqlx_error(e)) {
        (_, Some(inner)) => sqlx_kind(inner),
        (DbErr::ConnectionAcquire(_) | DbErr::Conn(_), None) => Kind::Unavailable,
        _ => Kind::Unexpected,
    }
}

fn sqlx_kind(e: &sqlx::Error) -> Kind {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Kind::Unavailable,
        // A value the driver could not even put on the wire.
        sqlx::Error::Encode(_) => Kind::Rejected,
        sqlx::Error::Database(db) => db.code().map_or(Kind::Unexpected, |c| sqlstate_kind(&c)),
        _ => Kind::Unexpected,
    }
}

/// By SQLSTATE class (the code's first two characters; PostgreSQL's appendix A), with the few
/// codes whose class says less than they do.
fn sqlstate_kind(code: &str) -> Kind {
    match code {
        // Serialization failure and deadlock: the same statement succeeds when retried.
        "40001" | "40P01"
        // A read-only transaction: the server became a standby (a failover in progress).
        | "25006"
        // A lock that could not be had in time.
        | "55P03" => return Kind::Unavailable,
        _ => {}
    }
    match code.get(..2) {
        // 08 connection exception, 53 insufficient resources, 57 operator intervention
        // (shutdown, statement timeout), 58 system error (I/O).
        Some("08" | "53" | "57" | "58") => Kind::Unavailable,
        // 22 data exception (a NUL byte, a value out of range, bad encoding), 23 integrity
        // constraint violation, 54 program limit exceeded (a row too large to index).
        Some("22" | "23" | "54") => Kind::Rejected,
        _ => Kind::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;

    use rstest::rstest;
    use sea_orm::ConnAcquireErr;
    use sqlx::error::{DatabaseError, ErrorKind};

    use super::*;

    /// An error as PostgreSQL reports it: a SQLSTATE and a message.
    #[derive(Debug)]
    struct Reported {
        code: &'static str,
        message: &'static str,
    }

    impl std::fmt::Display for Reported {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.message)
        }
    }

    impl std::error::Error for Reported {}

    impl DatabaseError for Reported {
        fn message(&self) -> &str {
            self.message
        }

        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.code))
        }

        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }

        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }

        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }

        fn kind(&self) -> ErrorKind {
            match self.code {
                "23505" => ErrorKind::UniqueViolation,
                "23514" => ErrorKind::CheckViolation,
                _ => ErrorKind::Other,
            }
        }
    }

    fn reported(code: &'static str, message: &'static str) -> sqlx::Error {
        sqlx::Error::Database(Box::new(Reported { code, message }))
    }

    fn query(e: sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
    }

    #[rstest]
    #[case("08006", Kind::Unavailable)] // connection failure
    #[case("53300", Kind::Unavailable)] // too many connections
    #[case("57P01", Kind::Unavailable)] // admin shutdown
    #[case("57014", Kind::Unavailable)] // statement timeout
    #[case("58030", Kind::Unavailable)] // I/O error
    #[case("40001", Kind::Unavailable)] // serialization failure
    #[case("40P01", Kind::Unavailable)] // deadlock
    #[case("25006", Kind::Unavailable)] // read-only transaction
    #[case("55P03", Kind::Unavailable)] // lock not available
    #[case("22021", Kind::Rejected)] // invalid byte sequence (a NUL in a text)
    #[case("22008", Kind::Rejected)] // timestamp out of range
    #[case("22001", Kind::Rejected)] // value too long
    #[case("23514", Kind::Rejected)] // check violation
    #[case("23502", Kind::Rejected)] // not null violation
    #[case("54000", Kind::Rejected)] // index row too large
    #[case("42601", Kind::Unexpected)] // syntax error
    #[case("42P01", Kind::Unexpected)] // undefined table
    #[case("42501", Kind::Unexpected)] // insufficient privilege
    #[case("25P02", Kind::Unexpected)] // in failed transaction
    #[case("XX000", Kind::Unexpected)] // internal error
    #[case("", Kind::Unexpected)]
    fn sorts_sqlstates_by_class(#[case] code: &str, #[case] kind: Kind) {
        assert_eq!(sqlstate_kind(code), kind);
    }

    #[rstest]
    #[case(
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        RepoError::Unavailable(String::new())
    )]
    #[case(
        query(sqlx::Error::PoolTimedOut),
        RepoError::Unavailable(String::new())
    )]
    #[case(
        query(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())),
        RepoError::Unavailable(String::new())
    )]
    #[case(
        query(reported("22021", "invalid byte sequence for encoding \"UTF8\": 0x00")),
        RepoError::Rejected(String::new())
    )]
    #[case(
        query(reported("57P01", "terminating connection due to administrator command")),
        RepoError::Unavailable(String::new())
    )]
    #[case(
        query(reported("23505", "duplicate key value violates unique constraint")),
        RepoError::CodeTaken
    )]
    #[case(
        query(reported("42P01", "relation \"urls\" does not exist")),
        RepoError::Unexpected(String::new())
    )]
    #[case(query(sqlx::Error::Encode("no".into())), RepoError::Rejected(String::new()))]
    #[case(query(sqlx::Error::RowNotFound), RepoError::Unexpected(String::new()))]
    #[case(DbErr::Custom("bug".into()), RepoError::Unexpected(String::new()))]
    fn sorts_driver_errors(#[case] e: DbErr, #[case] expected: RepoError) {
        let sorted = repo_error(e);
        assert_eq!(
            std::mem::discriminant(&sorted),
            std::mem::discriminant(&expected),
            "{sorted:?}"
        );
    }

    #[test]
    fn the_click_store_sorts_alike_and_keeps_the_reason() {
        let e = reported("22021", "invalid byte sequence for encoding \"UTF8\": 0x00");
        assert_eq!(
            store_error(&e),
            StoreError::Rejected(
                "error returned from database: invalid byte sequence for encoding \"UTF8\": 0x00"
                    .into()
            )
        );
        assert!(matches!(
            stats_error(&query(reported("53300", "too many connections"))),
            StoreError::Unavailable(_)
        ));
    }
}
