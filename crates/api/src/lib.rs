//! Tapearr's HTTP API (C10): REST under `/api/v1`, one error shape, OpenAPI from the code.
//!
//! Handlers are thin: parse, authorize (middleware), call one service, map the result.

pub mod auth;
pub mod error;
mod openapi;
mod ranged;
mod request_log;
pub mod routes;
pub mod security;
pub mod state;
pub mod web;

pub use state::AppState;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use routes::*;
use state::Metrics;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body the API accepts.
const BODY_LIMIT: usize = 1024 * 1024;

/// The whole HTTP surface, with `state` applied. `base_path` (e.g. `/tapearr`) nests it for
/// reverse proxies.
pub fn router(state: AppState) -> Router {
    let (app, mut api_doc) = api_router(state.clone()).split_for_parts();
    unique_operation_ids(&mut api_doc);
    let doc = std::sync::Arc::new(api_doc);
    let app = app
        .route(
            "/api/v1/openapi.json",
            get({
                let doc = doc.clone();
                move || async move { axum::Json((*doc).clone()) }
            }),
        )
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs")
                .url("/api/v1/docs/openapi.json", (*doc).clone()),
        )
        .route("/metrics", get(health::metrics))
        .fallback(web::fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(compression())
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_log::make_span))
        .with_state(state.clone());
    let base = state.config.base_path.clone();
    let security = middleware::from_fn_with_state(base.clone(), security::headers);
    if base.is_empty() {
        app.layer(security)
    } else {
        // Behind a proxy that forwards the root too, `/` leads to the app. `nest` leaves
        // `{base}/` itself unmatched: it is the app's start page.
        let to_app = format!("{base}/");
        let start = to_app.clone();
        Router::new()
            .route(
                "/",
                get(move || async move { axum::response::Redirect::temporary(&to_app) }),
            )
            .route(
                &start,
                get(move |headers: axum::http::HeaderMap| async move {
                    web::serve(&base, "/", &headers)
                }),
            )
            .nest(&state.config.base_path, app)
            .layer(security)
    }
}

/// The documented routes, wrapped in their guards: public ones, login behind the setup gate,
/// and the rest behind the setup gate and authentication.
pub fn api_router(state: AppState) -> OpenApiRouter<AppState> {
    let Routes {
        public,
        login,
        protected,
    } = routes();
    let login = login.route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::require_setup,
    ));
    // Layers run outside-in: the setup gate first, then authentication.
    let protected = protected
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_auth,
        ))
        .route_layer(middleware::from_fn_with_state(state, auth::require_setup));
    OpenApiRouter::with_openapi(openapi::base())
        .merge(public)
        .merge(login)
        .merge(protected)
}

/// The OpenAPI document, without a running server (for `tapearr openapi` and the web client).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let Routes {
        public,
        login,
        protected,
    } = routes();
    let mut doc = OpenApiRouter::<AppState>::with_openapi(openapi::base())
        .merge(public)
        .merge(login)
        .merge(protected)
        .split_for_parts()
        .1;
    unique_operation_ids(&mut doc);
    doc
}

/// utoipa names an operation after its handler (`list`, `status` …), which repeats across
/// modules; OpenAPI wants them unique (generated clients key on them). Prefix each with its tag.
fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.options,
            &mut item.head,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            let tag = op.tags.as_ref().and_then(|t| t.first()).cloned();
            if let (Some(tag), Some(id)) = (tag, op.operation_id.as_mut()) {
                *id = format!("{tag}_{id}");
            }
        }
    }
}

struct Routes {
    public: OpenApiRouter<AppState>,
    login: OpenApiRouter<AppState>,
    protected: OpenApiRouter<AppState>,
}

