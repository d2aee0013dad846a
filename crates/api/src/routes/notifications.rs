//! Notification channels (secrets write-only), the test button and the outbox.

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, Code, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tapearr_core::notify::model::{
    Channel, MessageQuery, MessageRecord, MessageStatus, PushSubscription,
};
use tapearr_core::notify::{ChannelInput, NotifyError, format};

impl From<NotifyError> for ApiError {
    fn from(e: NotifyError) -> Self {
        match e {
            NotifyError::Invalid(m) => ApiError::invalid(m),
            NotifyError::NotFound => ApiError::not_found("channel"),
            NotifyError::TestFailed(m) => {
                ApiError::new(Code::UpstreamFailed, format!("test message failed: {m}"))
            }
            NotifyError::Storage(s) => s.into(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventTypeInfo {
    #[serde(rename = "type")]
    pub event_type: String,
    pub description: String,
}

/// The event types a channel can subscribe to.
#[utoipa::path(get, path = "/api/v1/notifications/event-types", tag = "notifications",
    responses((status = 200, body = Vec<EventTypeInfo>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn event_types() -> Json<Vec<EventTypeInfo>> {
    Json(
        format::EVENT_TYPES
            .iter()
            .map(|(t, d)| EventTypeInfo {
                event_type: t.to_string(),
                description: d.to_string(),
            })
            .collect(),
    )
}

/// Channels, secrets masked as `***`.
#[utoipa::path(get, path = "/api/v1/notifications/channels", tag = "notifications",
    responses((status = 200, body = Vec<Channel>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Channel>>> {
    Ok(Json(
        state
            .notifier
            .list()
            .await?
            .iter()
            .map(Channel::masked)
            .collect(),
    ))
}

/// Add a channel.
#[utoipa::path(post, path = "/api/v1/notifications/channels", tag = "notifications", request_body = ChannelInput,
    responses((status = 201, body = Channel), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ChannelInput>,
) -> Result<(StatusCode, Json<Channel>), ApiError> {
    let channel = state.notifier.create(input).await?;
    Ok((StatusCode::CREATED, Json(channel.masked())))
}

/// One channel, secrets masked.
#[utoipa::path(get, path = "/api/v1/notifications/channels/{id}", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = Channel), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Channel>> {
    Ok(Json(state.notifier.get(&id).await?.masked()))
}

/// Replace a channel's settings; send secrets back as `***` to keep them.
#[utoipa::path(put, path = "/api/v1/notifications/channels/{id}", tag = "notifications", params(("id" = String, Path)),
    request_body = ChannelInput,
    responses((status = 200, body = Channel), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ChannelInput>,
) -> ApiResult<Json<Channel>> {
    Ok(Json(state.notifier.update(&id, input).await?.masked()))
}

/// Remove a channel and its undelivered messages.
#[utoipa::path(delete, path = "/api/v1/notifications/channels/{id}", tag = "notifications", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.notifier.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TestResult {
    pub sent: bool,
}

/// Send a test message now; a failure answers 502 with the service's reason.
#[utoipa::path(post, path = "/api/v1/notifications/channels/{id}/test", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = TestResult), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn test(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TestResult>> {
    state.notifier.test(&id).await?;
    Ok(Json(TestResult { sent: true }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageParams {
    pub channel_id: Option<String>,
    pub status: Option<MessageStatus>,
    /// 1–500, default 50.
    pub limit: Option<u32>,
}

/// The outbox, newest first: what was sent, what waits, what failed and why.
#[utoipa::path(get, path = "/api/v1/notifications/messages", tag = "notifications", params(MessageParams),
    responses((status = 200, body = Vec<MessageRecord>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn messages(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<MessageParams>,
) -> ApiResult<Json<Vec<MessageRecord>>> {
    let query = MessageQuery {
        channel_id: p.channel_id,
        status: p.status,
        limit: p.limit.unwrap_or(50).clamp(1, 500),
    };
    Ok(Json(state.notifier.messages(&query).await?))
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebPushInfo {
    /// base64url VAPID public key: the `applicationServerKey` for `pushManager.subscribe`.
    pub public_key: String,
    /// Browsers subscribed now.
    pub subscriptions: usize,
}

/// What a browser needs to subscribe to Web Push.
#[utoipa::path(get, path = "/api/v1/notifications/webpush", tag = "notifications",
    responses((status = 200, body = WebPushInfo), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn webpush_info(State(state): State<AppState>) -> ApiResult<Json<WebPushInfo>> {
    let (public_key, subscriptions) = state.notifier.web_push_info().await?;
    Ok(Json(WebPushInfo {
        public_key,
        subscriptions,
    }))
}

/// Register this browser's push subscription (`PushSubscription.toJSON()`).
#[utoipa::path(post, path = "/api/v1/notifications/webpush/subscriptions", tag = "notifications",
    request_body = PushSubscription,
    responses((status = 201), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn webpush_subscribe(
    State(state): State<AppState>,
    ApiJson(sub): ApiJson<PushSubscription>,
) -> ApiResult<StatusCode> {
    state.notifier.subscribe(&sub).await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Unsubscribe {
    pub endpoint: String,
}

/// Forget a browser's push subscription.
#[utoipa::path(post, path = "/api/v1/notifications/webpush/unsubscribe", tag = "notifications",
    request_body = Unsubscribe,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn webpush_unsubscribe(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<Unsubscribe>,
) -> ApiResult<StatusCode> {
    state.notifier.unsubscribe(&req.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}
