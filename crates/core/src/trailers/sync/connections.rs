//! Radarr/Sonarr/Plex connections (T1): validated input, sealed API keys, test and root folders.

use crate::ids::new_id;
use crate::mediaserver::PlexSignInError;
use crate::notify::model::MASK;
use crate::secret::Secret;
use crate::time::Timestamp;
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::{ArrPathMapping, Connection, ConnectionKind};
use crate::trailers::service::Trailers;
use crate::trailers::sync::mapping::to_local;
use crate::trailers::sync::source::LibrarySource;
use serde::{Deserialize, Serialize};

/// What a client sends to add or replace a connection.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ConnectionInput {
    pub name: String,
    pub kind: ConnectionKind,
    pub url: String,
    /// Send `***` to keep the stored key; leave it out with `plex_pin_id`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub api_key: Secret,
    /// Plex only: a finished PIN sign-in (`POST /api/v1/plex/pins`) whose account token is
    /// the key, instead of `api_key`; `url` must be one of the account's server addresses.
    #[serde(default)]
    pub plex_pin_id: Option<u64>,
    #[serde(default)]
    pub path_mappings: Vec<ArrPathMapping>,
    #[serde(default = "yes")]
    pub monitor_new: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// The answer of a connection test.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConnectionTest {
    pub app_name: String,
    pub version: String,
}

/// A root folder of the Arr, with where Tapearr sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RootFolderView {
    /// As the Arr reports it.
    pub path: String,
    /// After the connection's path mappings.
    pub local_path: String,
    /// Inside one of Tapearr's library roots (trailers can only be placed there).
    pub in_library: bool,
    /// Tapearr can list it right now.
    pub readable: bool,
    pub free_space: Option<i64>,
}

fn validate(input: &ConnectionInput, keep_key: bool) -> TrailerResult<()> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(TrailerError::Invalid(
            "name must be 1 to 100 characters".into(),
        ));
    }
    let url = url::Url::parse(input.url.trim())
        .map_err(|_| TrailerError::Invalid("url must be an http(s) URL".into()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(TrailerError::Invalid("url must be an http(s) URL".into()));
    }
    if !keep_key && input.api_key.expose().trim().is_empty() {
        return Err(TrailerError::Invalid("api_key is required".into()));
    }
    for m in &input.path_mappings {
        if m.remote.trim().is_empty() {
            return Err(TrailerError::Invalid(
                "a path mapping needs the Arr's path".into(),
            ));
        }
        if !m.local.starts_with('/') {
            return Err(TrailerError::Invalid(format!(
                "path mapping target `{}` must be an absolute path",
                m.local
            )));
        }
    }
    Ok(())
}

impl Trailers {
    pub async fn connections(&self) -> TrailerResult<Vec<Connection>> {
        Ok(self.store().arr_connections().await?)
    }

    pub async fn connection(&self, id: &str) -> TrailerResult<Connection> {
        self.store()
            .arr_connection(id)
            .await?
            .ok_or(TrailerError::NotFound("connection"))
    }

    /// Adds a connection after a successful test (an unreachable Arr is refused with why).
    pub async fn create_connection(&self, input: ConnectionInput) -> TrailerResult<Connection> {
        let input = self.take_pin_token(input)?;
        self.test_input(&input).await?;
        let now = Timestamp::now();
        let conn = Connection {
            id: new_id(),
            name: input.name.trim().to_string(),
            kind: input.kind,
            url: input.url.trim().trim_end_matches('/').to_string(),
            api_key: Secret::new(self.inner.secrets.seal(input.api_key.expose().trim())),
            path_mappings: input.path_mappings,
            monitor_new: input.monitor_new,
            enabled: input.enabled,
            last_sync_at: None,
            last_sync_error: None,
            last_sync_items: None,
            created_at: now,
            updated_at: now,
        };
        self.store().insert_arr_connection(&conn).await?;
        Ok(conn)
    }

