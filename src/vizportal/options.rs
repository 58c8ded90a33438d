//! Everything needed to open a session, resolved once from flags and environment.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::error::VizportalError;
use super::jar::Jar;
use super::retry::RetryPolicy;
use super::transport::error_chain;

/// How to reach and sign in to a server.
#[derive(Debug)]
pub struct ConnectOptions {
    /// Base URL, e.g. `https://tableau.example.com`.
    pub server: String,
    /// The user to sign in as.
    pub username: String,
    /// The password; it stays in this secret until it is encrypted for `login`.
    pub password: SecretString,
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
    /// Requests in flight at once for the remaining pages of a list and the chunks of an
    /// idempotent batch (1 = strictly sequential).
    pub concurrency: usize,
}

impl ConnectOptions {
    /// Options with the defaults for everything but the server and credentials.
    pub fn new(
        server: impl Into<String>,
        username: impl Into<String>,
        password: SecretString,
    ) -> Self {
        ConnectOptions {
            server: server.into(),
            username: username.into(),
            password,
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

    /// The blocking HTTP client these options describe.
    pub(crate) fn http_client(
        &self,
        jar: Arc<Jar>,
    ) -> Result<reqwest::blocking::Client, VizportalError> {
        // reqwest is built without a crypto provider of its own and takes the process
        // default; an error only says one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::blocking::Client::builder()
            .cookie_provider(jar)
            .user_agent(concat!("vizscript/", env!("CARGO_PKG_VERSION")))
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(15)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(8)
            .tcp_nodelay(true);
        if !self.ca_certs.is_empty() {
            let mut certs = Vec::new();
            for path in &self.ca_certs {
                let pem = std::fs::read(path).map_err(|e| {
                    VizportalError::Usage(format!("--ca-cert {}: {e}", path.display()))
                })?;
                let bundle = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                    VizportalError::Usage(format!(
                        "--ca-cert {}: not a PEM certificate file: {}",
                        path.display(),
                        error_chain(&e)
                    ))
                })?;
                if bundle.is_empty() {
                    return Err(VizportalError::Usage(format!(
                        "--ca-cert {}: no PEM certificate in the file",
                        path.display()
                    )));
                }
                certs.extend(bundle);
            }
            builder = builder.tls_certs_merge(certs);
        }
        if self.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        builder.build().map_err(|e| {
            VizportalError::transport(
                "connect",
                format!("cannot set up HTTP: {}", error_chain(&e)),
            )
        })
    }
}
