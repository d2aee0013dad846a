//! Settings → Import (C17): switching from Trailarr, a dry run unless asked otherwise.

use crate::error::{ApiError, ApiJson, ApiResult, Code, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use std::path::Path;
use tapearr_core::import::{ImportError, ImportReport};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TrailarrImportRequest {
    /// Trailarr's database file, or its config folder, as this server sees it.
    pub from: String,
    /// Only say what would be imported (the default).
    #[serde(default = "yes")]
    pub dry_run: bool,
}

fn yes() -> bool {
    true
}

/// Import a Trailarr database (only read): connections, path mappings, profiles, monitor flags,
/// trailer ids and history. `dry_run` (the default) writes nothing; a second run changes nothing.
#[utoipa::path(post, path = "/api/v1/import/trailarr", tag = "import",
    request_body = TrailarrImportRequest,
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn trailarr(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TrailarrImportRequest>,
) -> ApiResult<Json<ImportReport>> {
    let from = req.from.trim();
    if from.is_empty() || from.len() > 4096 || from.contains('\0') {
        return Err(ApiError::new(
            Code::InvalidRequest,
            "from: a path to Trailarr's database",
        ));
    }
    let imports = state
        .imports
        .as_ref()
        .ok_or_else(|| ApiError::new(Code::Unavailable, "import is not available here"))?;
    Ok(Json(imports.trailarr(Path::new(from), req.dry_run).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamvaultImportRequest {
    /// StreamVault's PostgreSQL URL (`postgres://user:password@host/db`). Write-only: it may
    /// hold a password, so it is never stored, echoed or logged.
    pub from: String,
    /// StreamVault's recordings folder as this server sees it (in a library root). Without it,
    /// recordings are listed as skipped.
    #[serde(default)]
    pub recordings: Option<String>,
    /// Only say what would be imported (the default).
    #[serde(default = "yes")]
    pub dry_run: bool,
}

/// Import a StreamVault database (only read): streamers as channels with their cleanup policy,
/// finished recordings (pointing at the files where they are), Apprise URLs as notification
/// channels. `dry_run` (the default) writes nothing; a second run changes nothing.
#[utoipa::path(post, path = "/api/v1/import/streamvault", tag = "import",
    request_body = StreamvaultImportRequest,
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn streamvault(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<StreamvaultImportRequest>,
) -> ApiResult<Json<ImportReport>> {
    let from = req.from.trim();
    if from.is_empty() || from.len() > 4096 || from.contains('\0') {
        return Err(ApiError::new(
            Code::InvalidRequest,
            "from: a postgres:// URL to StreamVault's database",
        ));
    }
    let recordings = match req.recordings.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) if p.len() > 4096 || p.contains('\0') || !Path::new(p).is_absolute() => {
            return Err(ApiError::new(
                Code::InvalidRequest,
                "recordings: an absolute path to StreamVault's recordings folder",
            ));
        }
        Some(p) => Some(Path::new(p)),
    };
    let imports = state
        .imports
        .as_ref()
        .ok_or_else(|| ApiError::new(Code::Unavailable, "import is not available here"))?;
    Ok(Json(
        imports.streamvault(from, recordings, req.dry_run).await?,
    ))
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Storage(s) => s.into(),
            other => ApiError::new(Code::InvalidRequest, other.to_string()),
        }
    }
}
