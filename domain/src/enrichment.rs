//! What a click is turned into before it is counted: device type from the user agent, traffic
//! source from the referer, and the visitor's country. Pure rules over strings; the GeoIP lookup
//! itself is a port, since it reads a database file.

use std::fmt;

use crate::ClickEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceType {
    Bot,
    Mobile,
    Tablet,
    Desktop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrafficSource {
    Direct,
    Search,
    Social,
    Referral,
}

/// An ISO 3166-1 alpha-2 country code, or `XX` when unknown.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

/// A click with everything analytics counts it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrichedClick {
    pub event: ClickEvent,
    pub country: CountryCode,
    pub device: DeviceType,
    pub source: TrafficSource,
}

impl EnrichedClick {
    /// Applies the rules; `country` comes from the GeoIP port (None when unknown).
    pub fn new(event: ClickEvent, country: Option<CountryCode>) -> Self {
        let device = DeviceType::from_user_agent(event.visit.user_agent.as_deref());
        let source = TrafficSource::from_referer(event.visit.referer.as_deref());
        Self {
            event,
            country: country.unwrap_or(CountryCode::UNKNOWN),
            device,
            source,
        }
    }
}

// Lower-case fragments; the first list that matches wins, in the order Bot, Tablet, Mobile.
const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "curl/",
    "wget/",
    "python-",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "headless",
    "facebookexternalhit",
    "scrapy",
    "axios/",
    "node-fetch",
    "postmanruntime",
    "preview",
    "monitor",
];
const TABLET_MARKERS: &[&str] = &["ipad", "tablet", "kindle", "silk/", "playbook"];
const MOBILE_MARKERS: &[&str] = &[
    "mobi",
    "iphone",
    "ipod",
    "android",
    "windows phone",
    "blackberry",
    "opera mini",
];

impl DeviceType {
    /// Bots first (crawlers often claim to be mobile browsers too), then tablets (iPads say
    /// "Mobile"), then phones; anything else is a desktop. No user agent at all means a script.
    pub fn from_user_agent(user_agent: Option<&str>) -> Self {
        let Some(ua) = user_agent
            .map(str::to_ascii_lowercase)
            .filter(|ua| !ua.trim().is_empty())
        else {
            return Self::Bot;
        };
        let has = |markers: &[&str]| markers.iter().any(|m| ua.contains(m));
        if has(BOT_MARKERS) {
            Self::Bot
        } else if has(TABLET_MARKERS) || (ua.contains("android") && !ua.contains("mobile")) {
            Self::Tablet
        } else if has(MOBILE_MARKERS) {
            Self::Mobile
        } else {
            Self::Desktop
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "Bot",
            Self::Mobile => "Mobile",
            Self::Tablet => "Tablet",
            Self::Desktop => "Desktop",
        }
    }

    /// The inverse of [`Self::as_str`], for values read back from storage.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Bot, Self::Mobile, Self::Tablet, Self::Desktop]
            .into_iter()
            .find(|d| d.as_str() == name)
    }
}

// Search engines are matched by a label anywhere in the host, since they live under many
// country domains (google.de, yandex.ru); social sites by their exact domains.
const SEARCH_LABELS: &[&str] = &[
    "google",
    "bing",
    "duckduckgo",
    "yahoo",
    "yandex",
    "baidu",
    "ecosia",
    "startpage",
    "qwant",
    "naver",
    "seznam",
];
const SEARCH_DOMAINS: &[&str] = &["search.brave.com", "ask.com"];
const SOCIAL_DOMAINS: &[&str] = &[
    "facebook.com",
    "fb.com",
    "fb.me",
    "instagram.com",
    "twitter.com",
    "x.com",
    "t.co",
    "linkedin.com",
    "lnkd.in",
    "reddit.com",
    "redd.it",
    "pinterest.com",
    "tiktok.com",
    "youtube.com",
    "youtu.be",
    "whatsapp.com",
    "wa.me",
    "t.me",
    "telegram.org",
    "tumblr.com",
    "threads.net",
    "bsky.app",
    "snapchat.com",
    "vk.com",
    "weibo.com",
    "news.ycombinator.com",
    "mastodon.social",
];

impl TrafficSource {
    /// Direct without a usable referer; Search or Social by the referer's host; else Referral.
    pub fn from_referer(referer: Option<&str>) -> Self {
        let Some(host) = referer
            .and_then(|r| url::Url::parse(r.trim()).ok())
            .and_then(|u| {
                u.host_str()
                    .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            })
            .filter(|h| !h.is_empty())
        else {
            return Self::Direct;
        };
        let under = |domain: &&str| host == *domain || host.ends_with(&format!(".{domain}"));
        if host.split('.').any(|label| SEARCH_LABELS.contains(&label))
            || SEARCH_DOMAINS.iter().any(under)
        {
            Self::Search
        } else if SOCIAL_DOMAINS.iter().any(under) {
            Self::Social
        } else {
            Self::Referral
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "Direct",
            Self::Search => "Search",
            Self::Social => "Social",
            Self::Referral => "Referral",
        }
    }

