use application::ports::{LinkPage, RepoError, UrlRepo};
use async_trait::async_trait;
use domain::{KeyId, Link, LinkQuery, LongUrl, ShortCode, SortKey, SortOrder, Visibility};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};

use crate::error::repo_error;
use crate::queries::Queries;
use crate::url_entity::{self as urls, Column};

/// `UrlRepo` on the `urls` table.
#[derive(Debug, Clone)]
pub struct PgUrlRepo {
    queries: Queries,
}

impl PgUrlRepo {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            queries: Queries::new(db),
        }
    }
}

#[async_trait]
impl UrlRepo for PgUrlRepo {
    async fn insert(&self, link: &Link) -> Result<(), RepoError> {
        let row = urls::ActiveModel {
            short_code: Set(link.code.as_str().to_owned()),
            original_url: Set(link.url.as_str().to_owned()),
            created_at: Set(link.created_at),
            owner_key_id: Set(link.owner.map(|key| key.0)),
            ..Default::default()
        };
        self.queries
            .run("insert_link", |db| async move {
                urls::Entity::insert(row)
                    .exec_without_returning(&db)
                    .await
                    .map_err(repo_error)?;
                Ok(())
            })
            .await
    }

    async fn find(&self, code: &ShortCode) -> Result<Option<Link>, RepoError> {
        let find = urls::Entity::find().filter(Column::ShortCode.eq(code.as_str()));
        self.queries
            .run("find_link", |db| async move {
                find.one(&db)
                    .await
                    .map_err(repo_error)?
                    .map(into_link)
                    .transpose()
            })
            .await
    }

    async fn list(&self, query: &LinkQuery, visible: Visibility) -> Result<LinkPage, RepoError> {
        let (page, count) = (page_of(query, visible), matching(query, visible));
        self.queries
            .run("list_links", |db| async move {
                let (page, count) = (page.all(&db), count.count(&db));
                let (rows, total_count) = futures::try_join!(page, count).map_err(repo_error)?;
                Ok(LinkPage {
                    links: rows.into_iter().map(into_link).collect::<Result<_, _>>()?,
                    total_count,
                })
            })
            .await
    }

    async fn delete(&self, code: &ShortCode) -> Result<bool, RepoError> {
        let delete = urls::Entity::delete_many().filter(Column::ShortCode.eq(code.as_str()));
        self.queries
            .run("delete_link", |db| async move {
                let result = delete.exec(&db).await.map_err(repo_error)?;
                Ok(result.rows_affected > 0)
            })
            .await
    }
}

impl PgUrlRepo {
    /// The SQL that `list` runs for one page, so tests (and operators) can EXPLAIN it.
    pub fn list_page_sql(query: &LinkQuery, visible: Visibility) -> String {
        page_of(query, visible)
            .build(DbBackend::Postgres)
            .to_string()
    }
}

/// The links a query selects among those visible, unordered and unpaged.
fn matching(query: &LinkQuery, visible: Visibility) -> Select<urls::Entity> {
    let all = match visible {
        Visibility::Every => urls::Entity::find(),
        Visibility::OwnedBy(key) => urls::Entity::find().filter(Column::OwnerKeyId.eq(key.0)),
        Visibility::Nothing => urls::Entity::find().filter(Expr::cust("FALSE")),
    };
    let Some(term) = &query.search else {
        return all;
    };
    // Written out by hand: sea-query's ilike() puts ESCAPE inside parentheses, which
    // PostgreSQL rejects. '\' is one backslash (standard_conforming_strings is on).
    all.filter(Expr::cust_with_values(
        r#""urls"."original_url" ILIKE $1 ESCAPE '\'"#,
        [term.like_pattern()],
    ))
}

/// One page of those links. Both orderings match an index (sort column, id), behind the owner
/// for a member's listing, so a page is an index range scan, and id breaks ties so consecutive pages never overlap.
fn page_of(query: &LinkQuery, visible: Visibility) -> Select<urls::Entity> {
    let order = match query.order {
        SortOrder::Asc => Order::Asc,
        SortOrder::Desc => Order::Desc,
    };
    let sort = match query.sort {
        SortKey::CreatedAt => Column::CreatedAt,
        SortKey::OriginalUrl => Column::OriginalUrl,
    };
    matching(query, visible)
        .order_by(sort, order.clone())
        .order_by(Column::Id, order)
        .offset(query.page.offset())
        .limit(u64::from(query.page.size()))
}

/// Rows are re-checked on the way out: a row that breaks today's rules is reported, never
/// redirected to.
fn into_link(row: urls::Model) -> Result<Link, RepoError> {
    let broken = |what: &str, e: &dyn std::fmt::Display| {
        RepoError::Unexpected(format!("urls row {} has a bad {what}: {e}", row.id))
    };
    Ok(Link {
        code: ShortCode::parse(&row.short_code).map_err(|e| broken("short_code", &e))?,
        url: LongUrl::parse(&row.original_url).map_err(|e| broken("original_url", &e))?,
        created_at: row.created_at,
        owner: row.owner_key_id.map(KeyId),
    })
}
