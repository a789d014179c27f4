//! SQLite's result codes sorted into the core's terms, as the PostgreSQL adapter sorts SQLSTATEs:
//! unavailable (worth a retry, the only kind a breaker counts), rejected (the input's fault) or
//! unexpected.

use application::ports::{RepoError, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unavailable,
    Rejected,
    Unexpected,
}

pub(crate) fn repo_error(e: &sqlx::Error) -> RepoError {
    let message = e.to_string();
    match kind(e) {
        Kind::Unavailable => RepoError::Unavailable(message),
        Kind::Rejected => RepoError::Rejected(message),
        Kind::Unexpected => RepoError::Unexpected(message),
    }
}

pub(crate) fn store_error(e: &sqlx::Error) -> StoreError {
    let message = e.to_string();
    match kind(e) {
        Kind::Unavailable => StoreError::Unavailable(message),
        Kind::Rejected => StoreError::Rejected(message),
        Kind::Unexpected => StoreError::Unexpected(message),
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(sqlx::error::DatabaseError::is_unique_violation)
}

fn kind(e: &sqlx::Error) -> Kind {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Kind::Unavailable,
        sqlx::Error::Encode(_) => Kind::Rejected,
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .map_or(Kind::Unexpected, result_code_kind),
        _ => Kind::Unexpected,
    }
}

/// By the primary result code (the extended code's low byte; sqlite.org/rescode.html).
fn result_code_kind(extended: i32) -> Kind {
    match extended & 0xff {
        // BUSY, LOCKED: another connection holds the lock; NOMEM; IOERR; FULL: the disk;
        // CANTOPEN: the file went away.
        5 | 6 | 7 | 10 | 13 | 14 => Kind::Unavailable,
        // TOOBIG: a value over the length limit; CONSTRAINT; MISMATCH; RANGE: a bad parameter.
        18 | 19 | 20 | 25 => Kind::Rejected,
        _ => Kind::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::busy(5, Kind::Unavailable)]
    #[case::busy_snapshot(517, Kind::Unavailable)]
    #[case::disk_full(13, Kind::Unavailable)]
    #[case::io_read(266, Kind::Unavailable)]
    #[case::too_big(18, Kind::Rejected)]
    #[case::check(275, Kind::Rejected)]
    #[case::foreign_key(787, Kind::Rejected)]
    #[case::missing_table(1, Kind::Unexpected)]
    #[case::corrupt(11, Kind::Unexpected)]
    #[case::read_only_file(8, Kind::Unexpected)]
    fn sorts_result_codes(#[case] code: i32, #[case] expected: Kind) {
        assert_eq!(result_code_kind(code), expected);
    }
}
