//! Library settings (S6): the global naming template, with validation and a preview.

use crate::error::{ApiJson, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tapearr_core::library::LibraryError;
use tapearr_core::library::naming::{self, NamingValues, RenderedPath};
use tapearr_core::time::Timestamp;

#[derive(Serialize, utoipa::ToSchema)]
pub struct NamingVariable {
    pub name: String,
    pub description: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NamingSettings {
    pub template: String,
    pub default_template: String,
    pub variables: Vec<NamingVariable>,
}

async fn naming_settings(state: &AppState) -> ApiResult<NamingSettings> {
    Ok(NamingSettings {
        template: state.library.naming_template().await?,
        default_template: naming::DEFAULT_TEMPLATE.to_string(),
        variables: naming::VARIABLES
            .iter()
            .map(|(name, description)| NamingVariable {
                name: (*name).to_string(),
                description: (*description).to_string(),
            })
            .collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/library/naming", tag = "library",
    responses((status = 200, body = NamingSettings), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get_naming(State(state): State<AppState>) -> ApiResult<Json<NamingSettings>> {
    Ok(Json(naming_settings(&state).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NamingTemplate {
    pub template: String,
    /// Preview with this channel's login and name (default: an example channel).
    pub channel_id: Option<String>,
}

/// Set the global naming template; recordings already in the library keep their paths.
#[utoipa::path(put, path = "/api/v1/library/naming", tag = "library",
    request_body = NamingTemplate,
    responses((status = 200, body = NamingSettings), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn put_naming(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NamingTemplate>,
) -> ApiResult<Json<NamingSettings>> {
    state.library.set_naming_template(&req.template).await?;
    Ok(Json(naming_settings(&state).await?))
}

/// Where a recording started now would go with this template (nothing is stored).
#[utoipa::path(post, path = "/api/v1/library/naming/preview", tag = "library",
    request_body = NamingTemplate,
    responses((status = 200, body = RenderedPath), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn preview_naming(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NamingTemplate>,
) -> ApiResult<Json<RenderedPath>> {
    naming::validate(&req.template).map_err(|e| LibraryError::Invalid(e.to_string()))?;
    let channel = match req.channel_id.as_deref().filter(|c| !c.is_empty()) {
        Some(id) => Some(
            state
                .store
                .twitch_channel(id)
                .await?
                .ok_or(LibraryError::NotFound)?,
        ),
        None => None,
    };
    let (login, name, title, category) = match &channel {
        Some(c) => (
            c.login.clone(),
            c.display_name.clone(),
            c.title.clone(),
            c.category.clone(),
        ),
        None => (
            "examplechannel".into(),
            "ExampleChannel".into(),
            "Example stream title".into(),
            "Just Chatting".into(),
        ),
    };
    Ok(Json(naming::render(
        &req.template,
        &NamingValues {
            channel: login,
            channel_name: name,
            title,
            category,
            started_at: Timestamp::now(),
            episode: 1,
            recording_id: "example".into(),
        },
    )))
}
