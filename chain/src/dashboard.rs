//! The network dashboard, served by `strata devnet run` at `GET /` beside JSON-RPC (`POST /`):
//! miners and their power, raw against quality-adjusted power, how much of the committed
//! storage holds client data, and per day the block rewards minted against the deal payments
//! clients made and the fees burnt — the question every storage network is judged on: do the
//! rewards buy real, used storage? Its figures are [`NetworkStats`] (also `GET /api/stats`,
//! the `chain_stats` RPC method and `strata chain stats`), so page, JSON and terminal agree.

use crate::node::Chain;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;
use strata_chain_client::stats::{ppm, NetworkStats};
use strata_chain_client::ChainApi;
use strata_web::chart::{chart, Kind, Scale, Series};
use strata_web::format::{bytes, percent_ppm, tokens};
use strata_web::html::{cards, esc, figure, figure_at, keyed_at, section, table, Page, Site};

/// The dashboard's navigation.
pub const SITE: Site = Site {
    name: "Strata network",
    nav: &[("/", "Dashboard"), ("/api/stats", "JSON")],
};

const ATTO: f64 = 1e18;

/// The dashboard page for `s`.
pub fn render(s: &NetworkStats) -> String {
    let v = serde_json::to_value(s).expect("stats serialise");
    let v = &v;
    let n = &s.now;
    let mut figs = vec![
        figure_at(v, "Epoch", "/now/epoch", &n.epoch.to_string()),
        figure("Miners", "", "", &s.miners.len().to_string()),
        figure_at(v, "Raw power", "/now/raw_power", &bytes(n.raw_power)),
        figure_at(
            v,
            "Quality-adjusted power",
            "/now/qa_power",
            &bytes(n.qa_power),
        ),
        figure_at(
            v,
            "Committed storage",
            "/now/committed_bytes",
            &bytes(n.committed_bytes),
        ),
        figure_at(
            v,
            "Client data in it",
            "/now/deal_bytes",
            &bytes(n.deal_bytes),
        ),
        figure(
            "Share holding client data",
            "",
            "",
            &percent_ppm(n.deal_share_ppm()),
        ),
        figure_at(
            v,
            "Verified client data",
            "/now/verified_bytes",
            &bytes(n.verified_bytes),
        ),
        figure(
            "Share verified",
            "",
            "",
            &percent_ppm(n.verified_share_ppm()),
        ),
        figure_at(
            v,
            "Minted (block rewards)",
            "/supply/minted",
            &tokens(s.supply.minted.0),
        ),
        figure_at(
            v,
            "Deal payments",
            "/deal_payments_total",
            &tokens(s.deal_payments_total.0),
        ),
        figure_at(
            v,
            "Burnt (fees, penalties)",
            "/supply/burnt",
            &tokens(s.supply.burnt.0),
        ),
        figure_at(
            v,
            "Block reward now",
            "/epoch_reward",
            &tokens(s.epoch_reward.0),
        ),
    ];
    if let Some(e) = &s.endowment {
        figs.push(figure_at(
            v,
            "Endowment pool",
            "/endowment/pool",
            &tokens(e.pool.0),
        ));
    }
    let ratio = if s.supply.minted.0 == 0 {
        "No block reward minted yet.".to_string()
    } else {
        let r = s.deal_payments_total.0 as f64 / s.supply.minted.0 as f64;
        format!(
            "Clients have paid {r:.4} STR in deals for every 1 STR of block rewards minted: \
             block rewards are {:.2} % of what providers have earned.",
            100.0 / (1.0 + r)
        )
    };
    let x: Vec<String> = s.days.iter().map(|d| format!("day {}", d.day)).collect();
    let money = chart(
        "Per day: block rewards minted, deal payments, fees and penalties burnt (STR)",
        Kind::Bars,
        Scale::Decimal,
        &x,
        &[
            Series {
                name: "minted",
                values: s.days.iter().map(|d| d.minted.0 as f64 / ATTO).collect(),
            },
            Series {
                name: "deal payments",
                values: s
                    .days
                    .iter()
                    .map(|d| d.deal_payments.0 as f64 / ATTO)
                    .collect(),
            },
            Series {
                name: "burnt",
                values: s.days.iter().map(|d| d.burnt.0 as f64 / ATTO).collect(),
            },
        ],
        &|t| {
            format!("{t:.4}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        },
    );
    let power = chart(
        "Power and client data at each day's end",
        Kind::Line,
        Scale::Binary,
        &x,
        &[
            Series {
                name: "raw power",
                values: s.days.iter().map(|d| d.end.raw_power as f64).collect(),
            },
            Series {
                name: "quality-adjusted power",
                values: s.days.iter().map(|d| d.end.qa_power as f64).collect(),
            },
            Series {
                name: "client data",
                values: s.days.iter().map(|d| d.end.deal_bytes as f64).collect(),
            },
            Series {
                name: "verified data",
                values: s.days.iter().map(|d| d.end.verified_bytes as f64).collect(),
            },
        ],
        &|b| bytes(b as u128),
    );
    let share = chart(
        "Share of committed storage holding client data (%)",
        Kind::Line,
        Scale::Decimal,
        &x,
        &[
            Series {
                name: "client data",
                values: s
                    .days
                    .iter()
                    .map(|d| d.end.deal_share_ppm() as f64 / 1e4)
                    .collect(),
            },
            Series {
                name: "verified",
                values: s
                    .days
                    .iter()
                    .map(|d| d.end.verified_share_ppm() as f64 / 1e4)
                    .collect(),
            },
        ],
        &|p| format!("{p:.0} %"),
    );
    let miners: Vec<Vec<String>> = s
        .miners
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let committed = (m.active_sectors + m.faulty_sectors) as u128 * m.sector_size as u128;
            vec![
                format!("m{}", m.id),
                bytes(m.sector_size as u128),
                keyed_at(v, &format!("/miners/{i}/raw_power"), &bytes(m.raw_power)),
                keyed_at(v, &format!("/miners/{i}/qa_power"), &bytes(m.qa_power)),
                keyed_at(
                    v,
                    &format!("/miners/{i}/active_sectors"),
                    &m.active_sectors.to_string(),
                ),
                keyed_at(
                    v,
                    &format!("/miners/{i}/faulty_sectors"),
                    &m.faulty_sectors.to_string(),
                ),
                keyed_at(
                    v,
                    &format!("/miners/{i}/deal_bytes"),
                    &bytes(m.deal_bytes as u128),
                ),
                percent_ppm(ppm(m.deal_bytes as u128, committed)),
                keyed_at(
                    v,
                    &format!("/miners/{i}/blocks_won"),
                    &m.blocks_won.to_string(),
                ),
            ]
        })
        .collect();
    let days: Vec<Vec<String>> = s
        .days
        .iter()
        .enumerate()
        .rev()
        .take(14)
        .map(|(i, d)| {
            vec![
                format!("{} ({}–{})", d.day, d.first_epoch, d.last_epoch),
                keyed_at(v, &format!("/days/{i}/minted"), &tokens(d.minted.0)),
                keyed_at(
                    v,
                    &format!("/days/{i}/deal_payments"),
                    &tokens(d.deal_payments.0),
                ),
                keyed_at(v, &format!("/days/{i}/burnt"), &tokens(d.burnt.0)),
                tokens(d.endowment_payouts.0),
                percent_ppm(d.end.deal_share_ppm()),
            ]
        })
        .collect();
    let beacon: Vec<Vec<String>> = s
        .beacon
        .iter()
        .enumerate()
        .map(|(i, b)| {
            vec![
                b.epoch.to_string(),
                keyed_at(v, &format!("/beacon/{i}/round"), &b.round.to_string()),
                format!("<code>{}</code>", esc(&b.randomness)),
            ]
        })
        .collect();
    let endowment = match &s.endowment {
        Some(e) => section(
            "Permanent storage endowment",
            &cards(&[
                figure_at(v, "Pool", "/endowment/pool", &tokens(e.pool.0)),
                figure_at(v, "Paid out", "/endowment/paid_out", &tokens(e.paid_out.0)),
                figure_at(v, "Pieces", "/endowment/pieces", &e.pieces.to_string()),
                figure_at(
                    v,
                    "Weave",
                    "/endowment/weave_bytes",
                    &bytes(e.weave_bytes as u128),
                ),
                figure_at(
                    v,
                    "Replicas held",
                    "/endowment/replicas_held",
                    &e.replicas_held.to_string(),
                ),
                figure_at(
                    v,
                    "Price multiplier",
                    "/endowment/multiplier",
                    &e.multiplier.to_string(),
                ),
            ]),
        ),
        None => String::new(),
    };
    let body = format!(
        "{}<p class=\"notice\">{}</p>{money}{power}{share}{}{}{endowment}{}",
        cards(&figs),
        esc(&ratio),
        section(
            "Miners",
            &table(
                &[
                    "miner",
                    "sector size",
                    "raw power",
                    "QA power",
                    "active",
                    "faulty",
                    "client data",
                    "share",
                    "blocks won"
                ],
                &miners
            )
        ),
        section(
            "Days (latest first)",
            &table(
                &[
                    "day (epochs)",
                    "minted",
                    "deal payments",
                    "burnt",
                    "endowment payouts",
                    "client-data share"
                ],
                &days
            )
        ),
        section(
            "Beacon: latest rounds",
            &table(&["epoch", "round", "randomness"], &beacon)
        ),
    );
    Page {
        title: &format!("{} network", s.network),
        path: "/",
        api: "/api/stats",
        refresh_secs: 5,
        subtitle: &format!(
            "{} epochs per day · every figure from the chain's own state and blocks",
            s.epochs_per_day
        ),
    }
    .render(&SITE, &body)
}

fn unavailable(e: strata_chain_client::ChainError) -> Response {
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "error": e.message })),
    )
        .into_response()
}

async fn stats(chain: Arc<Chain>) -> Result<NetworkStats, strata_chain_client::ChainError> {
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(chain.stats())
    })
    .await
    .map_err(|e| strata_chain_client::ChainError::internal(format!("stats panicked: {e}")))?
}

/// `GET /`: the dashboard.
pub async fn page(State(chain): State<Arc<Chain>>) -> Response {
    match stats(chain).await {
        Ok(s) => strata_web::assets::html(render(&s)),
        Err(e) => unavailable(e),
    }
}

/// `GET /api/stats`: the dashboard's figures.
pub async fn api(State(chain): State<Arc<Chain>>) -> Response {
    match stats(chain).await {
        Ok(s) => Json(s).into_response(),
        Err(e) => unavailable(e),
    }
}
