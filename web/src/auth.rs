//! Who may act: pages are read-only for anyone who can reach the listener; an action (a POST
//! that changes something) needs the operator's token from the configuration.
//!
//! Two ways to present it:
//! - scripts send `Authorization: Bearer <token>` (a browser never attaches that header to a
//!   cross-site request without a CORS preflight, which these servers do not answer), and
//! - a browser signs in once with the token (`POST /login`) and gets a session cookie
//!   (`HttpOnly`, `SameSite=Strict`); every action form then carries the session's CSRF token,
//!   and a request whose `Origin` or `Sec-Fetch-Site` shows another site is refused even with
//!   the right cookie and field.
//!
//! Tokens are compared in constant time; sessions live in memory (a restart signs everyone out)
//! and expire after [`SESSION_TTL`].

use axum::http::{header, HeaderMap};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use thiserror::Error;

/// The session cookie's name.
pub const COOKIE: &str = "strata_session";
/// How long a browser session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most (the oldest is dropped first).
const MAX_SESSIONS: usize = 64;

/// Why an action was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    /// No token is configured, so nothing may act.
    #[error("actions are disabled: set `console_token` in the configuration to enable them")]
    Disabled,
    /// No credentials, a wrong token, or an unknown or expired session.
    #[error(
        "not signed in: sign in with the console token, or send `Authorization: Bearer <token>`"
    )]
    Unauthorized,
    /// The request came from another site.
    #[error("cross-site request refused ({0})")]
    CrossSite(String),
    /// The form's CSRF token is missing or wrong.
    #[error("missing or wrong CSRF token: reload the page and try again")]
    Csrf,
    /// The system's random source failed.
    #[error("no randomness for a session: {0}")]
    Random(String),
}

/// How the request proved itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// `Authorization: Bearer` with the token.
    Bearer,
    /// A signed-in browser session with its CSRF token.
    Session,
}

struct Session {
    csrf: String,
    expires: Instant,
}

/// The token and the live browser sessions.
pub struct Auth {
    token: Option<String>,
    sessions: Mutex<HashMap<String, Session>>,
}

fn random_hex() -> Result<String, AuthError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Equal in constant time (over the digests, so lengths leak nothing either).
fn same(a: &str, b: &str) -> bool {
    let (x, y) = (blake3::hash(a.as_bytes()), blake3::hash(b.as_bytes()));
    x.as_bytes()
        .iter()
        .zip(y.as_bytes())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

/// The value of cookie `name` in the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Refuses a request that a browser marks as coming from another site: `Sec-Fetch-Site` other
/// than `same-origin`/`none`, or an `Origin` whose host is not the `Host` the request was sent
/// to.
pub fn same_site(headers: &HeaderMap) -> Result<(), AuthError> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return Err(AuthError::CrossSite(format!("Sec-Fetch-Site: {site}")));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let o_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        if host.is_empty() || o_host != host {
            return Err(AuthError::CrossSite(format!(
                "Origin {origin} is not this host {host}"
            )));
        }
    }
    Ok(())
}

