//! Twitch: status, the optional user account, and the EventSub webhook.

use crate::error::{ApiJson, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tapearr_core::streams::eventsub::{EventSubHeaders, SubscriptionSummary};
use tapearr_core::streams::{SignInStatus, TwitchAccount};

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct TwitchStatus {
    /// `twitch.client_id` and `twitch.client_secret` are set.
    pub configured: bool,
    /// `public_url` is set: EventSub webhooks run beside polling.
    pub eventsub: bool,
    pub poll_secs: u64,
    pub account: Option<TwitchAccount>,
}

#[utoipa::path(get, path = "/api/v1/twitch", tag = "twitch",
    responses((status = 200, body = TwitchStatus), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn status(State(state): State<AppState>) -> ApiResult<Json<TwitchStatus>> {
    Ok(Json(TwitchStatus {
        configured: state.streams.twitch_configured(),
        eventsub: state.streams.eventsub_enabled(),
        poll_secs: state.settings.current().twitch.poll_secs,
        account: state.streams.account().await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ConnectAccount {
    /// A Twitch user access token (kept encrypted; never shown again).
    pub token: String,
}

/// Connect a Twitch account by pasting its token; it is validated with Twitch first. A pasted
/// token is not renewed (sign in with Twitch for that); the twitch.tv web player's token is the
/// one that gives ad-free playback.
#[utoipa::path(put, path = "/api/v1/twitch/account", tag = "twitch", request_body = ConnectAccount,
    responses((status = 200, body = TwitchAccount), (status = 400, body = ErrorBody), (status = 502, body = ErrorBody), (status = 409, body = ErrorBody, description = "Twitch is not configured"), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn connect_account(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ConnectAccount>,
) -> ApiResult<Json<TwitchAccount>> {
    Ok(Json(state.streams.connect_account(&req.token).await?))
}

/// Sign out: the tokens are forgotten, and one issued to this application is revoked at Twitch.
#[utoipa::path(delete, path = "/api/v1/twitch/account", tag = "twitch",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn disconnect_account(State(state): State<AppState>) -> ApiResult<StatusCode> {
    state.streams.disconnect_account().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start "Sign in with Twitch" (device code): answers the code to enter at the verification
/// URL; Tapearr then waits for the user in the background (see the GET).
#[utoipa::path(post, path = "/api/v1/twitch/account/device", tag = "twitch",
    responses((status = 200, body = SignInStatus), (status = 502, body = ErrorBody), (status = 409, body = ErrorBody, description = "Twitch is not configured (no client id)"), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn start_sign_in(State(state): State<AppState>) -> ApiResult<Json<SignInStatus>> {
    Ok(Json(state.streams.start_sign_in().await?))
}

/// Where "Sign in with Twitch" is: pending, signed in, expired, denied or failed.
#[utoipa::path(get, path = "/api/v1/twitch/account/device", tag = "twitch",
    responses((status = 200, body = SignInStatus), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn sign_in_status(State(state): State<AppState>) -> Json<SignInStatus> {
    Json(state.streams.sign_in_status())
}

/// Stop waiting for the sign-in (the code then expires at Twitch unused).
#[utoipa::path(delete, path = "/api/v1/twitch/account/device", tag = "twitch",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn cancel_sign_in(State(state): State<AppState>) -> StatusCode {
    state.streams.cancel_sign_in();
    StatusCode::NO_CONTENT
}

/// Reconcile EventSub subscriptions with the watched channels now.
#[utoipa::path(post, path = "/api/v1/twitch/eventsub/reconcile", tag = "twitch",
    responses((status = 200, body = SubscriptionSummary), (status = 502, body = ErrorBody), (status = 409, body = ErrorBody, description = "Twitch is not configured"), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn reconcile(State(state): State<AppState>) -> ApiResult<Json<SubscriptionSummary>> {
    Ok(Json(state.streams.reconcile_subscriptions().await?))
}

/// Twitch's EventSub webhook (signed with the subscription secret; no login).
#[utoipa::path(post, path = "/api/v1/twitch/eventsub", tag = "twitch",
    request_body(content = String, content_type = "application/json", description = "the raw signed body"),
    responses((status = 200, description = "challenge echoed"), (status = 204, description = "handled or duplicate"),
        (status = 400), (status = 403, description = "bad signature or stale"), (status = 404, description = "EventSub disabled")))]
pub async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let headers = EventSubHeaders::from_header_map(&headers);
    let reply = state.streams.handle_eventsub(&headers, &body).await;
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if reply.body.is_empty() {
        status.into_response()
    } else {
        (status, [(header::CONTENT_TYPE, "text/plain")], reply.body).into_response()
    }
}
