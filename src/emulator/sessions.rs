//! Who is logged in: the RSA key and single-use key ids behind `generatePublicKey`/`login`,
//! and the sessions with the XSRF token issued to each. Checks are as strict as the
//! protocol allows: a session expires when idle, and its XSRF header must carry the token
//! issued to that very session, not merely echo a cookie.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;
use rsa::traits::PublicKeyParts;

use super::entities::Id;
use crate::wire::{WireError, code};

/// A key id may be used for one login within this time.
const KEY_ID_TTL: Duration = Duration::from_secs(60);

/// At most this many unused key ids are kept; older ones are dropped first.
const MAX_PENDING_KEY_IDS: usize = 10_000;

/// The server's RSA key and the key ids handed out for it.
pub(crate) struct LoginKeys {
    key: rsa::PrivateKey,
    modulus_hex: String,
    exponent_hex: String,
    issued: HashMap<String, Instant>,
}

impl LoginKeys {
    pub(crate) fn new(key: rsa::PrivateKey) -> LoginKeys {
        let public = key.to_public_key();
        let modulus_hex = hex::encode(public.n_bytes());
        // Tableau sends the exponent as "10001": leading zeros trimmed, odd length.
        let exponent_hex = hex::encode(public.e_bytes())
            .trim_start_matches('0')
            .to_owned();
        LoginKeys {
            key,
            modulus_hex,
            exponent_hex,
            issued: HashMap::new(),
        }
    }

    /// Issues a fresh key id; returns it with the public key as (keyId, n, e) hex.
    pub(crate) fn issue(&mut self, now: Instant) -> (String, &str, &str) {
        self.issued
            .retain(|_, at| now.duration_since(*at) < KEY_ID_TTL);
        if self.issued.len() >= MAX_PENDING_KEY_IDS
            && let Some(oldest) = self
                .issued
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, _)| k.clone())
        {
            self.issued.remove(&oldest);
        }
        let key_id = token(22);
        self.issued.insert(key_id.clone(), now);
        (key_id, &self.modulus_hex, &self.exponent_hex)
    }

    /// Uses up a key id; false when it was never issued, already used or too old.
    pub(crate) fn redeem(&mut self, key_id: &str, now: Instant) -> bool {
        self.issued
            .remove(key_id)
            .is_some_and(|at| now.duration_since(at) < KEY_ID_TTL)
    }

    /// Decrypts an `encryptedPassword`: hex of any case and of at most twice the modulus
    /// length in bytes (browser clients drop leading zeros). `None` when it is not hex or
    /// does not decrypt. With implicit rejection a wrong ciphertext may still "decrypt" to
    /// random bytes, so the caller must compare the result with the password.
    pub(crate) fn decrypt(&self, ciphertext_hex: &str) -> Option<Vec<u8>> {
        let size = self.key.size();
        if ciphertext_hex.is_empty() || ciphertext_hex.len() > 2 * size {
            return None;
        }
        let padded = format!("{ciphertext_hex:0>width$}", width = 2 * size);
        let bytes = hex::decode(padded).ok()?;
        self.key.pkcs1v15_decrypt(&bytes).ok()
    }
}

/// One logged-in session.
struct Session {
    user: Id,
    site: Id,
    xsrf: Xsrf,
    /// The personal access token that made it (REST sign-in), if any.
    token: Option<String>,
    last_used: Instant,
}

/// What a session's calls must send as `X-XSRF-TOKEN`.
enum Xsrf {
    /// The token issued with the session (`login`, `switchSite`), sent as the header and
    /// as the `XSRF-TOKEN` cookie: the strict reading.
    Issued(String),
    /// A REST token used as a Vizportal session has no issued XSRF token: any non-empty
    /// value sent both as the `XSRF-TOKEN` cookie and as the header (docs/protocol.md §2.8).
    DoubleSubmit,
}

/// What a request handler learns about the session that made the call.
#[derive(Clone, Debug)]
pub(crate) struct SessionView {
    pub id: String,
    pub user: Id,
    pub site: Id,
}

