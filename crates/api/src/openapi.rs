//! The OpenAPI document's frame: info, tags and security schemes. Paths come from the handlers.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tapearr API",
        description = "Lists take `limit` (1–500, default 50) and `offset`, answer `{items, total, limit, offset}`, \
                       sort with `order=asc|desc` and filter by field name. Errors are `{code, message}`.",
    ),
    modifiers(&Security),
    // `SortOrder` is referenced by list parameters (`order`), which utoipa does not collect on
    // its own. Events and job kinds are named here too: the web app's types are generated from
    // them (the WebSocket is not a documented body).
    components(schemas(
        tapearr_core::storage::SortOrder,
        tapearr_core::events::DomainEvent,
        tapearr_core::events::model::EventRecord,
        tapearr_core::jobs::JobKind,
    )),
    tags(
        (name = "auth", description = "Setup, login and sessions"),
        (name = "apikeys", description = "API keys"),
        (name = "jobs", description = "The job queue"),
        (name = "tasks", description = "Periodic tasks"),
        (name = "events", description = "Event history and the WebSocket"),
        (name = "logs", description = "Recent log lines"),
        (name = "system", description = "Health, status and tools"),
        (name = "settings", description = "Settings changed in the app, the folder browser, YouTube cookies and the first-run wizard"),
        (name = "notifications", description = "Notification channels and the outbox"),
        (name = "media-servers", description = "Plex, Jellyfin and Emby rescans"),
        (name = "trailers", description = "Radarr/Sonarr connections, trailer profiles, media and trailers"),
        (name = "import", description = "Switching from Trailarr and StreamVault (a dry run by default)"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("tapearr_session"))),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
