use application::ports::{LinkPage, RepoError, UrlRepo};
use async_trait::async_trait;
use domain::{KeyId, Link, LinkQuery, LongUrl, ShortCode, SortKey, SortOrder, Visibility};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, Row};

use crate::database::SqliteDb;
use crate::error::{is_unique_violation, repo_error};
use crate::time::{from_micros, to_micros};

/// `UrlRepo` on the `urls` table.
#[derive(Debug, Clone)]
pub struct SqliteUrlRepo {
    db: SqliteDb,
}

impl SqliteUrlRepo {
    pub fn new(db: SqliteDb) -> Self {
        Self { db }
    }
}

const COLUMNS: &str = "short_code, original_url, created_at, owner_key_id";

#[async_trait]
impl UrlRepo for SqliteUrlRepo {
    async fn insert(&self, link: &Link) -> Result<(), RepoError> {
        sqlx::query(
            "INSERT INTO urls (short_code, original_url, created_at, owner_key_id) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(link.code.as_str())
        .bind(link.url.as_str())
        .bind(to_micros(link.created_at))
        .bind(link.owner.map(|key| key.0))
        .execute(&self.db.writer)
        .await
        .map_err(|e| {
            // The one unique key an insert can break is the short code's.
            if is_unique_violation(&e) {
                RepoError::CodeTaken
            } else {
                repo_error(&e)
            }
        })?;
        Ok(())
    }

    async fn find(&self, code: &ShortCode) -> Result<Option<Link>, RepoError> {
        // Written out, not formatted from COLUMNS: a cache miss on a redirect builds no string.
        sqlx::query(
            "SELECT short_code, original_url, created_at, owner_key_id FROM urls \
             WHERE short_code = ?",
        )
        .bind(code.as_str())
        .fetch_optional(&self.db.readers)
        .await
        .map_err(|e| repo_error(&e))?
        .map(|row| into_link(&row))
        .transpose()
    }

    async fn list(&self, query: &LinkQuery, visible: Visibility) -> Result<LinkPage, RepoError> {
        let (filter, arguments) = matching(query, visible)?;
        // Both orderings match an index (sort column, id), behind the owner for a member's
        // listing; id breaks ties so consecutive pages never overlap.
        let sort = match query.sort {
            SortKey::CreatedAt => "created_at",
            SortKey::OriginalUrl => "original_url",
        };
        let order = match query.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let mut page_arguments = arguments.clone();
        let offset = i64::try_from(query.page.offset()).unwrap_or(i64::MAX);
        add(&mut page_arguments, i64::from(query.page.size()))?;
        add(&mut page_arguments, offset)?;
        // One read transaction: the page and the count see the same links.
        let mut tx = self.db.readers.begin().await.map_err(|e| repo_error(&e))?;
        let rows = sqlx::query_with(
            AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM urls WHERE {filter} \
                 ORDER BY {sort} {order}, id {order} LIMIT ? OFFSET ?"
            )),
            page_arguments,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| repo_error(&e))?;
        let total: i64 = sqlx::query_scalar_with(
            AssertSqlSafe(format!("SELECT count(*) FROM urls WHERE {filter}")),
            arguments,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| repo_error(&e))?;
        tx.commit().await.map_err(|e| repo_error(&e))?;
        Ok(LinkPage {
            links: rows.iter().map(into_link).collect::<Result<_, _>>()?,
            total_count: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn delete(&self, code: &ShortCode) -> Result<bool, RepoError> {
        let done = sqlx::query("DELETE FROM urls WHERE short_code = ?")
            .bind(code.as_str())
            .execute(&self.db.writer)
            .await
            .map_err(|e| repo_error(&e))?;
        Ok(done.rows_affected() > 0)
    }
}

/// The condition selecting the links a query asks for among those visible, and its values.
fn matching(
    query: &LinkQuery,
    visible: Visibility,
) -> Result<(String, SqliteArguments), RepoError> {
    let mut arguments = SqliteArguments::default();
    let mut filter = match visible {
        Visibility::Every => "1".to_owned(),
        Visibility::OwnedBy(key) => {
            add(&mut arguments, key.0)?;
            "owner_key_id = ?".to_owned()
        }
        Visibility::Nothing => "0".to_owned(),
    };
    if let Some(term) = &query.search {
        // SQLite's LIKE ignores case for ASCII, which is all a stored URL holds (hosts are
        // punycode, the rest percent-encoded): the same matches as PostgreSQL's ILIKE.
        add(&mut arguments, term.like_pattern())?;
        filter.push_str(r" AND original_url LIKE ? ESCAPE '\'");
    }
    Ok((filter, arguments))
}

fn add<'q, T>(arguments: &mut SqliteArguments, value: T) -> Result<(), RepoError>
where
    T: sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + 'q,
{
    arguments
        .add(value)
        .map_err(|e| RepoError::Unexpected(format!("cannot bind a listing parameter: {e}")))
}

/// Rows are re-checked on the way out: a row that breaks today's rules is reported, never
/// redirected to.
fn into_link(row: &SqliteRow) -> Result<Link, RepoError> {
    let read = |e: sqlx::Error| RepoError::Unexpected(format!("urls row: {e}"));
    let code: String = row.try_get("short_code").map_err(read)?;
    let broken = |what: &str, e: &dyn std::fmt::Display| {
        RepoError::Unexpected(format!("urls row {code} has a bad {what}: {e}"))
    };
    let url: String = row.try_get("original_url").map_err(read)?;
    let created_at: i64 = row.try_get("created_at").map_err(read)?;
    let owner: Option<i64> = row.try_get("owner_key_id").map_err(read)?;
    Ok(Link {
        code: ShortCode::parse(&code).map_err(|e| broken("short_code", &e))?,
        url: LongUrl::parse(&url).map_err(|e| broken("original_url", &e))?,
        created_at: from_micros(created_at).ok_or_else(|| broken("created_at", &created_at))?,
        owner: owner.map(KeyId),
    })
}
