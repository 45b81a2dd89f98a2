//! The console's HTML, one function per page, rendered from the same structs the JSON API
//! returns ([`super::data`]). Every figure carries its JSON pointer and raw value
//! ([`strata_web::html::figure`]) so a browser test can check the page against the API.

use super::data::{Deadlines, Deals, Log, Overview, Proofs, Sectors};
use crate::db::Step;
use serde_json::Value;
use strata_web::format::{bytes, tokens};
use strata_web::html::{badge, cards, esc, figure_at, keyed_at, link, section, table, Page, Site};

/// The console's navigation.
pub const SITE: Site = Site {
    name: "Strata provider",
    nav: &[
        ("/", "Overview"),
        ("/sectors", "Sectors"),
        ("/deadlines", "Deadlines"),
        ("/deals", "Deals"),
        ("/proofs", "Proofs"),
        ("/log", "Decision log"),
    ],
};

/// Seconds between page refreshes.
pub const REFRESH_SECS: u32 = 4;

/// The raw text of the value at `key` in `v` (strings unquoted), as `data-value` carries it.
pub fn step_badge(s: Step) -> String {
    let class = match s {
        Step::Active => "ok",
        Step::Failed => "bad",
        Step::Removed => "idle",
        _ => "warn",
    };
    badge(class, s.as_str())
}

/// Wraps `body` in the frame.
pub fn frame(title: &str, path: &str, api: &str, subtitle: &str, body: &str) -> String {
    Page {
        title,
        path,
        api,
        refresh_secs: REFRESH_SECS,
        subtitle,
    }
    .render(&SITE, body)
}

/// The actions box: sign-in form, or the pledge button with the session's CSRF token.
fn actions(enabled: bool, csrf: Option<&str>, notice: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(n) = notice {
        out.push_str(&format!("<p class=\"notice\" id=\"notice\">{}</p>", esc(n)));
    }
    if !enabled {
        out.push_str(
            "<p class=\"notice\">Actions are disabled: this console is read-only until \
             <code>console_token</code> is set in the provider's config.toml.</p>",
        );
    } else if let Some(c) = csrf {
        out.push_str(&format!(
            "<form class=\"inline\" method=\"post\" action=\"/actions/pledge\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{c}\">\
             <button id=\"pledge\" type=\"submit\">Pledge a committed-capacity sector</button></form> \
             <form class=\"inline\" method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{c}\">\
             <button id=\"logout\" type=\"submit\">Sign out</button></form>",
            c = esc(c)
        ));
    } else {
        out.push_str(
            "<form class=\"inline\" method=\"post\" action=\"/login\">\
             <label for=\"token\">Console token</label>\
             <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\">\
             <button id=\"login\" type=\"submit\">Sign in to act</button></form>",
        );
    }
    section("Actions", &out)
}

