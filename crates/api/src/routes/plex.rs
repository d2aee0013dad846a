//! Plex sign-in by PIN: start one, then poll it until the account's servers are listed. The
//! account token stays on the server; a connection takes it with `plex_pin_id`.

use crate::error::{ApiError, ApiPath, ApiResult, Code, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tapearr_core::mediaserver::PlexSignInError;
use tapearr_core::mediaserver::plex_signin::{PlexPin, PlexPinStatus};

impl From<PlexSignInError> for ApiError {
    fn from(e: PlexSignInError) -> Self {
        match e {
            PlexSignInError::NotFound => ApiError::not_found("Plex sign-in"),
            PlexSignInError::Expired | PlexSignInError::NotSignedIn => {
                ApiError::invalid(e.to_string())
            }
            PlexSignInError::Invalid(m) => ApiError::invalid(m),
            PlexSignInError::Upstream(m) => ApiError::new(Code::UpstreamFailed, m),
            PlexSignInError::Storage(s) => s.into(),
        }
    }
}

/// Start a Plex sign-in: open `auth_url` in a browser, then poll the pin.
#[utoipa::path(post, path = "/api/v1/plex/pins", tag = "media-servers",
    responses((status = 201, body = PlexPin), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn start(State(state): State<AppState>) -> Result<(StatusCode, Json<PlexPin>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.media_servers.plex_sign_in().start().await?),
    ))
}

/// Where a sign-in stands: `waiting`, or `signed_in` with the account's servers. The token is
/// never part of the answer. An expired pin is `400`, an unknown one `404`.
#[utoipa::path(get, path = "/api/v1/plex/pins/{id}", tag = "media-servers", params(("id" = u64, Path)),
    responses((status = 200, body = PlexPinStatus), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn status(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<Json<PlexPinStatus>> {
    Ok(Json(state.media_servers.plex_sign_in().status(id).await?))
}
