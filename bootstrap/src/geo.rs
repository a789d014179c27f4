use std::path::Path;

use adapter_geoip::MmdbGeoLocator;
use application::ports::{GeoLocator, NoGeoLocator};

use crate::StartError;

/// The country lookup for clicks: the mmdb database at `path`, or none (every country XX).
///
/// # Errors
/// When the database can't be loaded.
pub(crate) fn locator(path: Option<&Path>) -> Result<Box<dyn GeoLocator>, StartError> {
    match path {
        Some(path) => Ok(Box::new(
            MmdbGeoLocator::open(path).map_err(|e| StartError(format!("GEOIP_DATABASE: {e}")))?,
        )),
        None => {
            tracing::warn!("no GeoIP database configured: every click's country is XX");
            Ok(Box::new(NoGeoLocator))
        }
    }
}