    /// The inverse of [`Self::as_str`], for values read back from storage.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Direct, Self::Search, Self::Social, Self::Referral]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

impl CountryCode {
    pub const UNKNOWN: Self = Self(*b"XX");

    /// Two ASCII letters, upper-cased; anything else is not a country code.
    pub fn parse(code: &str) -> Option<Self> {
        let bytes: [u8; 2] = code.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(u8::is_ascii_alphabetic)
            .then(|| Self(bytes.map(|b| b.to_ascii_uppercase())))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters get in, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or("XX")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    const ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36";
    const ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";
    const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";
    const MAC_FIREFOX: &str =
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0";
    const GOOGLEBOT_MOBILE: &str = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    #[rstest]
    #[case(Some(IPHONE), DeviceType::Mobile)]
    #[case(Some(ANDROID_PHONE), DeviceType::Mobile)]
    #[case(
        Some("Opera/9.80 (J2ME/MIDP; Opera Mini/9.80) Presto/2.5.25"),
        DeviceType::Mobile
    )]
    #[case(Some(IPAD), DeviceType::Tablet)]
    #[case(Some(ANDROID_TABLET), DeviceType::Tablet)]
    #[case(
        Some(
            "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/535.19 (KHTML, like Gecko) Silk/3.4 Mobile Safari/535.19"
        ),
        DeviceType::Tablet
    )]
    #[case(Some(WINDOWS), DeviceType::Desktop)]
    #[case(Some(MAC_FIREFOX), DeviceType::Desktop)]
    #[case(Some(GOOGLEBOT_MOBILE), DeviceType::Bot)]
    #[case(
        Some("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
        DeviceType::Bot
    )]
    #[case(Some("facebookexternalhit/1.1"), DeviceType::Bot)]
    #[case(Some("curl/8.5.0"), DeviceType::Bot)]
    #[case(Some("python-requests/2.31"), DeviceType::Bot)]
    #[case(
        Some("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124.0 Safari/537.36"),
        DeviceType::Bot
    )]
    #[case(Some(""), DeviceType::Bot)]
    #[case(Some("   "), DeviceType::Bot)]
    #[case(None, DeviceType::Bot)]
    #[case(Some("SomethingNew/1.0"), DeviceType::Desktop)]
    fn device_type_from_user_agent(#[case] ua: Option<&str>, #[case] expected: DeviceType) {
        assert_eq!(DeviceType::from_user_agent(ua), expected);
    }

    #[rstest]
    #[case(None, TrafficSource::Direct)]
    #[case(Some(""), TrafficSource::Direct)]
    #[case(Some("not a url"), TrafficSource::Direct)]
    // An app that sends a referer is a referrer too.
    #[case(Some("android-app://com.slack"), TrafficSource::Referral)]
    #[case(Some("https://www.google.com/"), TrafficSource::Search)]
    #[case(Some("https://www.google.co.uk/search?q=x"), TrafficSource::Search)]
    #[case(Some("https://duckduckgo.com/"), TrafficSource::Search)]
    #[case(Some("https://search.brave.com/search?q=x"), TrafficSource::Search)]
    #[case(Some("https://yandex.ru/"), TrafficSource::Search)]
    #[case(Some("https://WWW.BING.COM./"), TrafficSource::Search)]
    #[case(Some("https://t.co/abc"), TrafficSource::Social)]
    #[case(Some("https://x.com/someone"), TrafficSource::Social)]
    #[case(Some("https://m.facebook.com/"), TrafficSource::Social)]
    #[case(Some("https://old.reddit.com/r/rust"), TrafficSource::Social)]
    #[case(Some("https://news.ycombinator.com/item?id=1"), TrafficSource::Social)]
    #[case(Some("https://www.youtube.com/watch?v=1"), TrafficSource::Social)]
    #[case(Some("https://blog.example.org/post"), TrafficSource::Referral)]
    // Lookalikes are not the site they imitate.
    #[case(Some("https://notx.com/"), TrafficSource::Referral)]
    #[case(Some("https://facebook.com.evil.example/"), TrafficSource::Referral)]
    fn traffic_source_from_referer(#[case] referer: Option<&str>, #[case] expected: TrafficSource) {
        assert_eq!(TrafficSource::from_referer(referer), expected);
    }

    #[rstest]
    #[case("DE", Some("DE"))]
    #[case("us", Some("US"))]
    #[case("XX", Some("XX"))]
    #[case("D", None)]
    #[case("DEU", None)]
    #[case("1A", None)]
    #[case("", None)]
    fn country_codes(#[case] input: &str, #[case] expected: Option<&str>) {
        assert_eq!(
            CountryCode::parse(input).as_ref().map(CountryCode::as_str),
            expected
        );
    }

    #[test]
    fn names_round_trip() {
        for d in [
            DeviceType::Bot,
            DeviceType::Mobile,
            DeviceType::Tablet,
            DeviceType::Desktop,
        ] {
            assert_eq!(DeviceType::parse(d.as_str()), Some(d));
        }
        for s in [
            TrafficSource::Direct,
            TrafficSource::Search,
            TrafficSource::Social,
            TrafficSource::Referral,
        ] {
            assert_eq!(TrafficSource::parse(s.as_str()), Some(s));
        }
    }
}
