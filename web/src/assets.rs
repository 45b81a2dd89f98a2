//! The stylesheet, script and icon, compiled into the binary and served from `/assets/`, and the
//! security headers every console response carries.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The stylesheet.
pub const CSS: &str = include_str!("../assets/strata.css");
/// The refresh script.
pub const JS: &str = include_str!("../assets/strata.js");
/// The icon.
pub const FAVICON: &str = include_str!("../assets/favicon.svg");

/// Headers on every console response: only this origin's scripts, styles and images (no inline
/// script or style, nothing remote), no framing, no MIME sniffing, no referrer to other sites.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
];

/// Middleware adding [`SECURITY_HEADERS`].
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (k, v) in SECURITY_HEADERS {
        h.insert(k, HeaderValue::from_static(v));
    }
    resp
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Routes serving `/assets/strata.css`, `/assets/strata.js`, `/assets/favicon.svg` and
/// `/favicon.ico` (the icon, so browsers asking for it find one).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/assets/strata.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/assets/strata.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .route(
            "/assets/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON) }),
        )
        .route(
            "/favicon.ico",
            get(|| async { asset("image/svg+xml", FAVICON) }),
        )
}

/// An HTML response.
pub fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_load_nothing_remote() {
        for a in [CSS, JS, FAVICON] {
            assert!(!a.contains("https://") && !a.contains("@import") && !a.contains("url("));
        }
    }
}
