use application::ports::{KeyRecord, KeyStore, NewKey, RepoError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{KeyHash, KeyId, Role};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use crate::error::repo_error;
use crate::key_entity::{self as keys, Column};
use crate::queries::Queries;

/// `KeyStore` on the `api_keys` table.
#[derive(Debug, Clone)]
pub struct PgKeyStore {
    queries: Queries,
}

impl PgKeyStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            queries: Queries::new(db),
        }
    }
}

#[async_trait]
impl KeyStore for PgKeyStore {
    async fn find(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, RepoError> {
        let find = keys::Entity::find().filter(Column::Hash.eq(hash.0.to_vec()));
        self.queries
            .run("find_api_key", |db| async move {
                find.one(&db)
                    .await
                    .map_err(store_error)?
                    .map(into_record)
                    .transpose()
            })
            .await
    }

    async fn create(&self, key: &NewKey) -> Result<KeyRecord, RepoError> {
        let row = keys::ActiveModel {
            name: Set(key.name.clone()),
            hash: Set(key.hash.0.to_vec()),
            role: Set(key.role.as_str().to_owned()),
            created_at: Set(key.created_at),
            ..Default::default()
        };
        self.queries
            .run("create_api_key", |db| async move {
                let row = keys::Entity::insert(row)
                    .exec_with_returning(&db)
                    .await
                    .map_err(store_error)?;
                into_record(row)
            })
            .await
    }

    async fn list(&self) -> Result<Vec<KeyRecord>, RepoError> {
        let all = keys::Entity::find().order_by_asc(Column::Id);
        self.queries
            .run("list_api_keys", |db| async move {
                all.all(&db)
                    .await
                    .map_err(store_error)?
                    .into_iter()
                    .map(into_record)
                    .collect()
            })
            .await
    }

    async fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<Option<KeyRecord>, RepoError> {
        // The first revocation's time stays: revoking twice changes nothing.
        let revoke = keys::Entity::update_many()
            .col_expr(
                Column::RevokedAt,
                Expr::cust_with_values("COALESCE(revoked_at, $1)", [at]),
            )
            .filter(Column::Id.eq(id.0));
        self.queries
            .run("revoke_api_key", |db| async move {
                let rows = revoke.exec_with_returning(&db).await.map_err(store_error)?;
                rows.into_iter().next().map(into_record).transpose()
            })
            .await
    }
}

/// The one unique key here is the hash, which 256 random bits never repeat: a clash is a bug,
/// not a taken code.
fn store_error(e: sea_orm::DbErr) -> RepoError {
    match repo_error(e) {
        RepoError::CodeTaken => RepoError::Unexpected("two keys with one hash".into()),
        other => other,
    }
}

fn into_record(row: keys::Model) -> Result<KeyRecord, RepoError> {
    let role: Role = row
        .role
        .parse()
        .map_err(|e| RepoError::Unexpected(format!("api_keys row {}: {e}", row.id)))?;
    Ok(KeyRecord {
        id: KeyId(row.id),
        name: row.name,
        role,
        created_at: row.created_at,
        revoked_at: row.revoked_at,
    })
}
