//! The `api_keys` table as sea-orm sees it (schema in the migrations crate).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub(crate) struct Model {
    #[sea_orm(primary_key)]
    pub(crate) id: i64,
    pub(crate) name: String,
    #[sea_orm(unique)]
    pub(crate) hash: Vec<u8>,
    pub(crate) role: String,
    pub(crate) created_at: ChronoDateTimeUtc,
    pub(crate) revoked_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