impl Auth {
    /// Actions allowed with `token` (`None`: no action is allowed at all; an empty token counts
    /// as none).
    pub fn new(token: Option<String>) -> Auth {
        Auth {
            token: token.filter(|t| !t.trim().is_empty()),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a token is configured.
    pub fn enabled(&self) -> bool {
        self.token.is_some()
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Signs a browser in with `attempt`: returns the `Set-Cookie` value of a new session.
    pub fn login(&self, headers: &HeaderMap, attempt: &str) -> Result<String, AuthError> {
        let token = self.token.as_deref().ok_or(AuthError::Disabled)?;
        same_site(headers)?;
        if !same(token, attempt.trim()) {
            tracing::warn!("console sign-in with a wrong token");
            return Err(AuthError::Unauthorized);
        }
        let id = random_hex()?;
        let csrf = random_hex()?;
        let now = Instant::now();
        let mut s = self.sessions();
        s.retain(|_, v| v.expires > now);
        while s.len() >= MAX_SESSIONS {
            let oldest = s
                .iter()
                .min_by_key(|(_, v)| v.expires)
                .map(|(k, _)| k.clone())
                .expect("non-empty");
            s.remove(&oldest);
        }
        s.insert(
            id.clone(),
            Session {
                csrf,
                expires: now + SESSION_TTL,
            },
        );
        Ok(format!(
            "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
            SESSION_TTL.as_secs()
        ))
    }

    /// Ends the request's session, if any; returns the `Set-Cookie` value that clears it.
    pub fn logout(&self, headers: &HeaderMap) -> String {
        if let Some(id) = cookie(headers, COOKIE) {
            self.sessions().remove(id);
        }
        format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
    }

    /// The CSRF token to put in action forms, if the request carries a live session.
    pub fn csrf(&self, headers: &HeaderMap) -> Option<String> {
        let id = cookie(headers, COOKIE)?;
        let s = self.sessions();
        s.get(id)
            .filter(|v| v.expires > Instant::now())
            .map(|v| v.csrf.clone())
    }

    /// Whether the request may act: a bearer token equal to the configured one, or a live
    /// session from this site whose CSRF token equals `form_csrf`.
    pub fn authorize(
        &self,
        headers: &HeaderMap,
        form_csrf: Option<&str>,
    ) -> Result<Actor, AuthError> {
        let token = self.token.as_deref().ok_or(AuthError::Disabled)?;
        if let Some(v) = headers.get(header::AUTHORIZATION) {
            let v = v.to_str().unwrap_or("");
            return match v.strip_prefix("Bearer ") {
                Some(t) if same(token, t.trim()) => Ok(Actor::Bearer),
                _ => Err(AuthError::Unauthorized),
            };
        }
        let expected = self.csrf(headers).ok_or(AuthError::Unauthorized)?;
        same_site(headers)?;
        match form_csrf {
            Some(c) if same(&expected, c) => Ok(Actor::Session),
            _ => Err(AuthError::Csrf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    fn session_of(set_cookie: &str) -> String {
        set_cookie.split(';').next().unwrap().to_string()
    }

    #[test]
    fn without_a_token_nothing_acts() {
        let a = Auth::new(None);
        assert_eq!(a.login(&h(&[]), ""), Err(AuthError::Disabled));
        assert_eq!(
            a.authorize(&h(&[("authorization", "Bearer ")]), None),
            Err(AuthError::Disabled)
        );
        assert!(!Auth::new(Some("  ".into())).enabled());
    }

    #[test]
    fn bearer_needs_the_exact_token() {
        let a = Auth::new(Some("s3cret".into()));
        assert_eq!(
            a.authorize(&h(&[("authorization", "Bearer s3cret")]), None),
            Ok(Actor::Bearer)
        );
        for bad in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "s3cret",
            "Basic s3cret",
            "Bearer ",
        ] {
            assert_eq!(
                a.authorize(&h(&[("authorization", bad)]), None),
                Err(AuthError::Unauthorized),
                "{bad}"
            );
        }
        assert_eq!(a.authorize(&h(&[]), None), Err(AuthError::Unauthorized));
    }

    #[test]
    fn a_session_acts_only_with_its_csrf_token_from_this_site() {
        let a = Auth::new(Some("tok".into()));
        assert_eq!(a.login(&h(&[]), "nope"), Err(AuthError::Unauthorized));
        let c = session_of(&a.login(&h(&[("host", "127.0.0.1:9")]), "tok").unwrap());
        let other = session_of(&a.login(&h(&[]), "tok").unwrap());
        let csrf = a.csrf(&h(&[("cookie", &c)])).unwrap();
        let other_csrf = a.csrf(&h(&[("cookie", &other)])).unwrap();
        assert_ne!(csrf, other_csrf);
        let ok = h(&[
            ("cookie", &c),
            ("host", "127.0.0.1:9"),
            ("origin", "http://127.0.0.1:9"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(a.authorize(&ok, Some(&csrf)), Ok(Actor::Session));
        assert_eq!(a.authorize(&ok, None), Err(AuthError::Csrf));
        assert_eq!(a.authorize(&ok, Some(&other_csrf)), Err(AuthError::Csrf));
        let evil = h(&[
            ("cookie", &c),
            ("host", "127.0.0.1:9"),
            ("origin", "http://evil.example"),
        ]);
        assert!(matches!(
            a.authorize(&evil, Some(&csrf)),
            Err(AuthError::CrossSite(_))
        ));
        let cross = h(&[("cookie", &c), ("sec-fetch-site", "cross-site")]);
        assert!(matches!(
            a.authorize(&cross, Some(&csrf)),
            Err(AuthError::CrossSite(_))
        ));
        assert_eq!(
            a.authorize(&h(&[("cookie", "strata_session=forged")]), Some(&csrf)),
            Err(AuthError::Unauthorized)
        );
        a.logout(&h(&[("cookie", &c)]));
        assert_eq!(a.authorize(&ok, Some(&csrf)), Err(AuthError::Unauthorized));
    }

    #[test]
    fn sessions_are_bounded() {
        let a = Auth::new(Some("t".into()));
        for _ in 0..(MAX_SESSIONS + 10) {
            a.login(&h(&[]), "t").unwrap();
        }
        assert_eq!(a.sessions().len(), MAX_SESSIONS);
    }
}
