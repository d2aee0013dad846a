//! One error shape for the whole API: `{code, message}` with a stable snake_case code.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tapearr_core::auth::AuthError;
use tapearr_core::jobs::QueueError;
use tapearr_core::jobs::scheduler::TaskError;
use tapearr_core::storage::StorageError;

/// Every stable error code the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    SetupRequired,
    AlreadySetUp,
    Unauthorized,
    InvalidCredentials,
    LockedOut,
    /// Too many password checks at once; retry after `Retry-After` seconds.
    Busy,
    CsrfFailed,
    Forbidden,
    /// A password change whose current password is wrong (nothing changed).
    WrongPassword,
    NotFound,
    InvalidRequest,
    Conflict,
    Internal,
    Unavailable,
    /// Twitch credentials are not configured (409: a setting to fix, not a server fault).
    TwitchNotConfigured,
    /// The channel is not live.
    ChannelOffline,
    /// An outside service failed (Twitch, Radarr/Sonarr, Plex, Jellyfin/Emby, TMDB, a
    /// notification target): 502 with its reason, whatever the service.
    UpstreamFailed,
}

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::SetupRequired | Code::AlreadySetUp | Code::Conflict => StatusCode::CONFLICT,
            Code::Unauthorized | Code::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Code::LockedOut | Code::Busy => StatusCode::TOO_MANY_REQUESTS,
            Code::CsrfFailed | Code::Forbidden | Code::WrongPassword => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::InvalidRequest => StatusCode::BAD_REQUEST,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::ChannelOffline | Code::TwitchNotConfigured => StatusCode::CONFLICT,
            Code::UpstreamFailed => StatusCode::BAD_GATEWAY,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: Code,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// Sent as `Retry-After` (seconds).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidRequest, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} not found"))
    }

    pub fn unauthorized() -> Self {
        Self::new(
            Code::Unauthorized,
            "log in, or send an API key in X-Api-Key or Authorization: Bearer",
        )
    }

    /// A server-side failure: the cause goes to the log, the client gets a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(Code::Internal, "internal error; see the server log")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
        };
        let mut response = (self.code.status(), Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => ApiError::new(Code::NotFound, "not found"),
            StorageError::Conflict(m) => ApiError::new(Code::Conflict, m),
            other => ApiError::internal(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::AlreadySetUp => ApiError::new(Code::AlreadySetUp, e.to_string()),
            AuthError::Invalid(m) => ApiError::invalid(m),
            AuthError::BadCredentials => ApiError::new(Code::InvalidCredentials, e.to_string()),
            AuthError::LockedOut { minutes } => {
                ApiError::new(Code::LockedOut, e.to_string()).retry_after(minutes * 60)
            }
            AuthError::Busy { retry_after } => {
                ApiError::new(Code::Busy, e.to_string()).retry_after(retry_after.as_secs().max(1))
            }
            AuthError::NotFound => ApiError::new(Code::NotFound, "not found"),
            AuthError::WrongCurrentPassword => ApiError::new(Code::WrongPassword, e.to_string()),
            AuthError::Storage(s) => s.into(),
            AuthError::Hashing(h) => ApiError::internal(h),
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::NotFound => ApiError::not_found("job"),
            QueueError::InvalidState(m) => ApiError::new(Code::Conflict, m),
            QueueError::UnknownKind(_) => ApiError::invalid(e.to_string()),
            QueueError::Storage(s) => s.into(),
        }
    }
}

impl From<TaskError> for ApiError {
    fn from(e: TaskError) -> Self {
        match e {
            TaskError::NotFound => ApiError::not_found("task"),
            TaskError::Invalid(m) => ApiError::invalid(m),
            TaskError::AlreadyRunning => ApiError::new(Code::Conflict, e.to_string()),
            TaskError::Queue(q) => q.into(),
            TaskError::Storage(s) => s.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::invalid(e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::invalid(e.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError::invalid(e.body_text())
    }
}

/// `Json` whose rejection is an `ApiError`.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `Query` whose rejection is an `ApiError`.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `Path` whose rejection is an `ApiError`.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the API fuzz run (`make fuzz-api`): `POST /api/v1/twitch/eventsub/reconcile` on a
    /// server without Twitch credentials answered 503. A missing setting is the client's to fix:
    /// 409, like the other "not in a state for this" answers; only real server faults are 5xx.
    #[test]
    fn twitch_not_configured_is_not_a_server_error() {
        assert_eq!(Code::TwitchNotConfigured.status(), StatusCode::CONFLICT);
        let r = ApiError::new(Code::TwitchNotConfigured, "not configured").into_response();
        assert_eq!(r.status(), StatusCode::CONFLICT);
    }

    /// An outside service that fails is one answer, whichever service it is.
    #[test]
    fn every_outside_failure_is_502_upstream_failed() {
        use tapearr_core::mediaserver::MediaServerError;
        use tapearr_core::notify::NotifyError;
        use tapearr_core::trailers::TrailerError;
        for e in [
            ApiError::from(MediaServerError::Unreachable("HTTP 401".into())),
            ApiError::from(NotifyError::TestFailed("HTTP 500".into())),
            ApiError::from(TrailerError::Upstream("Radarr is down".into())),
        ] {
            assert_eq!(e.code, Code::UpstreamFailed, "{}", e.message);
            assert_eq!(e.into_response().status(), StatusCode::BAD_GATEWAY);
        }
    }
}
