//! Liveness, readiness and Prometheus metrics (no auth: for load balancers and scrapers).

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use tapearr_core::jobs::model::JobStatus;
use tapearr_core::time::Timestamp;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
    pub database: Option<String>,
    pub storage: Option<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        database: None,
        storage: None,
    })
}

/// The database answers and the data dir is writable.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let checks = state.system.readiness().await;
    let word = |ok: bool| if ok { "ok" } else { "unavailable" }.to_string();
    let ready = checks.database && checks.data_dir;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if ready { "ready" } else { "not_ready" }.into(),
            database: Some(word(checks.database)),
            storage: Some(word(checks.data_dir)),
        }),
    )
}

/// Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let m = &state.metrics;
    let mut out = String::new();
    let uptime = Timestamp::now()
        .millis()
        .saturating_sub(state.started_at.millis())
        / 1000;
    let _ = writeln!(
        out,
        "# HELP tapearr_uptime_seconds Seconds since start.\n# TYPE tapearr_uptime_seconds gauge\ntapearr_uptime_seconds {uptime}"
    );
    for (name, help, value) in [
        (
            "tapearr_http_requests_total",
            "HTTP requests served.",
            m.requests.load(Ordering::Relaxed),
        ),
        (
            "tapearr_http_server_errors_total",
            "HTTP responses with a 5xx status.",
            m.server_errors.load(Ordering::Relaxed),
        ),
        (
            "tapearr_auth_failures_total",
            "Requests refused for missing or bad credentials.",
            m.auth_failures.load(Ordering::Relaxed),
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP tapearr_jobs Jobs by status.\n# TYPE tapearr_jobs gauge"
    );
    // Every status is listed, zero included, so a series never disappears.
    let counts = state.queue.counts_by_status().await.unwrap_or_default();
    for status in [JobStatus::Queued, JobStatus::Running, JobStatus::Failed] {
        let n = counts
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "tapearr_jobs{{status=\"{}\"}} {n}", status.as_str());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
