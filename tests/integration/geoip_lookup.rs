//! `MmdbGeoLocator` on the real country database.

use adapter_geoip::MmdbGeoLocator;
use application::ports::GeoLocator;
use integration_tests::geoip;
use rstest::rstest;

#[rstest]
#[case("8.8.8.8", Some("US"))]
#[case("2001:4860:4860::8888", Some("US"))]
#[case("127.0.0.1", None)]
#[case("10.1.2.3", None)]
#[case("::1", None)]
fn finds_countries(#[case] ip: &str, #[case] expected: Option<&str>) {
    let geo = MmdbGeoLocator::open(&geoip::database()).unwrap();

    let country = geo.country(ip.parse().unwrap());

    assert_eq!(country.map(|c| c.to_string()).as_deref(), expected);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_with_its_name() {
    let error = MmdbGeoLocator::open(std::path::Path::new("/etc/hostname")).unwrap_err();
    assert!(error.contains("/etc/hostname"), "{error}");
}