/// `/`.
pub fn overview(o: &Overview, v: &Value, csrf: Option<&str>, notice: Option<&str>) -> String {
    let b = &o.balances;
    let fee_debt = if b.fee_debt.is_zero() {
        tokens(0)
    } else {
        format!("{} owed", tokens(b.fee_debt.0))
    };
    let figures = cards(&[
        figure_at(v, "Head epoch", "/head", &o.head.to_string()),
        figure_at(
            v,
            "Available",
            "/balances/available",
            &tokens(b.available.0),
        ),
        figure_at(
            v,
            "Pre-commit deposits",
            "/balances/precommit_deposits",
            &tokens(b.precommit_deposits.0),
        ),
        figure_at(
            v,
            "Locked pledge",
            "/balances/locked_pledge",
            &tokens(b.locked_pledge.0),
        ),
        figure_at(
            v,
            "Deal collateral",
            "/balances/escrow_locked",
            &tokens(b.escrow_locked.0),
        ),
        figure_at(
            v,
            "Collateral at stake",
            "/collateral",
            &tokens(o.collateral.0),
        ),
        figure_at(
            v,
            "Vesting rewards",
            "/balances/vesting",
            &tokens(b.vesting.0),
        ),
        figure_at(v, "Fee debt", "/balances/fee_debt", &fee_debt),
        figure_at(v, "Raw power", "/raw_power", &bytes(o.raw_power)),
        figure_at(v, "Quality-adjusted power", "/qa_power", &bytes(o.qa_power)),
        figure_at(
            v,
            "Active sectors",
            "/chain_sectors/active",
            &o.chain_sectors.active.to_string(),
        ),
        figure_at(
            v,
            "Faulty sectors",
            "/chain_sectors/faulty",
            &o.chain_sectors.faulty.to_string(),
        ),
        figure_at(v, "Blocks won", "/blocks_won", &o.blocks_won.to_string()),
        figure_at(v, "Rewards won", "/rewards_won", &tokens(o.rewards_won.0)),
        figure_at(
            v,
            "Permanent replicas held",
            "/permanent/replicas_held",
            &o.permanent.replicas_held.to_string(),
        ),
        figure_at(
            v,
            "Permanent data held",
            "/permanent/bytes_held",
            &bytes(o.permanent.bytes_held as u128),
        ),
        figure_at(
            v,
            "Upfront permanent income",
            "/permanent/upfront_income",
            &tokens(o.permanent.upfront_income.0),
        ),
        figure_at(
            v,
            "Endowment payouts",
            "/permanent/endowment_income",
            &tokens(o.permanent.endowment_income.0),
        ),
    ]);
    let pipeline: Vec<Vec<String>> = o
        .pipeline
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vec![
                link(
                    &format!("/sectors?step={}", s.step.as_str()),
                    s.step.as_str(),
                ),
                keyed_at(v, &format!("/pipeline/{i}/count"), &s.count.to_string()),
            ]
        })
        .collect();
    let next: Vec<Vec<String>> = o
        .next_deadlines
        .iter()
        .enumerate()
        .map(|(i, d)| {
            vec![
                d.index.to_string(),
                keyed_at(v, &format!("/next_deadlines/{i}/open"), &d.open.to_string()),
                d.close.to_string(),
                keyed_at(
                    v,
                    &format!("/next_deadlines/{i}/sectors"),
                    &d.sectors.to_string(),
                ),
            ]
        })
        .collect();
    let budgets: Vec<Vec<String>> = o
        .budgets
        .iter()
        .map(|b| {
            vec![
                esc(b.op),
                format!("{:.1} s", b.budget_ms as f64 / 1000.0),
                b.measured_ms.map_or("not measured yet".into(), |m| {
                    format!("{:.1} s", m as f64 / 1000.0)
                }),
                if b.tight {
                    badge("bad", "tight")
                } else {
                    badge("ok", "comfortable")
                },
            ]
        })
        .collect();
    let role = if o.leader {
        "leading (signs messages)"
    } else {
        "standby"
    };
    frame(
        &format!("m{}", o.miner),
        "/",
        "/api/overview",
        &format!("Storage provider m{} · this daemon is {role}", o.miner),
        &format!(
            "{figures}{}{}{}{}",
            section(
                "Sectors by pipeline step",
                &table(&["step", "sectors"], &pipeline)
            ),
            section(
                "Next deadlines",
                &table(&["deadline", "window opens", "closes", "sectors"], &next)
            ),
            section(
                "Proving budgets",
                &table(&["proof", "time available", "slowest recent", ""], &budgets)
            ),
            actions(o.actions_enabled, csrf, notice)
        ),
    )
}

