//! The operator's web console, served by `strata miner run` at `/` on the same listener as the
//! deal endpoint and `/metrics`: overview, sectors, deadline timeline, deals, proofs (each with
//! its proof file to download and verify offline) and the scheduler's decision log. Every page
//! has its JSON twin under `/api/` built from the same struct ([`data`]); pages refresh
//! themselves by polling.
//!
//! Pages are read-only. The one action, pledging a committed-capacity sector, needs the
//! configured `console_token` — a browser signs in and posts a form with its session's CSRF
//! token, a script sends `Authorization: Bearer` ([`strata_web::auth`]). Without a token nothing
//! can act. Every response carries a Content-Security-Policy that allows only this origin's
//! script, style and images.

pub mod data;
pub mod pages;

use crate::db::Step;
use crate::Provider;
use axum::extract::{Form, Path as AxPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use strata_web::assets::html;
use strata_web::auth::{Auth, AuthError};
use strata_web::pagination::PageQuery;

/// The console's state: the provider, the operator's token and sessions, and the running tally
/// of rewards.
pub struct Console {
    p: Arc<Provider>,
    auth: Auth,
    rewards: tokio::sync::Mutex<data::RewardTally>,
}

type C = State<Arc<Console>>;

/// The console's routes (pages, `/api/…`, actions, assets), with the security headers.
pub fn router(p: Arc<Provider>) -> Router {
    let auth = Auth::new(p.config.console_token.clone());
    let c = Arc::new(Console {
        p,
        auth,
        rewards: Default::default(),
    });
    Router::new()
        .route("/", get(overview_page))
        .route("/sectors", get(sectors_page))
        .route("/deadlines", get(deadlines_page))
        .route("/deals", get(deals_page))
        .route("/proofs", get(proofs_page))
        .route("/log", get(log_page))
        .route("/api/overview", get(overview_api))
        .route("/api/sectors", get(sectors_api))
        .route("/api/deadlines", get(deadlines_api))
        .route("/api/deals", get(deals_api))
        .route("/api/proofs", get(proofs_api))
        .route("/api/proofs/{index}/file", get(proof_file))
        .route("/api/log", get(log_api))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/actions/pledge", post(pledge))
        .with_state(c)
        .merge(strata_web::assets::router())
        .layer(axum::middleware::from_fn(
            strata_web::assets::security_headers,
        ))
}

/// A page or API failure: 503 with the reason (the chain or database is unreachable).
fn unavailable(e: String) -> Response {
    tracing::warn!(%e, "console page unavailable");
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": e }))).into_response()
}

fn page<T: serde::Serialize>(
    r: Result<T, String>,
    render: impl FnOnce(&T, &Value) -> String,
) -> Response {
    match r {
        Ok(d) => {
            let v = serde_json::to_value(&d).expect("page data serialises");
            html(render(&d, &v))
        }
        Err(e) => unavailable(e),
    }
}

fn api<T: serde::Serialize>(r: Result<T, String>) -> Response {
    match r {
        Ok(d) => Json(d).into_response(),
        Err(e) => unavailable(e),
    }
}

/// Query of the sectors page.
#[derive(Debug, Default, Deserialize)]
pub struct SectorsQuery {
    page: Option<u64>,
    per: Option<u64>,
    step: Option<String>,
}

impl SectorsQuery {
    fn paging(&self) -> PageQuery {
        PageQuery {
            page: self.page,
            per: self.per,
        }
    }

    fn step(&self) -> Option<Step> {
        let s = self.step.as_deref()?;
        Step::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

/// Query of the log page.
#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    page: Option<u64>,
    per: Option<u64>,
    kind: Option<String>,
}

impl LogQuery {
    /// The kind filter, if it is a plausible kind name (lowercase letters and `_`).
    fn kind(&self) -> Option<String> {
        self.kind.clone().filter(|k| {
            !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
    }
}

/// Notices the overview shows after an action (a fixed set: a link cannot inject text).
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    pledged: Option<u64>,
    signed_in: Option<u8>,
    refused: Option<String>,
}

async fn overview_page(State(c): C, q: Query<NoticeQuery>, headers: HeaderMap) -> Response {
    let notice = match (&q.pledged, &q.signed_in, &q.refused) {
        (Some(n), _, _) => Some(format!(
            "Sector {n} queued as committed capacity: the pipeline seals it."
        )),
        (_, Some(_), _) => Some("Signed in: actions are enabled in this browser.".to_string()),
        (_, _, Some(r)) => Some(match r.as_str() {
            "token" => "Sign-in refused: wrong token.".to_string(),
            _ => "Action refused: sign in again and retry.".to_string(),
        }),
        _ => None,
    };
    let csrf = c.auth.csrf(&headers);
    page(
        data::overview(&c.p, &c.rewards, c.auth.enabled()).await,
        |o, v| pages::overview(o, v, csrf.as_deref(), notice.as_deref()),
    )
}

async fn overview_api(State(c): C) -> Response {
    api(data::overview(&c.p, &c.rewards, c.auth.enabled()).await)
}

async fn sectors_page(State(c): C, Query(q): Query<SectorsQuery>) -> Response {
    page(
        data::sectors(&c.p, q.paging(), q.step()).await,
        pages::sectors,
    )
}

async fn sectors_api(State(c): C, Query(q): Query<SectorsQuery>) -> Response {
    api(data::sectors(&c.p, q.paging(), q.step()).await)
}

async fn deadlines_page(State(c): C) -> Response {
    page(data::deadlines(&c.p).await, pages::deadlines)
}

async fn deadlines_api(State(c): C) -> Response {
    api(data::deadlines(&c.p).await)
}

async fn deals_page(State(c): C, Query(q): Query<PageQuery>) -> Response {
    page(data::deals(&c.p, q).await, pages::deals)
}

async fn deals_api(State(c): C, Query(q): Query<PageQuery>) -> Response {
    api(data::deals(&c.p, q).await)
}

async fn proofs_page(State(c): C, Query(q): Query<PageQuery>) -> Response {
    page(data::proofs(&c.p, q).await, pages::proofs)
}

async fn proofs_api(State(c): C, Query(q): Query<PageQuery>) -> Response {
    api(data::proofs(&c.p, q).await)
}

/// `GET /api/proofs/{index}/file`: the proof file of the miner's `index`-th accepted proof, as
/// `strata verify` reads it (public inputs as the chain derived them).
async fn proof_file(State(c): C, AxPath(index): AxPath<usize>) -> Response {
    let all = match c.p.chain.proofs(c.p.miner()).await {
        Ok(a) => a,
        Err(e) => return unavailable(format!("chain: {e}")),
    };
    let Some(r) = all.get(index) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("m{} has {} proofs; there is no proof {index}", c.p.miner(), all.len()) })),
        )
            .into_response();
    };
    let body = serde_json::to_vec_pretty(&r.file).expect("proof files serialise");
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"m{}-proof-{index}.json\"",
                    c.p.miner()
                ),
            ),
        ],
        body,
    )
        .into_response()
}