fn routes() -> Routes {
    Routes {
        public: OpenApiRouter::new()
            .routes(routes!(health::healthz))
            .routes(routes!(health::readyz))
            .routes(routes!(setup::status, setup::create_admin))
            .routes(routes!(twitch::webhook))
            // Radarr/Sonarr webhooks: the secret in the path is the credential.
            .routes(routes!(trailers::arr_webhook))
            // Share links: the token in the path is the credential.
            .routes(routes!(recordings::shared))
            // Watch live: the token in the path is the credential.
            .routes(routes!(watch::playlist))
            .routes(routes!(watch::h264_playlist))
            .routes(routes!(watch::segment)),
        login: OpenApiRouter::new().routes(routes!(session::login)),
        protected: OpenApiRouter::new()
            .routes(routes!(session::logout))
            .routes(routes!(session::me))
            .routes(routes!(account::change_password))
            .routes(routes!(account::sessions))
            .routes(routes!(account::end_session))
            .routes(routes!(account::sign_out_everywhere))
            .routes(routes!(import::trailarr))
            .routes(routes!(import::streamvault))
            .routes(routes!(apikeys::list, apikeys::create))
            .routes(routes!(apikeys::revoke))
            .routes(routes!(jobs::list, jobs::enqueue))
            .routes(routes!(jobs::get))
            .routes(routes!(jobs::cancel))
            .routes(routes!(jobs::retry))
            .routes(routes!(tasks::list))
            .routes(routes!(tasks::update))
            .routes(routes!(tasks::run_now))
            .routes(routes!(events::list))
            .routes(routes!(ws::connect))
            .routes(routes!(logs::list))
            .routes(routes!(system::status))
            .routes(routes!(system::tools))
            .routes(routes!(system::update_tools))
            .routes(routes!(notifications::event_types))
            .routes(routes!(notifications::list, notifications::create))
            .routes(routes!(
                notifications::get,
                notifications::update,
                notifications::delete
            ))
            .routes(routes!(notifications::test))
            .routes(routes!(notifications::messages))
            .routes(routes!(notifications::webpush_info))
            .routes(routes!(notifications::webpush_subscribe))
            .routes(routes!(notifications::webpush_unsubscribe))
            .routes(routes!(media_servers::list, media_servers::create))
            .routes(routes!(media_servers::update, media_servers::delete))
            .routes(routes!(media_servers::test))
            .routes(routes!(media_servers::refresh))
            .routes(routes!(plex::start))
            .routes(routes!(plex::status))
            .routes(routes!(channels::list, channels::create))
            .routes(routes!(channels::get, channels::update, channels::delete))
            .routes(routes!(channels::import_followed))
            .routes(routes!(channels::record))
            .routes(routes!(channels::streams))
            .routes(routes!(archive::get_settings, archive::put_settings))
            .routes(routes!(archive::run))
            .routes(routes!(archive::items))
            .routes(routes!(archive::retry_vod))
            .routes(routes!(watch::watch))
            .routes(routes!(recordings::list))
            .routes(routes!(
                recordings::get,
                recordings::update,
                recordings::delete
            ))
            .routes(routes!(recordings::stop))
            .routes(routes!(recordings::finalize))
            .routes(routes!(recordings::video))
            .routes(routes!(recordings::thumbnail))
            .routes(routes!(recordings::chapters_vtt))
            .routes(routes!(recordings::chat))
            .routes(routes!(recordings::share))
            .routes(routes!(recordings::recording_shares))
            .routes(routes!(recordings::list_shares))
            .routes(routes!(recordings::revoke_share))
            .routes(routes!(recordings::bulk_delete))
            .routes(routes!(library::get_naming, library::put_naming))
            .routes(routes!(library::preview_naming))
            .routes(routes!(retention::get_policy, retention::put_policy))
            .routes(routes!(retention::preview))
            .routes(routes!(retention::run))
            .routes(routes!(retention::get_channel, retention::put_channel))
            .routes(routes!(
                trailers::list_connections,
                trailers::create_connection
            ))
            .routes(routes!(
                trailers::get_connection,
                trailers::update_connection,
                trailers::delete_connection
            ))
            .routes(routes!(trailers::test_input))
            .routes(routes!(trailers::test_connection))
            .routes(routes!(trailers::root_folders))
            .routes(routes!(trailers::sync_connection))
            .routes(routes!(trailers::connection_webhook))
            .routes(routes!(trailers::list_profiles, trailers::create_profile))
            .routes(routes!(trailers::update_profile, trailers::delete_profile))
            .routes(routes!(trailers::list_media))
            .routes(routes!(trailers::get_media, trailers::patch_media))
            .routes(routes!(trailers::poster))
            .routes(routes!(trailers::fanart))
            .routes(routes!(trailers::candidates))
            .routes(routes!(trailers::download))
            .routes(routes!(trailers::delete_trailer))
            .routes(routes!(trailers::trailer_video))
            .routes(routes!(trailers::bulk))
            .routes(routes!(trailers::preview))
            .routes(routes!(trailers::paused_hosts))
            .routes(routes!(trailers::run))
            .routes(routes!(trailers::scan))
            .routes(routes!(settings::get, settings::patch))
            .routes(routes!(settings::folders))
            .routes(routes!(settings::put_cookies, settings::delete_cookies))
            .routes(routes!(settings::test_twitch))
            .routes(routes!(settings::finish_wizard))
            .routes(routes!(twitch::status))
            .routes(routes!(twitch::connect_account, twitch::disconnect_account))
            .routes(routes!(
                twitch::start_sign_in,
                twitch::sign_in_status,
                twitch::cancel_sign_in
            ))
            .routes(routes!(twitch::reconcile)),
    }
}

/// gzip for text (the web app's bundle shrinks about 3×); never for media, which is streamed
/// with Range requests, nor for what is already compressed.
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::new("video/"))
        .and(NotForContentType::new("audio/"))
        .and(NotForContentType::new("application/octet-stream"));
    tower_http::compression::CompressionLayer::new().compress_when(predicate)
}

async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    Metrics::inc(&state.metrics.requests);
    let response = next.run(req).await.into_response();
    if response.status().is_server_error() {
        Metrics::inc(&state.metrics.server_errors);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn operation_ids_are_unique() {
        let doc = super::openapi_document();
        let mut seen = std::collections::HashSet::new();
        for item in doc.paths.paths.values() {
            for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
            {
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(seen.insert(id.clone()), "duplicate operationId {id}");
            }
        }
    }
}
