//! The session's cookie jar: RFC 6265 cookie handling from `cookie_store`, plugged into
//! reqwest. Unlike reqwest's own jar, one cookie the server sends with bytes a header
//! cannot carry does not silence every cookie (a property test found that): such a
//! cookie is simply not sent back.

use std::sync::RwLock;

use cookie_store::{CookieStore, RawCookie};
use reqwest::Url;
use reqwest::header::HeaderValue;

/// Cookies of one session.
#[derive(Default)]
pub(crate) struct Jar {
    store: RwLock<CookieStore>,
}

impl Jar {
    /// The value of the cookie `name` that would be sent to `url`.
    pub(crate) fn get(&self, url: &Url, name: &str) -> Option<String> {
        let store = self.store.read().unwrap_or_else(|p| p.into_inner());
        store
            .get_request_values(url)
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }

    /// Store cookies as a `Set-Cookie` header value would.
    pub(crate) fn set(&self, url: &Url, set_cookie: &str) {
        self.store_all(url, std::iter::once(set_cookie));
    }

    /// Forget the cookies called `names` for `url`'s host.
    pub(crate) fn forget(&self, url: &Url, names: &[&str]) {
        let mut store = self.store.write().unwrap_or_else(|p| p.into_inner());
        let host = url.host_str().unwrap_or_default().to_string();
        for name in names {
            store.remove(&host, "/", name);
        }
    }

    fn store_all<'a>(&self, url: &Url, headers: impl Iterator<Item = &'a str>) {
        let cookies = headers.filter_map(|text| RawCookie::parse(text.to_string()).ok());
        self.store
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .store_response_cookies(cookies, url);
    }
}

impl reqwest::cookie::CookieStore for Jar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        self.store_all(
            url,
            headers.filter_map(|h| std::str::from_utf8(h.as_bytes()).ok()),
        );
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let store = self.store.read().unwrap_or_else(|p| p.into_inner());
        let pairs: Vec<String> = store
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .filter(|pair| HeaderValue::from_str(pair).is_ok())
            .collect();
        if pairs.is_empty() {
            None
        } else {
            HeaderValue::from_str(&pairs.join("; ")).ok()
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use reqwest::cookie::CookieStore as _;

    proptest! {
        #[test]
        fn any_set_cookie_leaves_lookup_and_sending_sound(headers in prop::collection::vec(".{0,80}", 0..6)) {
            let url: Url = "http://127.0.0.1:9/vizportal/api/web/v1/login".parse().unwrap();
            let jar = Jar::default();
            for header in &headers {
                jar.set(&url, header);
            }
            jar.set(&url, "XSRF-TOKEN=abc; Path=/");
            jar.set(&url, "workgroup_session_id=s1; Path=/; HttpOnly");
            prop_assert_eq!(jar.get(&url, "XSRF-TOKEN"), Some("abc".to_string()));
            let sent = jar.cookies(&url).expect("the session cookies are always sent");
            let sent = String::from_utf8_lossy(sent.as_bytes());
            prop_assert!(sent.contains("XSRF-TOKEN=abc") && sent.contains("workgroup_session_id=s1"), "{}", sent);
            jar.forget(&url, &["workgroup_session_id", "XSRF-TOKEN"]);
            prop_assert_eq!(jar.get(&url, "XSRF-TOKEN"), None);
        }
    }
}