async fn log_page(State(c): C, Query(q): Query<LogQuery>) -> Response {
    page(
        data::log(
            &c.p,
            PageQuery {
                page: q.page,
                per: q.per,
            },
            q.kind(),
        ),
        pages::log,
    )
}

async fn log_api(State(c): C, Query(q): Query<LogQuery>) -> Response {
    api(data::log(
        &c.p,
        PageQuery {
            page: q.page,
            per: q.per,
        },
        q.kind(),
    ))
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
}

async fn login(State(c): C, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    match c.auth.login(&headers, &f.token) {
        Ok(cookie) => (
            [(header::SET_COOKIE, cookie)],
            Redirect::to("/?signed_in=1"),
        )
            .into_response(),
        Err(AuthError::Unauthorized) => Redirect::to("/?refused=token").into_response(),
        Err(e) => refused(e),
    }
}

/// An action form: the session's CSRF token.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
}

async fn logout(State(c): C, headers: HeaderMap, Form(f): Form<ActionForm>) -> Response {
    if let Err(e) = c.auth.authorize(&headers, f.csrf.as_deref()) {
        return refused(e);
    }
    (
        [(header::SET_COOKIE, c.auth.logout(&headers))],
        Redirect::to("/"),
    )
        .into_response()
}

fn refused(e: AuthError) -> Response {
    let code = match e {
        AuthError::Disabled | AuthError::CrossSite(_) | AuthError::Csrf => StatusCode::FORBIDDEN,
        AuthError::Unauthorized => StatusCode::UNAUTHORIZED,
        AuthError::Random(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::warn!(%e, "console action refused");
    (code, Json(json!({ "error": e.to_string() }))).into_response()
}

/// `POST /actions/pledge`: queues one committed-capacity sector (as `strata miner pledge`).
/// A browser is redirected to the overview; a script gets `{"sector": N}`.
async fn pledge(State(c): C, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let f: ActionForm = action_form(&body);
    let actor = match c.auth.authorize(&headers, f.csrf.as_deref()) {
        Ok(a) => a,
        Err(e) => return refused(e),
    };
    let r = (|| {
        let n = c.p.db.next_sector_number()?;
        c.p.db.new_sector(n, &[])?;
        Ok::<u64, crate::db::DbError>(n)
    })();
    match r {
        Ok(n) => {
            let head = c.p.chain.head().await.map(|h| h.epoch).unwrap_or(0);
            let _ = c.p.db.log(
                head,
                "console_pledge",
                &format!(
                    "sector {n} pledged as committed capacity from the web console ({actor:?})"
                ),
            );
            tracing::info!(sector = n, "pledged from the console");
            match actor {
                strata_web::auth::Actor::Bearer => Json(json!({ "sector": n })).into_response(),
                strata_web::auth::Actor::Session => {
                    Redirect::to(&format!("/?pledged={n}")).into_response()
                }
            }
        }
        Err(e) => unavailable(format!("database: {e}")),
    }
}

/// The form fields of an `application/x-www-form-urlencoded` body (an empty or malformed body
/// has no fields: a bearer request needs none).
fn action_form(body: &[u8]) -> ActionForm {
    let mut f = ActionForm::default();
    for pair in body.split(|b| *b == b'&') {
        if let Some(v) = pair.strip_prefix(b"csrf=") {
            f.csrf = std::str::from_utf8(v).ok().map(str::to_string);
        }
    }
    f
}
