//! `GeoLocator` on a MaxMind-format (mmdb) country database, loaded into memory at start.
//!
//! Reads both common layouts: ip-location-db's `{country_code}` (the database
//! `scripts/fetch-geoip.sh` fetches) and MaxMind GeoLite2/GeoIP2's `{country: {iso_code}}`.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use application::ports::GeoLocator;
use domain::CountryCode;
use maxminddb::{PathElement, Reader};

pub struct MmdbGeoLocator {
    reader: Reader<Vec<u8>>,
}

impl fmt::Debug for MmdbGeoLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MmdbGeoLocator")
            .field("database_type", &self.reader.metadata().database_type)
            .finish()
    }
}

impl MmdbGeoLocator {
    /// Loads the database file.
    ///
    /// # Errors
    /// A message naming the file when it can't be read or isn't an mmdb database.
    pub fn open(path: &Path) -> Result<Self, String> {
        let reader = Reader::open_readfile(path)
            .map_err(|e| format!("cannot load GeoIP database {}: {e}", path.display()))?;
        Ok(Self { reader })
    }
}

const LAYOUTS: [&[PathElement<'static>]; 2] = [
    &[PathElement::Key("country_code")],
    &[PathElement::Key("country"), PathElement::Key("iso_code")],
];

impl GeoLocator for MmdbGeoLocator {
    fn country(&self, ip: IpAddr) -> Option<CountryCode> {
        let found = self.reader.lookup(ip).ok()?;
        LAYOUTS
            .iter()
            .find_map(|path| found.decode_path::<&str>(path).ok().flatten())
            .and_then(CountryCode::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let error =
            MmdbGeoLocator::open(Path::new("/nonexistent/countries.mmdb")).expect_err("missing");
        assert!(
            error.starts_with("cannot load GeoIP database /nonexistent/countries.mmdb: "),
            "{error}"
        );
    }

    #[test]
    fn a_file_that_is_not_an_mmdb_database_is_refused() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let error = MmdbGeoLocator::open(&manifest).expect_err("not mmdb");
        assert!(error.contains("Cargo.toml"), "{error}");
    }
}
