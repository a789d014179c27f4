//! The schema, one migration per step. Applied only by the `migrate` binary (or a test fixture):
//! no service migrates on start, so a rollout never races a schema change.

use sea_orm_migration::prelude::*;

pub use sea_orm_migration::MigratorTrait;

mod m20261123_000001_create_urls;
mod m20261123_000002_create_clicks;
mod m20261123_000003_create_click_counters;
mod m20261201_000004_create_api_keys;
mod sql_migration;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_urls::MIGRATION),
            Box::new(m20261123_000002_create_clicks::MIGRATION),
            Box::new(m20261123_000003_create_click_counters::MIGRATION),
            Box::new(m20261201_000004_create_api_keys::MIGRATION),
        ]
    }
}