    pub async fn update_connection(
        &self,
        id: &str,
        input: ConnectionInput,
    ) -> TrailerResult<Connection> {
        let mut conn = self.connection(id).await?;
        let input = self.take_pin_token(input)?;
        let keep_key = input.api_key.expose() == MASK;
        validate(&input, keep_key)?;
        if input.kind != conn.kind {
            return Err(TrailerError::Invalid(
                "kind cannot change; add a new connection instead".into(),
            ));
        }
        // The stored key goes only to the host it was entered for.
        if keep_key && !tapearr_integrations::http::same_host(&conn.url, &input.url) {
            return Err(TrailerError::Invalid(
                "enter the API key again when the URL's host changes".into(),
            ));
        }
        let key = if keep_key {
            self.api_key(&conn)?
        } else {
            input.api_key.expose().trim().to_string()
        };
        self.probe(&input, &key).await?;
        if !keep_key {
            conn.api_key = Secret::new(self.inner.secrets.seal(input.api_key.expose().trim()));
        }
        conn.name = input.name.trim().to_string();
        conn.url = input.url.trim().trim_end_matches('/').to_string();
        conn.path_mappings = input.path_mappings;
        conn.monitor_new = input.monitor_new;
        conn.enabled = input.enabled;
        conn.updated_at = Timestamp::now();
        self.store().update_arr_connection(&conn).await?;
        Ok(conn)
    }

    /// Removes the connection with its media and their records; trailer files stay on disk.
    pub async fn delete_connection(&self, id: &str) -> TrailerResult<()> {
        self.store()
            .delete_arr_connection(id)
            .await
            .map_err(|e| not_found(e.into()))?;
        // A connection made again later under the same id never answers the old secret.
        self.forget_webhook(id).await
    }

    /// Tests unsaved input (it carries its own key, or a Plex sign-in's).
    pub async fn test_input(&self, input: &ConnectionInput) -> TrailerResult<ConnectionTest> {
        let input = self.take_pin_token(input.clone())?;
        validate(&input, false)?;
        self.probe(&input, input.api_key.expose().trim()).await
    }

    /// With `plex_pin_id`, the key is that Plex sign-in's account token (for Plex only, and
    /// only for an address of one of the account's servers).
    fn take_pin_token(&self, mut input: ConnectionInput) -> TrailerResult<ConnectionInput> {
        let Some(pin) = input.plex_pin_id.take() else {
            return Ok(input);
        };
        if input.kind != ConnectionKind::Plex {
            return Err(TrailerError::Invalid(
                "plex_pin_id is for Plex connections only".into(),
            ));
        }
        if !input.api_key.expose().trim().is_empty() {
            return Err(TrailerError::Invalid(
                "send either api_key or plex_pin_id, not both".into(),
            ));
        }
        let token = self
            .inner
            .media_servers
            .plex_sign_in()
            .token_for(pin, input.url.trim())
            .map_err(|e| match e {
                PlexSignInError::NotFound => TrailerError::NotFound("Plex sign-in"),
                PlexSignInError::Upstream(m) => TrailerError::Upstream(m),
                PlexSignInError::Storage(s) => s.into(),
                other => TrailerError::Invalid(other.to_string()),
            })?;
        input.api_key = Secret::new(token);
        Ok(input)
    }

    /// Asks the server at the input's URL, with `key`, who it is.
    async fn probe(&self, input: &ConnectionInput, key: &str) -> TrailerResult<ConnectionTest> {
        LibrarySource::new(
            self.inner.library_http.clone(),
            input.kind,
            input.url.trim(),
            key,
        )?
        .test()
        .await
    }

    pub async fn test_connection(&self, id: &str) -> TrailerResult<ConnectionTest> {
        let conn = self.connection(id).await?;
        self.client(&conn)?.test().await
    }

    pub async fn root_folders(&self, id: &str) -> TrailerResult<Vec<RootFolderView>> {
        let conn = self.connection(id).await?;
        let folders = self.client(&conn)?.root_folders().await?;
        let mut out = Vec::with_capacity(folders.len());
        for f in folders {
            let local_path = to_local(&f.path, &conn.path_mappings);
            let in_library = self.roots().is_some_and(|r| r.resolve(&local_path).is_ok());
            let readable = tokio::fs::read_dir(&local_path).await.is_ok();
            out.push(RootFolderView {
                path: f.path,
                local_path,
                in_library,
                readable,
                free_space: f.free_space,
            });
        }
        Ok(out)
    }

    fn api_key(&self, conn: &Connection) -> TrailerResult<String> {
        self.inner
            .secrets
            .open_sealed(conn.api_key.expose())
            .map_err(|_| {
                TrailerError::Invalid(format!(
                    "the API key of `{}` cannot be read (was the data folder's key replaced?); enter it again",
                    conn.name
                ))
            })
    }

    pub(super) fn client(&self, conn: &Connection) -> TrailerResult<LibrarySource> {
        let key = self.api_key(conn)?;
        LibrarySource::new(self.inner.library_http.clone(), conn.kind, &conn.url, &key)
    }
}

fn not_found(e: TrailerError) -> TrailerError {
    match e {
        TrailerError::NotFound(_) => TrailerError::NotFound("connection"),
        other => other,
    }
}
