//! Media-server connections and the `mediaserver.refresh` job.

use super::mapping::to_server;
use super::model::{MediaServer, PathMapping, ServerKind};
use super::plex_signin::{PlexSignIn, PlexSignInError, PlexTvUrls};
use crate::crypto::SecretBox;
use crate::ids::new_id;
use crate::jobs::{EnqueueOptions, JobContext, JobError, JobHandler, JobQueue, QueueError};
use crate::notify::model::MASK;
use crate::secret::Secret;
use crate::storage::{Storage, StorageError};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tapearr_integrations::mediaserver::jellyfin::{self, Flavor};
use tapearr_integrations::mediaserver::{ServerError, ServerInfo, plex};

pub const REFRESH_JOB: &str = "mediaserver.refresh";

#[derive(Debug, thiserror::Error)]
pub enum MediaServerError {
    #[error("{0}")]
    Invalid(String),
    #[error("media server not found")]
    NotFound,
    #[error("{0}")]
    Unreachable(String),
    #[error(transparent)]
    SignIn(#[from] PlexSignInError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a client sends to add or replace a connection.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct MediaServerInput {
    pub name: String,
    pub kind: ServerKind,
    pub url: String,
    /// Send `***` to keep the stored token; leave it out with `plex_pin_id`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub token: Secret,
    /// Plex only: a finished PIN sign-in (`POST /api/v1/plex/pins`) whose account token this
    /// connection takes, instead of `token`; `url` must be one of the account's server addresses.
    #[serde(default)]
    pub plex_pin_id: Option<u64>,
    #[serde(default)]
    pub path_mappings: Vec<PathMapping>,
    #[serde(default = "enabled_default")]
    pub enabled: bool,
}

fn enabled_default() -> bool {
    true
}

/// The payload of a `mediaserver.refresh` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshJob {
    pub server_id: String,
    /// The folder as Tapearr sees it (mapped when the job runs, so edited mappings apply).
    pub folder: String,
}

#[derive(Clone)]
pub struct MediaServers {
    store: Arc<dyn Storage>,
    queue: JobQueue,
    http: reqwest::Client,
    secrets: SecretBox,
    plex: PlexSignIn,
}

impl MediaServers {
    /// Calls use the one HTTP policy for secrets ([`tapearr_integrations::http`]); tokens are
    /// sealed with `secrets` in the database.
    pub fn new(
        store: Arc<dyn Storage>,
        queue: JobQueue,
        secrets: SecretBox,
        plex_tv: PlexTvUrls,
    ) -> Result<Self, crate::setup::SetupError> {
        let http = tapearr_integrations::http::secret_client()
            .map_err(crate::setup::SetupError::HttpClient)?;
        Ok(Self {
            plex: PlexSignIn::new(store.clone(), http.clone(), plex_tv, secrets.clone()),
            store,
            queue,
            http,
            secrets,
        })
    }

    /// Plex sign-in by PIN (for media servers and the trailers' Plex source alike).
    pub fn plex_sign_in(&self) -> &PlexSignIn {
        &self.plex
    }

    /// With `plex_pin_id`, the token comes from that sign-in (for a Plex connection only).
    fn take_pin_token(&self, input: &mut MediaServerInput) -> Result<(), MediaServerError> {
        let Some(pin) = input.plex_pin_id else {
            return Ok(());
        };
        if input.kind != ServerKind::Plex {
            return Err(MediaServerError::Invalid(
                "plex_pin_id is for Plex connections only".into(),
            ));
        }
        if !input.token.expose().trim().is_empty() {
            return Err(MediaServerError::Invalid(
                "send either token or plex_pin_id, not both".into(),
            ));
        }
        input.token = Secret::new(self.plex.token_for(pin, &input.url)?);
        Ok(())
    }

    /// The server's token in the clear, to send to that server only.
    fn token(&self, server: &MediaServer) -> Result<String, MediaServerError> {
        self.secrets.reveal(server.token.expose()).map_err(|_| {
            MediaServerError::Invalid(format!(
                "the token of `{}` cannot be read (was the data folder's key replaced?); enter it again",
                server.name
            ))
        })
    }

    pub async fn list(&self) -> Result<Vec<MediaServer>, MediaServerError> {
        Ok(self.store.list_media_servers().await?)
    }

    pub async fn get(&self, id: &str) -> Result<MediaServer, MediaServerError> {
        self.store
            .media_server(id)
            .await?
            .ok_or(MediaServerError::NotFound)
    }

    pub async fn create(
        &self,
        mut input: MediaServerInput,
    ) -> Result<MediaServer, MediaServerError> {
        validate(&input)?;
        self.take_pin_token(&mut input)?;
        let now = Timestamp::now();
        let mut server = from_input(new_id(), input, now, now);
        server.token = Secret::new(self.secrets.seal_once(server.token.expose().trim()));
        self.store.insert_media_server(&server).await?;
        Ok(server)
    }

