//! Retention (S7): the global policy, per-channel overrides, the dry run and a run now.

use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tapearr_core::library::LibraryError;
use tapearr_core::library::retention::{
    ChannelRetention, RetentionPlan, RetentionPolicy, RetentionRun,
};

/// The global retention policy (every channel's default).
#[utoipa::path(get, path = "/api/v1/retention", tag = "retention",
    responses((status = 200, body = RetentionPolicy), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get_policy(State(state): State<AppState>) -> ApiResult<Json<RetentionPolicy>> {
    Ok(Json(state.library.retention_policy().await?))
}

/// Replace the global policy. An invalid one is refused (`400`) and nothing is stored.
#[utoipa::path(put, path = "/api/v1/retention", tag = "retention", request_body = RetentionPolicy,
    responses((status = 200, body = RetentionPolicy), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn put_policy(
    State(state): State<AppState>,
    ApiJson(policy): ApiJson<RetentionPolicy>,
) -> ApiResult<Json<RetentionPolicy>> {
    Ok(Json(state.library.set_retention_policy(policy).await?))
}

/// The dry run: exactly what `POST /api/v1/retention/run` would delete now, with reasons, and
/// what a keep rule protects. Changes nothing.
#[utoipa::path(get, path = "/api/v1/retention/preview", tag = "retention",
    responses((status = 200, body = RetentionPlan), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn preview(State(state): State<AppState>) -> ApiResult<Json<RetentionPlan>> {
    Ok(Json(state.library.retention_preview().await?))
}

/// Apply retention now (the periodic `retention` task does the same every 10 minutes).
#[utoipa::path(post, path = "/api/v1/retention/run", tag = "retention",
    responses((status = 200, body = RetentionRun), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn run(State(state): State<AppState>) -> ApiResult<Json<RetentionRun>> {
    Ok(Json(state.library.apply_retention().await?))
}

/// A channel's override and the policy its recordings get.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelRetentionView {
    pub channel_id: String,
    /// `null`: the channel follows the global policy.
    pub policy: Option<ChannelRetention>,
    /// The global policy with the override applied.
    pub effective: RetentionPolicy,
}

async fn channel_view(
    state: &AppState,
    channel_id: String,
    policy: Option<ChannelRetention>,
) -> ApiResult<ChannelRetentionView> {
    let effective = state
        .library
        .retention_policy()
        .await?
        .merged(policy.as_ref());
    Ok(ChannelRetentionView {
        channel_id,
        policy,
        effective,
    })
}

fn channel_error(e: LibraryError) -> ApiError {
    match e {
        LibraryError::NotFound => ApiError::not_found("channel"),
        other => other.into(),
    }
}

#[utoipa::path(get, path = "/api/v1/channels/{id}/retention", tag = "retention",
    params(("id" = String, Path)),
    responses((status = 200, body = ChannelRetentionView), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get_channel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ChannelRetentionView>> {
    let policy = state
        .library
        .channel_retention(&id)
        .await
        .map_err(channel_error)?;
    Ok(Json(channel_view(&state, id, policy).await?))
}

/// Set the channel's override: fields sent replace the global ones, fields left out are
/// inherited, `null` on a limit removes it for this channel. A body of `null` clears the
/// override.
#[utoipa::path(put, path = "/api/v1/channels/{id}/retention", tag = "retention",
    params(("id" = String, Path)),
    request_body(content = Option<ChannelRetention>, description = "the override, or null to clear it"),
    responses((status = 200, body = ChannelRetentionView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn put_channel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(policy): ApiJson<Option<ChannelRetention>>,
) -> ApiResult<Json<ChannelRetentionView>> {
    let policy = state
        .library
        .set_channel_retention(&id, policy)
        .await
        .map_err(channel_error)?;
    Ok(Json(channel_view(&state, id, policy).await?))
}
