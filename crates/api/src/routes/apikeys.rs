//! API keys: create (shown once), list, revoke.

use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tapearr_core::auth::model::ApiKey;

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateApiKey {
    pub name: String,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// The key itself. It is shown this once; only its hash is stored.
    pub secret: String,
}

/// All keys, newest first (revoked ones included, marked).
#[utoipa::path(get, path = "/api/v1/apikeys", tag = "apikeys",
    responses((status = 200, body = Vec<ApiKey>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<ApiKey>>> {
    Ok(Json(state.auth.list_api_keys().await?))
}

/// Create a key.
#[utoipa::path(post, path = "/api/v1/apikeys", tag = "apikeys", request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let (key, secret) = state.auth.create_api_key(&req.name).await?;
    Ok((StatusCode::CREATED, Json(CreatedApiKey { key, secret })))
}

/// Revoke a key; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/apikeys/{id}", tag = "apikeys",
    params(("id" = String, Path, description = "key id")),
    responses((status = 200, body = ApiKey), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ApiKey>> {
    Ok(Json(state.auth.revoke_api_key(&id).await?))
}
