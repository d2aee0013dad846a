//! The WebSocket: replay from a cursor, then live events (and, when asked, log lines).
//!
//! Envelope: `{type, data, timestamp, id}` (+ `subject`). `id` is the replay cursor; live-only
//! messages (progress ticks, log lines) have `id: null`.
//!
//! A socket lives no longer than the credential that opened it: a logout, a password reset or
//! a key revocation closes it at once (close code 1008), and it is re-checked every
//! [`RECHECK`] for what ends a session without an event (expiry, the absolute lifetime, a
//! change made by another process).

use crate::error::{ApiError, ApiQuery, Code};
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tapearr_core::auth::{Principal, Revocation};
use tapearr_core::events::model::{EventQuery, EventRecord};
use tapearr_core::logs::LogEntry;
use tokio::sync::broadcast::error::RecvError;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsParams {
    /// Replay every event after this id before going live.
    pub since: Option<i64>,
    /// Also stream log lines at this level or above (error, warn, info, debug).
    pub logs: Option<String>,
}

const REPLAY_PAGE: u32 = 500;

/// How often an open socket re-checks its session or key.
const RECHECK: Duration = Duration::from_secs(30);

/// Live events over a WebSocket (send cookies, `X-Api-Key` or a Bearer key when upgrading).
#[utoipa::path(get, path = "/api/v1/ws", tag = "events", params(WsParams),
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn connect(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<WsParams>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    check_same_origin(&headers)?;
    let log_level = params
        .logs
        .as_deref()
        .map(|l| {
            l.parse::<tracing::Level>()
                .map_err(|_| ApiError::invalid("logs must be a level"))
        })
        .transpose()?;
    // Subscribed before the upgrade: a logout from here on is seen by the socket.
    let revocations = state.auth.revocations();
    let access = Access {
        principal,
        revocations,
    };
    Ok(ws.on_upgrade(move |socket| serve(socket, state, access, params.since, log_level)))
}

/// The credential a socket was opened with, and the news that can end it.
struct Access {
    principal: Principal,
    revocations: tokio::sync::broadcast::Receiver<Revocation>,
}

impl Access {
    /// Resolves when the credential has ended; never while it is valid. The first check runs
    /// at once (a logout between the upgrade's check and the subscription is caught).
    async fn ended(mut self, state: AppState) {
        let mut recheck = tokio::time::interval(RECHECK);
        loop {
            tokio::select! {
                r = self.revocations.recv() => match r {
                    Ok(r) if self.principal.revoked_by(&r) => return,
                    Ok(_) => {}
                    // Missed some: ask the store instead.
                    Err(RecvError::Lagged(_)) => {
                        if !self.valid(&state).await {
                            return;
                        }
                    }
                    Err(RecvError::Closed) => std::future::pending::<()>().await,
                },
                _ = recheck.tick() => {
                    if !self.valid(&state).await {
                        return;
                    }
                }
            }
        }
    }

    /// A store error keeps the socket open (the next check decides).
    async fn valid(&self, state: &AppState) -> bool {
        state
            .auth
            .still_valid(&self.principal)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not re-check a WebSocket's credential");
                true
            })
    }
}

/// Browsers send cookies with a cross-site WebSocket; refuse pages from other origins.
fn check_same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
    if origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Forbidden,
            "WebSocket from another origin",
        ))
    }
}

async fn serve(
    mut socket: WebSocket,
    state: AppState,
    access: Access,
    since: Option<i64>,
    log_level: Option<tracing::Level>,
) {
    // Subscribe before replaying, so nothing falls between the two.
    let mut events = state.events.subscribe();
    let mut logs = log_level.map(|_| state.logs.subscribe());
    let mut cursor = since;
    let ended = access.ended(state.clone());
    tokio::pin!(ended);
    if cursor.is_some() && replay(&mut socket, &state, &mut cursor).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(e) => {
                    if e.id.is_some() && e.id <= cursor && cursor.is_some() {
                        continue; // already sent by the replay
                    }
                    if send_event(&mut socket, &e).await.is_err() {
                        return;
                    }
                    if e.id.is_some() {
                        cursor = e.id;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Too slow for the live stream: catch up from the history instead.
                    if cursor.is_none() {
                        cursor = Some(0);
                    }
                    if replay(&mut socket, &state, &mut cursor).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            line = recv_log(&mut logs) => {
                if let Some(line) = line
                    && log_level.is_some_and(|min| line.is_at_least(min))
                    && send_log(&mut socket, &line).await.is_err()
                {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = &mut ended => {
                let _ = socket
                    .send(Message::Close(Some(CloseFrame {
                        code: close_code::POLICY,
                        reason: "logged out or key revoked".into(),
                    })))
                    .await;
                return;
            }
            _ = state.shutdown.cancelled() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }
}

async fn recv_log(
    logs: &mut Option<tokio::sync::broadcast::Receiver<Arc<LogEntry>>>,
) -> Option<Arc<LogEntry>> {
    match logs {
        Some(rx) => loop {
            match rx.recv().await {
                Ok(line) => return Some(line),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return std::future::pending().await,
            }
        },
        None => std::future::pending().await,
    }
}

async fn replay(
    socket: &mut WebSocket,
    state: &AppState,
    cursor: &mut Option<i64>,
) -> Result<(), ()> {
    loop {
        let page = state
            .events
            .history(&EventQuery {
                since: *cursor,
                limit: REPLAY_PAGE,
                ..EventQuery::default()
            })
            .await
            .map_err(|e| tracing::warn!(error = %e, "event replay failed"))?;
        let n = page.len();
        for e in page {
            send_event(socket, &e).await?;
            *cursor = e.id;
        }
        if n < REPLAY_PAGE as usize {
            return Ok(());
        }
    }
}

async fn send_event(socket: &mut WebSocket, e: &EventRecord) -> Result<(), ()> {
    let text = serde_json::to_string(e).map_err(|_| ())?;
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| ())
}

async fn send_log(socket: &mut WebSocket, line: &LogEntry) -> Result<(), ()> {
    let text = serde_json::json!({
        "type": "log",
        "id": null,
        "subject": null,
        "timestamp": line.timestamp,
        "data": line,
    })
    .to_string();
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cross_origin_upgrades_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("nas:7070"));
        assert!(check_same_origin(&h).is_ok());
        h.insert(header::ORIGIN, HeaderValue::from_static("http://nas:7070"));
        assert!(check_same_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(check_same_origin(&h).is_err());
    }
}
