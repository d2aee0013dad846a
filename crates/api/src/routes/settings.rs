//! Settings changed in the app, the folder browser for library roots, the YouTube cookies
//! upload and the first-run wizard's state.

use crate::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use tapearr_core::settings::{CookiesInfo, FolderListing, SettingView, SettingsError};

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Storage(s) => s.into(),
            SettingsError::Io(m) => ApiError::internal(m),
            refused => ApiError::invalid(refused.to_string()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettingsPage {
    pub settings: Vec<SettingView>,
    /// The uploaded YouTube cookies; `None` when there are none.
    pub cookies: Option<CookiesInfo>,
    /// The first-run wizard was finished or skipped.
    pub wizard_done: bool,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettingsPatch {
    /// Setting key → new value; `null` clears it (back to the default).
    #[schema(value_type = Object)]
    pub values: BTreeMap<String, Value>,
}

async fn page(state: &AppState, settings: Vec<SettingView>) -> ApiResult<SettingsPage> {
    Ok(SettingsPage {
        settings,
        cookies: state.settings.cookies(),
        wizard_done: state.settings.wizard_done().await?,
    })
}

/// Every setting with its value (secrets: only whether set), source and whether it is
/// read-only here or needs a restart.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings",
    responses((status = 200, body = SettingsPage), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get(State(state): State<AppState>) -> ApiResult<Json<SettingsPage>> {
    let list = state.settings.list();
    Ok(Json(page(&state, list).await?))
}

/// Change settings. Every value is checked first: one bad or read-only value is answered 400
/// naming it, and nothing changes.
#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", request_body = SettingsPatch,
    responses((status = 200, body = SettingsPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SettingsPatch>,
) -> ApiResult<Json<SettingsPage>> {
    let list = state.settings.update(&req.values).await?;
    Ok(Json(page(&state, list).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FoldersQuery {
    /// An absolute folder path; `/` when absent.
    pub path: Option<String>,
}

/// The subfolders of a folder the server can see, with free space and whether the server may
/// write there (for choosing library roots).
#[utoipa::path(get, path = "/api/v1/system/folders", tag = "settings", params(FoldersQuery),
    responses((status = 200, body = FolderListing), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn folders(
    State(state): State<AppState>,
    Query(q): Query<FoldersQuery>,
) -> ApiResult<Json<FolderListing>> {
    let path = q.path.unwrap_or_default();
    let settings = state.settings.clone();
    let listing = tokio::task::spawn_blocking(move || settings.folders(&path))
        .await
        .map_err(ApiError::internal)??;
    Ok(Json(listing))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CookiesUpload {
    /// The text of a Netscape cookies file (as browser extensions export it).
    pub content: String,
}

/// Upload YouTube cookies for trailer downloads: a Netscape cookies file with youtube.com or
/// google.com cookies; kept 0600 in the data dir and used from the next download on.
#[utoipa::path(put, path = "/api/v1/settings/cookies", tag = "settings", request_body = CookiesUpload,
    responses((status = 200, body = CookiesInfo), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn put_cookies(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CookiesUpload>,
) -> ApiResult<Json<CookiesInfo>> {
    Ok(Json(state.settings.upload_cookies(&req.content).await?))
}

/// Remove the uploaded cookies.
#[utoipa::path(delete, path = "/api/v1/settings/cookies", tag = "settings",
    responses((status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn delete_cookies(State(state): State<AppState>) -> ApiResult<StatusCode> {
    if state.settings.delete_cookies().await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("cookies"))
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TwitchCredentialsTest {
    pub client_id: String,
    /// Absent: the secret in use.
    pub client_secret: Option<String>,
}

/// Check Twitch application credentials with Twitch before saving them.
#[utoipa::path(post, path = "/api/v1/settings/twitch/test", tag = "settings", request_body = TwitchCredentialsTest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn test_twitch(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TwitchCredentialsTest>,
) -> ApiResult<StatusCode> {
    state
        .streams
        .test_credentials(&req.client_id, req.client_secret.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark the first-run wizard finished (or skipped): it is not shown again.
#[utoipa::path(post, path = "/api/v1/settings/wizard", tag = "settings",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn finish_wizard(State(state): State<AppState>) -> ApiResult<StatusCode> {
    state.settings.finish_wizard().await?;
    Ok(StatusCode::NO_CONTENT)
}