/// `/sectors`.
pub fn sectors(s: &Sectors, v: &Value) -> String {
    let mut filters = vec![link("/sectors", "all")];
    for (i, c) in s.counts.iter().enumerate() {
        filters.push(format!(
            "{} ({})",
            link(
                &format!("/sectors?step={}", c.step.as_str()),
                c.step.as_str()
            ),
            keyed_at(v, &format!("/counts/{i}/count"), &c.count.to_string())
        ));
    }
    let rows: Vec<Vec<String>> = s
        .sectors
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let (status, place, life) = match &x.chain {
                Some(c) => (
                    esc(&format!("{:?}", c.status).to_lowercase()),
                    match (c.deadline, c.partition) {
                        (Some(d), Some(p)) => format!("{d} / {p}"),
                        _ => "—".into(),
                    },
                    format!(
                        "{} → {}",
                        c.activation.map_or("—".into(), |a| a.to_string()),
                        c.expiration
                    ),
                ),
                None => ("not on chain".into(), "—".into(), "—".into()),
            };
            let error = match &x.error {
                Some(e) => format!(
                    "<span class=\"error\">{}</span><br>attempt {}, retry at epoch {}",
                    esc(e),
                    x.attempts,
                    x.retry_at
                ),
                None => String::new(),
            };
            vec![
                keyed_at(v, &format!("/sectors/{i}/number"), &x.number.to_string()),
                step_badge(x.step),
                esc(&x
                    .deals
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")),
                status,
                place,
                life,
                error,
            ]
        })
        .collect();
    let path = match s.step {
        Some(st) => format!("/sectors?step={}&", st.as_str()),
        None => "/sectors?".into(),
    };
    let pager = s.paging.links("/sectors").replace("/sectors?", &esc(&path));
    frame(
        "Sectors",
        "/sectors",
        &format!(
            "/api/sectors?page={}&per={}{}",
            s.paging.page,
            s.paging.per,
            s.step.map_or(String::new(), |st| format!("&step={}", st.as_str()))
        ),
        "Each sector's pipeline step, its last error and next retry, where the chain proves it, and its deals",
        &format!(
            "<p>{}</p>{pager}{}{pager}",
            filters.join(" · "),
            table(
                &["sector", "step", "deals", "on chain", "deadline / partition", "active → expires", "last error"],
                &rows
            )
        ),
    )
}

/// `/deadlines`.
pub fn deadlines(d: &Deadlines, v: &Value) -> String {
    let mut slots = String::new();
    for (i, x) in d.deadlines.iter().enumerate() {
        let class = if x.current {
            "open"
        } else if x.missed > 0 || x.faulty > 0 {
            "bad"
        } else if x.skipped > 0 {
            "warn"
        } else if x.partitions > 0 {
            "ok"
        } else {
            ""
        };
        let last = x.recent.first().map_or(String::new(), |r| {
            format!("<br>last: {} at {}", esc(&r.kind), r.epoch)
        });
        slots.push_str(&format!(
            "<div class=\"slot {class}\"><b>deadline {}</b>{}<br>window {}–{}<br>\
             {} sectors, {} faulty<br>partitions proven {}/{}<br>posts {} · skipped {} · missed {}{last}</div>",
            x.index,
            if x.current { " (open now)" } else { "" },
            x.open,
            x.close,
            keyed_at(v, &format!("/deadlines/{i}/sectors"), &x.sectors.to_string()),
            keyed_at(v, &format!("/deadlines/{i}/faulty"), &x.faulty.to_string()),
            x.proven,
            x.partitions,
            keyed_at(v, &format!("/deadlines/{i}/posts"), &x.posts.to_string()),
            keyed_at(v, &format!("/deadlines/{i}/skipped"), &x.skipped.to_string()),
            keyed_at(v, &format!("/deadlines/{i}/missed"), &x.missed.to_string()),
        ));
    }
    let recent: Vec<Vec<String>> = d
        .deadlines
        .iter()
        .flat_map(|x| x.recent.iter())
        .map(|r| {
            vec![
                r.epoch.to_string(),
                esc(&r.kind),
                r.deadline.map_or(String::new(), |d| d.to_string()),
                r.partition.map_or(String::new(), |p| p.to_string()),
                esc(&r.detail),
            ]
        })
        .collect();
    frame(
        "Deadline timeline",
        "/deadlines",
        "/api/deadlines",
        &format!("Head epoch {}: each deadline's window, partitions proven, and this provider's posts, skipped sectors and missed windows", d.head),
        &format!(
            "<div class=\"timeline\">{slots}</div>{}",
            section(
                "Latest proving decisions per deadline",
                &table(&["epoch", "decision", "deadline", "partition", "detail"], &recent)
            )
        ),
    )
}