    pub async fn update(
        &self,
        id: &str,
        mut input: MediaServerInput,
    ) -> Result<MediaServer, MediaServerError> {
        let stored = self.get(id).await?;
        if input.plex_pin_id.is_some() {
            validate(&input)?;
            self.take_pin_token(&mut input)?;
        } else if input.token.expose() == MASK {
            // The stored token goes only to the host it was entered for.
            if !tapearr_integrations::http::same_host(&stored.url, &input.url) {
                return Err(MediaServerError::Invalid(
                    "the URL points at another host: enter the token again".into(),
                ));
            }
            input.token = Secret::new(self.token(&stored)?);
        }
        validate(&input)?;
        let mut server = from_input(stored.id, input, stored.created_at, Timestamp::now());
        server.token = Secret::new(self.secrets.seal_once(server.token.expose().trim()));
        self.store.update_media_server(&server).await?;
        Ok(server)
    }

    pub async fn delete(&self, id: &str) -> Result<(), MediaServerError> {
        match self.store.delete_media_server(id).await {
            Err(StorageError::NotFound) => Err(MediaServerError::NotFound),
            other => Ok(other?),
        }
    }

    /// Reaches the server with its token and says what answered.
    pub async fn test(&self, id: &str) -> Result<ServerInfo, MediaServerError> {
        let server = self.get(id).await?;
        let token = self.token(&server)?;
        let info = match jellyfin_flavor(server.kind) {
            None => plex::info(&self.http, &server.url, &token).await,
            Some(flavor) => jellyfin::info(&self.http, flavor, &server.url, &token).await,
        };
        info.map_err(|e| MediaServerError::Unreachable(e.to_string()))
    }

    /// Queues a rescan of `folder` (absolute, as Tapearr sees it) on every enabled server.
    /// Call this after a recording or a trailer lands.
    pub async fn request_refresh(&self, folder: &str) -> Result<usize, MediaServerError> {
        if !folder.starts_with('/') {
            return Err(MediaServerError::Invalid(
                "folder must be an absolute path".into(),
            ));
        }
        let servers: Vec<MediaServer> = self
            .list()
            .await?
            .into_iter()
            .filter(|s| s.enabled)
            .collect();
        for s in &servers {
            let payload = serde_json::to_value(RefreshJob {
                server_id: s.id.clone(),
                folder: folder.to_string(),
            })
            .map_err(|e| MediaServerError::Invalid(e.to_string()))?;
            let opts = EnqueueOptions {
                max_attempts: 6,
                ..EnqueueOptions::default()
            };
            self.queue.enqueue(REFRESH_JOB, payload, opts).await?;
        }
        Ok(servers.len())
    }

    async fn refresh(&self, job: &RefreshJob) -> Result<String, JobError> {
        let server = match self.store.media_server(&job.server_id).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(JobError::Permanent("the media server was removed".into())),
            Err(e) => return Err(JobError::Retryable(e.to_string())),
        };
        let folder = to_server(&job.folder, &server.path_mappings);
        let token = self
            .token(&server)
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        let result = match jellyfin_flavor(server.kind) {
            None => plex::refresh_folder(&self.http, &server.url, &token, &folder)
                .await
                .map(|section| format!("{}: scanning {folder} in {section}", server.name)),
            Some(flavor) => {
                jellyfin::media_updated(&self.http, flavor, &server.url, &token, &[&folder])
                    .await
                    .map(|()| format!("{}: reported {folder}", server.name))
            }
        };
        result.map_err(|e| match e {
            ServerError::Retryable(m) => JobError::Retryable(format!("{}: {m}", server.name)),
            ServerError::Permanent(m) => JobError::Permanent(format!("{}: {m}", server.name)),
        })
    }
}

/// The `mediaserver.refresh` job handler.
pub struct RefreshHandler(pub MediaServers);

#[async_trait]
impl JobHandler for RefreshHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let job: RefreshJob = ctx.payload()?;
        let done = self.0.refresh(&job).await?;
        ctx.set_progress(1.0, Some(done)).await;
        Ok(())
    }
}

fn from_input(
    id: String,
    input: MediaServerInput,
    created_at: Timestamp,
    updated_at: Timestamp,
) -> MediaServer {
    MediaServer {
        id,
        name: input.name.trim().to_string(),
        kind: input.kind,
        url: input.url.trim().trim_end_matches('/').to_string(),
        token: input.token,
        path_mappings: input.path_mappings,
        enabled: input.enabled,
        created_at,
        updated_at,
    }
}

/// Jellyfin and Emby share one API with two dialects; Plex is the other kind.
fn jellyfin_flavor(kind: ServerKind) -> Option<Flavor> {
    match kind {
        ServerKind::Plex => None,
        ServerKind::Jellyfin => Some(Flavor::Jellyfin),
        ServerKind::Emby => Some(Flavor::Emby),
    }
}

fn validate(input: &MediaServerInput) -> Result<(), MediaServerError> {
    let invalid = |m: &str| Err(MediaServerError::Invalid(m.to_string()));
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        return invalid("name must be 1 to 100 characters");
    }
    match url::Url::parse(input.url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => return invalid("url must be an http(s) URL such as http://plex:32400"),
    }
    if input.plex_pin_id.is_none()
        && (input.token.expose().trim().is_empty() || input.token.expose() == MASK)
    {
        return invalid("token must be the server's token or API key");
    }
    for m in &input.path_mappings {
        if !m.local.starts_with('/') {
            return invalid("each path mapping's local folder must be absolute");
        }
        if m.server.trim().is_empty() {
            return invalid("each path mapping needs the folder as the server sees it");
        }
    }
    Ok(())
}