/// A new session's cookie values.
pub(crate) struct Issued {
    pub session_id: String,
    pub xsrf: String,
}

/// The XSRF values a call sent: the header and the `XSRF-TOKEN` cookie.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct XsrfPair<'a> {
    pub header: Option<&'a str>,
    pub cookie: Option<&'a str>,
}

impl<'a> XsrfPair<'a> {
    /// The same token as header and cookie (tests of issued tokens).
    #[cfg(test)]
    fn header(header: Option<&'a str>) -> XsrfPair<'a> {
        XsrfPair {
            header,
            cookie: header,
        }
    }
}

/// Why a call was refused: no or expired session (401), or a bad XSRF header.
pub(crate) enum Refusal {
    Session(WireError),
    Xsrf(WireError),
}

/// All live sessions by session id.
#[derive(Default)]
pub(crate) struct Sessions {
    live: HashMap<String, Session>,
}

impl Sessions {
    /// Starts a session for a user on a site; drops sessions idle past `ttl` meanwhile.
    pub(crate) fn open(&mut self, user: Id, site: Id, now: Instant, ttl: Duration) -> Issued {
        self.live
            .retain(|_, s| now.duration_since(s.last_used) <= ttl);
        let issued = Issued {
            session_id: token(32),
            xsrf: token(22),
        };
        let session = Session {
            user,
            site,
            xsrf: Xsrf::Issued(issued.xsrf.clone()),
            token: None,
            last_used: now,
        };
        self.live.insert(issued.session_id.clone(), session);
        issued
    }

    /// Starts a session from a REST sign-in with a personal access token and returns its
    /// id (the REST token). One token is one session: an earlier session of the same
    /// token ends.
    pub(crate) fn open_for_token(
        &mut self,
        token: &str,
        user: Id,
        site: Id,
        now: Instant,
        ttl: Duration,
    ) -> String {
        self.live.retain(|_, s| {
            now.duration_since(s.last_used) <= ttl && s.token.as_deref() != Some(token)
        });
        let id = self::token(32);
        let session = Session {
            user,
            site,
            xsrf: Xsrf::DoubleSubmit,
            token: Some(token.to_owned()),
            last_used: now,
        };
        self.live.insert(id.clone(), session);
        id
    }

    /// The user and site of a live session (REST calls), without touching it.
    pub(crate) fn peek(&self, session_id: &str) -> Option<(Id, Id)> {
        self.live.get(session_id).map(|s| (s.user, s.site))
    }

    /// Checks the session cookie and the XSRF header of a call and marks the session used.
    pub(crate) fn authenticate(
        &mut self,
        session_id: Option<&str>,
        xsrf: XsrfPair<'_>,
        now: Instant,
        ttl: Duration,
    ) -> Result<SessionView, Refusal> {
        let invalid =
            |message: &str| Refusal::Session(WireError::new(code::INVALID_SESSION, message));
        let id =
            session_id.ok_or_else(|| invalid("no workgroup_session_id cookie: log in first"))?;
        let session = self
            .live
            .get_mut(id)
            .ok_or_else(|| invalid("the session is not valid (logged out or replaced)"))?;
        if now.duration_since(session.last_used) > ttl {
            self.live.remove(id);
            return Err(invalid("the session expired"));
        }
        let refuse = |message: &str| {
            Err(Refusal::Xsrf(WireError::new(
                code::INVALID_SESSION,
                message,
            )))
        };
        match (xsrf.header, &session.xsrf) {
            (None, _) => refuse("missing X-XSRF-TOKEN header"),
            (Some(token), Xsrf::Issued(issued)) if token != issued => {
                refuse("X-XSRF-TOKEN does not match the XSRF token of this session")
            }
            // Double submit too: the header must repeat the XSRF-TOKEN cookie.
            (Some(token), Xsrf::Issued(_)) if xsrf.cookie != Some(token) => {
                refuse("X-XSRF-TOKEN does not match the XSRF-TOKEN cookie")
            }
            (Some(""), Xsrf::DoubleSubmit) => refuse("X-XSRF-TOKEN is empty"),
            (Some(token), Xsrf::DoubleSubmit) if xsrf.cookie != Some(token) => {
                refuse("X-XSRF-TOKEN does not match the XSRF-TOKEN cookie")
            }
            (Some(_), _) => {
                session.last_used = now;
                Ok(SessionView {
                    id: id.to_owned(),
                    user: session.user,
                    site: session.site,
                })
            }
        }
    }

