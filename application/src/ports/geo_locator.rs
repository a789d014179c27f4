use std::net::IpAddr;

use domain::CountryCode;

/// Finds the country of an IP address.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait GeoLocator: Send + Sync + 'static {
    /// `None` when the address is unknown, private, or no database is configured.
    fn country(&self, ip: IpAddr) -> Option<CountryCode>;
}

/// For deployments without a GeoIP database: every country is unknown ("XX").
#[derive(Debug, Clone, Copy, Default)]
pub struct NoGeoLocator;

impl GeoLocator for NoGeoLocator {
    fn country(&self, _ip: IpAddr) -> Option<CountryCode> {
        None
    }
}

/// Lets the locator be chosen at start-up (a database, or none).
impl<T: GeoLocator + ?Sized> GeoLocator for Box<T> {
    fn country(&self, ip: IpAddr) -> Option<CountryCode> {
        (**self).country(ip)
    }
}
