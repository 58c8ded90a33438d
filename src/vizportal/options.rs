//! Everything needed to open a session, resolved once from flags and environment.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::error::VizportalError;
use super::jar::Jar;
use super::retry::RetryPolicy;
use super::sign_in::{ExistingSession, SignIn};
use super::transport::error_chain;
use super::trust;

/// A URL without any `user:password@` part, for messages and files. A URL with no scheme
/// (`user:pw@proxy:3128`) is cleaned too, and everything up to the last `@` goes, since a
/// password may hold a `/`.
pub fn without_credentials(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    match rest.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}{host}"),
        None => url.to_string(),
    }
}

/// Whether a URL holds a user name or password (`https://user:password@host`), which
/// vizscript never takes that way.
pub fn holds_credentials(url: &reqwest::Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// How to reach and sign in to a server.
#[derive(Debug)]
pub struct ConnectOptions {
    /// Base URL, e.g. `https://tableau.example.com`.
    pub server: String,
    /// How to sign in (and again after an expiry); `None` with an existing session that
    /// cannot be renewed.
    pub sign_in: Option<SignIn>,
    /// A session to use first, made elsewhere.
    pub existing: Option<ExistingSession>,
    /// A proxy for every request (`None`: the environment's proxies, if any).
    pub proxy: Option<String>,
    /// Use no proxy at all, not even the environment's.
    pub no_proxy: bool,
    /// The site to work on (`Some("")` = Default); `None` keeps the site the server picks.
    pub site: Option<String>,
    /// Extra trusted root certificates (PEM files).
    pub ca_certs: Vec<PathBuf>,
    /// Accept any certificate.
    pub insecure: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Backoff for transient failures.
    pub retry: RetryPolicy,
    /// Answers larger than this are refused.
    pub max_response_bytes: usize,
    /// Items asked for per page in list calls (the server may serve fewer).
    pub page_size: usize,
    /// Most requests in flight at once for the remaining pages of a list and the chunks
    /// of an idempotent batch (1 = strictly sequential); fewer while the server answers
    /// quickly.
    pub concurrency: usize,
}

impl ConnectOptions {
    /// Options for a password sign-in, with the defaults for everything else.
    pub fn new(
        server: impl Into<String>,
        username: impl Into<String>,
        password: SecretString,
    ) -> Self {
        let sign_in = SignIn::Password {
            username: username.into(),
            password,
        };
        ConnectOptions::signing_in(server, Some(sign_in), None)
    }

    /// Options for any way of signing in, with the defaults for everything else.
    pub fn signing_in(
        server: impl Into<String>,
        sign_in: Option<SignIn>,
        existing: Option<ExistingSession>,
    ) -> Self {
        ConnectOptions {
            server: server.into(),
            sign_in,
            existing,
            proxy: None,
            no_proxy: false,
            site: None,
            ca_certs: Vec::new(),
            insecure: false,
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            max_response_bytes: 16 * 1024 * 1024,
            page_size: 1000,
            concurrency: 8,
        }
    }

    /// The blocking HTTP client these options describe. Its TLS configuration is
    /// [`trust`](super::trust)'s: the platform's roots are read at the first HTTPS
    /// handshake, so a client of an `http://` server never reads them.
    ///
    /// reqwest's blocking client starts a thread for its runtime and waits for that
    /// thread to report it is ready. Now and then under load that wait misses the report
    /// and never returns (seen about once in ten full test runs; stacks taken with gdb:
    /// the caller parked in `ClientHandle::new`, the runtime thread idle and ready). So
    /// the client is made on a helper thread and waited for at most the first of
    /// [`CLIENT_STARTS`]; a start that misses it is left behind (two idle threads until
    /// exit) and another one is made, waited for longer, up to three in all.
    pub(crate) fn http_client(
        &self,
        jar: Arc<Jar>,
    ) -> Result<reqwest::blocking::Client, VizportalError> {
        let mut extra_roots = Vec::new();
        for path in &self.ca_certs {
            extra_roots.extend(trust::read_ca_file(path)?);
        }
        let tls = trust::client_config(extra_roots, self.insecure)?;
        let unusable = |e: reqwest::Error| {
            VizportalError::transport(
                "connect",
                format!("cannot set up HTTP: {}", error_chain(&e)),
            )
        };
        for wait in CLIENT_STARTS {
            let builder = self.client_builder(jar.clone(), tls.clone())?;
            let (sender, started) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name("http-client-start".into())
                .spawn(move || {
                    let _ = sender.send(builder.build());
                })
                .map_err(|e| {
                    VizportalError::transport("connect", format!("cannot set up HTTP: {e}"))
                })?;
            match started.recv_timeout(wait) {
                Ok(client) => return client.map_err(unusable),
                Err(_) => tracing::debug!("the HTTP client did not start; starting another"),
            }
        }
        Err(VizportalError::transport(
            "connect",
            format!(
                "cannot set up HTTP: the HTTP client did not start, {} times",
                CLIENT_STARTS.len()
            ),
        ))
    }

    fn client_builder(
        &self,
        jar: Arc<Jar>,
        tls: rustls::ClientConfig,
    ) -> Result<reqwest::blocking::ClientBuilder, VizportalError> {
        let mut builder = reqwest::blocking::Client::builder()
            .cookie_provider(jar)
            .user_agent(concat!("vizscript/", env!("CARGO_PKG_VERSION")))
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(15)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(8)
            .tcp_nodelay(true)
            .tls_backend_preconfigured(tls);
        if self.no_proxy {
            builder = builder.no_proxy();
        } else if let Some(proxy) = &self.proxy {
            let proxy = reqwest::Proxy::all(proxy.as_str()).map_err(|e| {
                VizportalError::Usage(format!(
                    "proxy {:?} is not usable: {}",
                    without_credentials(proxy),
                    error_chain(&e)
                ))
            })?;
            builder = builder.proxy(proxy);
        }
        Ok(builder)
    }
}

/// How long each start of the HTTP client is waited for, in turn, before giving up: a
/// start takes milliseconds, so a missed one costs a second, while a machine too busy to
/// start one in a second gets longer.
const CLIENT_STARTS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_secs(10),
];

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn no_password_survives_in_a_url_shown() {
        for (url, shown) in [
            (
                "http://alice:S3cret@proxy.corp:3128",
                "http://proxy.corp:3128",
            ),
            ("alice:S3cret@proxy.corp:3128", "proxy.corp:3128"),
            ("http://u:pa/ss@h:1/x", "http://h:1/x"),
            ("https://tab.example.com/x", "https://tab.example.com/x"),
        ] {
            assert_eq!(without_credentials(url), shown);
        }
    }
}