/// `/deals`.
pub fn deals(d: &Deals, v: &Value) -> String {
    let rows: Vec<Vec<String>> = d
        .deals
        .iter()
        .enumerate()
        .map(|(i, x)| {
            vec![
                keyed_at(v, &format!("/deals/{i}/id"), &x.id.to_string()),
                format!("<code>{}</code>", esc(&x.client)),
                format!(
                    "<code>{}…</code> {}",
                    esc(&x.piece_cid[..16.min(x.piece_cid.len())]),
                    bytes(x.piece_size as u128)
                ),
                tokens(x.price_per_epoch.0),
                format!("{} → {}", x.start_epoch, x.end_epoch),
                x.sector.map_or("not packed".into(), |s| s.to_string()),
                match x.status {
                    Some(s) => esc(&format!("{s:?}").to_lowercase()),
                    None => "unknown to chain".into(),
                } + if x.verified { " · verified" } else { "" },
                keyed_at(v, &format!("/deals/{i}/paid"), &tokens(x.paid.0)),
            ]
        })
        .collect();
    frame(
        "Deals",
        "/deals",
        &format!("/api/deals?page={}&per={}", d.paging.page, d.paging.per),
        "Deals taken in: client, piece, price, and what the client has paid so far",
        &format!(
            "{}{}<p>Paid on this page: {}</p>",
            d.paging.links("/deals"),
            table(
                &[
                    "deal",
                    "client",
                    "piece",
                    "price / epoch",
                    "start → end",
                    "sector",
                    "status",
                    "paid so far"
                ],
                &rows
            ),
            keyed_at(v, "/paid_on_page", &tokens(d.paid_on_page.0))
        ),
    )
}

/// `/proofs`.
pub fn proofs(p: &Proofs, v: &Value) -> String {
    let rows: Vec<Vec<String>> = p
        .proofs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            vec![
                keyed_at(v, &format!("/proofs/{i}/epoch"), &x.epoch.to_string()),
                esc(&x.what),
                link(&x.download, "proof file"),
            ]
        })
        .collect();
    frame(
        "Proofs",
        "/proofs",
        &format!("/api/proofs?page={}&per={}", p.paging.page, p.paging.per),
        "Every proof the chain accepted from this miner, with the public inputs the chain derived",
        &format!(
            "<p>Download a proof file and check it offline: <code>strata verify FILE</code> \
             (it needs only the verifying keys).</p>{}{}",
            p.paging.links("/proofs"),
            table(&["epoch", "what", "download"], &rows)
        ),
    )
}

/// `/log`.
pub fn log(l: &Log, v: &Value) -> String {
    let kinds = [
        "post",
        "post_skipped",
        "post_missed",
        "post_not_submitted",
        "post_refused",
        "deal_accepted",
        "precommit_batch",
        "provecommit_aggregate",
        "budget_tight",
        "console_pledge",
    ];
    let mut filters = vec![link("/log", "all")];
    filters.extend(kinds.iter().map(|k| link(&format!("/log?kind={k}"), k)));
    let rows: Vec<Vec<String>> = l
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                keyed_at(v, &format!("/rows/{i}/epoch"), &r.epoch.to_string()),
                esc(&r.kind),
                match (r.deadline, r.partition) {
                    (Some(d), Some(p)) => format!("{d} / {p}"),
                    (Some(d), None) => d.to_string(),
                    _ => String::new(),
                },
                esc(&r.detail),
            ]
        })
        .collect();
    let path = match &l.kind {
        Some(k) => format!("/log?kind={k}&"),
        None => "/log?".into(),
    };
    let pager = l.paging.links("/log").replace("/log?", &esc(&path));
    frame(
        "Decision log",
        "/log",
        &format!(
            "/api/log?page={}&per={}{}",
            l.paging.page,
            l.paging.per,
            l.kind
                .as_ref()
                .map_or(String::new(), |k| format!("&kind={k}"))
        ),
        "What the scheduler and the pipeline decided, and why, newest first",
        &format!(
            "<p>{}</p>{pager}{}{pager}",
            filters.join(" · "),
            table(
                &["epoch", "decision", "deadline / partition", "detail"],
                &rows
            )
        ),
    )
}
