use application::ports::{RepoError, StoreError};
use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};

/// Sorts a driver error into the core's terms. `Unavailable` means "the database can't serve
/// right now" (no connection, pool exhausted, server shutting down or overloaded): worth a 503
/// and a retry. Everything else is a bug or a broken row: `Unexpected`.
pub(crate) fn repo_error(e: DbErr) -> RepoError {
    if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        return RepoError::CodeTaken;
    }
    if is_unavailable(&e) {
        RepoError::Unavailable(e.to_string())
    } else {
        RepoError::Unexpected(e.to_string())
    }
}

/// The same sorting for the click store, which talks to sqlx directly (see click_store.rs).
pub(crate) fn store_error(e: &sqlx::Error) -> StoreError {
    if is_transient(e) {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Unexpected(e.to_string())
    }
}

/// The same sorting for the stats store, which goes through sea-orm.
pub(crate) fn stats_error(e: &DbErr) -> StoreError {
    if is_unavailable(e) {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Unexpected(e.to_string())
    }
}

fn is_unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            is_transient(inner)
        }
        _ => false,
    }
}

fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_transient_sqlstate(&code)),
        _ => false,
    }
}

/// SQLSTATE classes that say "not now" rather than "never": 08 connection exception,
/// 53 insufficient resources, 57 operator intervention (shutdown, statement timeout),
/// and 40001/40P01 (serialization failure, deadlock).
fn is_transient_sqlstate(code: &str) -> bool {
    matches!(code.get(..2), Some("08" | "53" | "57")) || matches!(code, "40001" | "40P01")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rstest::rstest;
    use sea_orm::ConnAcquireErr;

    use super::*;

    #[rstest]
    #[case("08006", true)]
    #[case("53300", true)]
    #[case("57P01", true)]
    #[case("57014", true)]
    #[case("40001", true)]
    #[case("23505", false)]
    #[case("42601", false)]
    #[case("22001", false)]
    fn sorts_sqlstates(#[case] code: &str, #[case] transient: bool) {
        assert_eq!(is_transient_sqlstate(code), transient);
    }

    #[rstest]
    #[case(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout), true)]
    #[case(
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::PoolTimedOut))),
        true
    )]
    #[case(
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(
            std::io::ErrorKind::ConnectionReset.into()
        )))),
        true
    )]
    #[case(
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound))),
        false
    )]
    #[case(DbErr::Custom("bug".into()), false)]
    fn sorts_driver_errors(#[case] e: DbErr, #[case] unavailable: bool) {
        assert_eq!(
            matches!(repo_error(e), RepoError::Unavailable(_)),
            unavailable
        );
    }
}
