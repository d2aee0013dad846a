//! Settings a user changes in the app (C2, C16), stored in the database on the
//! [`KeyValueStore`](crate::storage::KeyValueStore).
//!
//! Layering, per setting: a value set by the environment or `tapearr.toml` wins (and is
//! read-only in the app); else the database's; else the default. Secrets are sealed at rest and
//! never shown, only whether one is set. The effective configuration is published on a watch
//! channel ([`LiveConfig`]) that the services read, so changes apply without a restart.
//!
//! - [`registry`]: the declared list of settings, their types and validation.
//! - [`origins`]: which settings the environment or the file pins.
//! - [`live`]: the effective configuration as services read it.
//! - [`cookies`]: the uploaded YouTube cookies file.
//! - [`folders`]: the folder browser for library roots.

pub mod cookies;
pub mod folders;
mod live;
pub mod origins;
pub mod registry;

pub use cookies::{CookiesError, CookiesInfo};
pub use folders::{FolderEntry, FolderError, FolderListing};
pub use live::{LiveConfig, LiveRoots};
pub use origins::{Origins, SettingSource};
pub use registry::{SETTINGS, SettingDef, SettingKind, ValueError};

use crate::config::Config;
use crate::crypto::SecretBox;
use crate::storage::{Storage, StorageError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Set once the first-run wizard was finished or skipped.
const WIZARD_DONE: &str = "wizard:done";

/// The database name of a setting's value.
fn stored_name(key: &str) -> String {
    format!("setting:{key}")
}

/// Every refusal names what was refused: the setting, `path` or `cookies`.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{key}: no such setting")]
    Unknown { key: String },
    /// Set in the environment or `tapearr.toml` (`place`), so read-only in the app.
    #[error("{key}: is set in {place}; change it there")]
    Pinned { key: String, place: String },
    #[error("{key}: {error}")]
    Value {
        key: &'static str,
        error: ValueError,
    },
    #[error("path: {0}")]
    Folder(#[from] FolderError),
    #[error("cookies: {0}")]
    Cookies(#[from] CookiesError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Io(String),
}

pub type SettingsResult<T> = Result<T, SettingsError>;

/// Why a stored value is not used (it was written by another version, or the key changed).
#[derive(Debug, thiserror::Error)]
enum DecodeError {
    #[error(transparent)]
    Unseal(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Value(#[from] ValueError),
}

/// One setting as the app shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SettingView {
    pub key: String,
    pub kind: SettingKind,
    /// The value in use; always `null` for a secret.
    pub value: Value,
    /// A value is set (for a secret, the only thing shown).
    pub is_set: bool,
    pub secret: bool,
    pub source: SettingSource,
    /// Set by the environment or `tapearr.toml`: change it there.
    pub read_only: bool,
    /// The environment variable that would set it.
    pub env_name: String,
    /// A change is used only after the next start.
    pub restart_required: bool,
    pub help: String,
}

#[derive(Clone)]
pub struct Settings {
    inner: Arc<Inner>,
}

struct Inner {
    /// Defaults, file and environment: what the process was started with.
    base: Config,
    origins: Origins,
    store: Arc<dyn Storage>,
    secrets: SecretBox,
    /// The database's values (secrets opened), by key.
    stored: Mutex<BTreeMap<&'static str, Value>>,
    published: watch::Sender<Arc<Config>>,
    /// One change at a time: concurrent changes never interleave their writes.
    writing: tokio::sync::Mutex<()>,
}

impl Settings {
    /// Reads the stored settings. A stored value that no longer validates (a folder removed, a
    /// secret sealed with another key) is left out with a warning rather than stopping the start.
    pub async fn open(
        base: Config,
        origins: Origins,
        store: Arc<dyn Storage>,
        secrets: SecretBox,
    ) -> SettingsResult<Self> {
        let mut stored = BTreeMap::new();
        for def in SETTINGS {
            let Some(raw) = store.app_value(&stored_name(def.key)).await? else {
                continue;
            };
            match decode(def, &raw, &secrets) {
                Ok(value) => {
                    stored.insert(def.key, value);
                }
                Err(error) => {
                    tracing::warn!(setting = def.key, %error, "a stored setting is ignored")
                }
            }
        }
        let effective = effective(&base, &origins, &stored);
        let (published, _) = watch::channel(Arc::new(effective));
        Ok(Self {
            inner: Arc::new(Inner {
                base,
                origins,
                store,
                secrets,
                stored: Mutex::new(stored),
                published,
                writing: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The effective configuration, following changes.
    pub fn live(&self) -> LiveConfig {
        LiveConfig::new(self.inner.published.subscribe())
    }

    pub fn current(&self) -> Arc<Config> {
        self.inner.published.borrow().clone()
    }

    fn stored(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Value>> {
        self.inner.stored.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every setting with its value, source and whether it can be changed here.
    pub fn list(&self) -> Vec<SettingView> {
        let config = self.current();
        let stored = self.stored();
        SETTINGS
            .iter()
            .map(|def| {
                let (value, is_set) = registry::shown(&config, def);
                let source =
                    self.inner
                        .origins
                        .pinned(def.key)
                        .unwrap_or(if stored.contains_key(def.key) {
                            SettingSource::Database
                        } else {
                            SettingSource::Default
                        });
                SettingView {
                    key: def.key.to_string(),
                    kind: def.kind,
                    value,
                    is_set,
                    secret: def.secret(),
                    source,
                    read_only: matches!(source, SettingSource::Env | SettingSource::File),
                    env_name: def.env_name(),
                    restart_required: !def.live,
                    help: def.help.to_string(),
                }
            })
            .collect()
    }

    /// Validates every change first: one bad or read-only value refuses the whole request and
    /// changes nothing. `null` clears a value (back to the default).
    pub async fn update(
        &self,
        changes: &BTreeMap<String, Value>,
    ) -> SettingsResult<Vec<SettingView>> {
        let mut checked: Vec<(&'static SettingDef, Option<Value>)> = Vec::new();
        for (key, value) in changes {
            let def =
                registry::find(key).ok_or_else(|| SettingsError::Unknown { key: key.clone() })?;
            if let Some(source) = self.inner.origins.pinned(key) {
                let place = if source == SettingSource::Env {
                    format!("the environment ({})", def.env_name())
                } else {
                    crate::config::CONFIG_FILE_NAME.to_string()
                };
                return Err(SettingsError::Pinned {
                    key: key.clone(),
                    place,
                });
            }
            let value = if value.is_null() {
                None
            } else {
                let checked =
                    registry::validate(def, value).map_err(|error| SettingsError::Value {
                        key: def.key,
                        error,
                    })?;
                Some(checked)
            };
            checked.push((def, value));
        }
        let _writing = self.inner.writing.lock().await;
        let encoded: Vec<(String, Option<String>)> = checked
            .iter()
            .map(|(def, value)| {
                let raw = value.as_ref().map(|v| encode(def, v, &self.inner.secrets));
                (stored_name(def.key), raw)
            })
            .collect();
        let rows: Vec<(&str, Option<&str>)> = encoded
            .iter()
            .map(|(name, raw)| (name.as_str(), raw.as_deref()))
            .collect();
        // One transaction: a request is saved whole or not at all, and only then shown.
        self.inner.store.set_app_values(&rows).await?;
        {
            let mut stored = self.stored();
            for (def, value) in checked {
                match value {
                    Some(v) => stored.insert(def.key, v),
                    None => stored.remove(def.key),
                };
            }
        }
        self.publish();
        Ok(self.list())
    }

    /// Recomputes and publishes the effective configuration.
    fn publish(&self) {
        let effective = {
            let stored = self.stored();
            effective(&self.inner.base, &self.inner.origins, &stored)
        };
        let before = self.current();
        if before.log.level != effective.log.level
            && let Err(e) = crate::logs::set_level(&effective.log.level)
        {
            tracing::warn!(error = %e, "the new log level is not in use");
        }
        self.inner.published.send_replace(Arc::new(effective));
    }

    /// The uploaded YouTube cookies, if any.
    pub fn cookies(&self) -> Option<CookiesInfo> {
        let path = cookies::cookies_path(&self.inner.base.data_dir);
        let text = std::fs::read_to_string(path).ok()?;
        cookies::check(&text).ok()
    }

    /// Checks and keeps a Netscape cookies file; trailer downloads use it from now on (unless
    /// `trailers.cookies_file` names another file in the environment or `tapearr.toml`).
    pub async fn upload_cookies(&self, text: &str) -> SettingsResult<CookiesInfo> {
        let info = cookies::check(text)?;
        let _writing = self.inner.writing.lock().await;
        cookies::store(&self.inner.base.data_dir, text)
            .map_err(|e| SettingsError::Io(format!("cannot keep the cookies file: {e}")))?;
        self.publish();
        Ok(info)
    }

    /// Removes the uploaded cookies file; `false` when there was none.
    pub async fn delete_cookies(&self) -> SettingsResult<bool> {
        let _writing = self.inner.writing.lock().await;
        let removed = match std::fs::remove_file(cookies::cookies_path(&self.inner.base.data_dir)) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                return Err(SettingsError::Io(format!(
                    "cannot remove the cookies file: {e}"
                )));
            }
        };
        self.publish();
        Ok(removed)
    }

    /// Whether the first-run wizard was finished or skipped (it is not shown again).
    pub async fn wizard_done(&self) -> SettingsResult<bool> {
        Ok(self.inner.store.app_value(WIZARD_DONE).await?.is_some())
    }

    /// Records that the wizard was finished or skipped; idempotent.
    pub async fn finish_wizard(&self) -> SettingsResult<()> {
        self.inner
            .store
            .app_state_init(WIZARD_DONE, &crate::time::Timestamp::now().to_rfc3339())
            .await?;
        Ok(())
    }

    /// The folder browser (directories only, free space, writability).
    pub fn folders(&self, path: &str) -> SettingsResult<FolderListing> {
        Ok(folders::list(path)?)
    }
}

/// Base configuration with the database's values for the settings nothing else pins.
fn effective(base: &Config, origins: &Origins, stored: &BTreeMap<&'static str, Value>) -> Config {
    let mut config = base.clone();
    for (key, value) in stored {
        if origins.pinned(key).is_none() {
            registry::apply(&mut config, key, value);
        }
    }
    if config.trailers.cookies_file.is_none() {
        let uploaded = cookies::cookies_path(&config.data_dir);
        if uploaded.is_file() {
            config.trailers.cookies_file = Some(uploaded);
        }
    }
    config
}

/// The stored text of a validated value: JSON, sealed for secrets.
fn encode(def: &SettingDef, value: &Value, secrets: &SecretBox) -> String {
    match (def.secret(), value.as_str()) {
        (true, Some(plain)) => secrets.seal(plain),
        _ => value.to_string(),
    }
}

fn decode(def: &SettingDef, raw: &str, secrets: &SecretBox) -> Result<Value, DecodeError> {
    let value = if def.secret() {
        Value::String(secrets.reveal(raw)?)
    } else {
        serde_json::from_str(raw)?
    };
    Ok(registry::validate(def, &value)?)
}