    /// Replaces a session by a new one on `site` (`switchSite`); the old id stops working.
    pub(crate) fn rotate(
        &mut self,
        old: &str,
        site: Id,
        now: Instant,
        ttl: Duration,
    ) -> Option<Issued> {
        let user = self.live.remove(old)?.user;
        Some(self.open(user, site, now, ttl))
    }

    /// Ends a session (`logout`).
    pub(crate) fn close(&mut self, session_id: &str) {
        self.live.remove(session_id);
    }

    /// Ends every session.
    pub(crate) fn clear(&mut self) {
        self.live.clear();
    }
}

/// A random alphanumeric token: safe in a cookie, no `;` or `=`.
fn token(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    #[test]
    fn xsrf_must_be_the_sessions_own_token() {
        let mut sessions = Sessions::default();
        let now = Instant::now();
        let a = sessions.open(Id(1), Id(1), now, TTL);
        let b = sessions.open(Id(2), Id(1), now, TTL);
        assert!(
            sessions
                .authenticate(
                    Some(&a.session_id),
                    XsrfPair::header(Some(&a.xsrf)),
                    now,
                    TTL
                )
                .is_ok()
        );
        assert!(matches!(
            sessions.authenticate(
                Some(&a.session_id),
                XsrfPair::header(Some(&b.xsrf)),
                now,
                TTL
            ),
            Err(Refusal::Xsrf(_))
        ));
        assert!(matches!(
            sessions.authenticate(Some(&a.session_id), XsrfPair::header(None), now, TTL),
            Err(Refusal::Xsrf(_))
        ));
        assert!(matches!(
            sessions.authenticate(None, XsrfPair::header(Some(&a.xsrf)), now, TTL),
            Err(Refusal::Session(_))
        ));
        // The issued token as the header, but the cookie missing or another value.
        for cookie in [None, Some("zzz")] {
            let pair = XsrfPair {
                header: Some(&a.xsrf),
                cookie,
            };
            assert!(matches!(
                sessions.authenticate(Some(&a.session_id), pair, now, TTL),
                Err(Refusal::Xsrf(_))
            ));
        }
    }

    #[test]
    fn idle_sessions_expire_and_rotation_retires_the_old_id() {
        let mut sessions = Sessions::default();
        let start = Instant::now();
        let a = sessions.open(Id(1), Id(1), start, TTL);
        let later = start + TTL + Duration::from_secs(1);
        assert!(matches!(
            sessions.authenticate(
                Some(&a.session_id),
                XsrfPair::header(Some(&a.xsrf)),
                later,
                TTL
            ),
            Err(Refusal::Session(_))
        ));
        let b = sessions.open(Id(1), Id(1), start, TTL);
        let c = sessions.rotate(&b.session_id, Id(2), start, TTL).unwrap();
        assert!(
            sessions
                .authenticate(
                    Some(&b.session_id),
                    XsrfPair::header(Some(&b.xsrf)),
                    start,
                    TTL
                )
                .is_err()
        );
        let view = sessions
            .authenticate(
                Some(&c.session_id),
                XsrfPair::header(Some(&c.xsrf)),
                start,
                TTL,
            )
            .ok()
            .unwrap();
        assert_eq!(view.site, Id(2));
    }

    #[test]
    fn tokens_are_cookie_safe() {
        let t = token(32);
        assert_eq!(t.len(), 32);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
