//! Which settings the environment or `tapearr.toml` sets: those win over the app and are
//! read-only there.

use super::registry::SETTINGS;
use figment::Figment;
use figment::providers::{Format, Toml};
use std::collections::BTreeMap;
use std::path::Path;

/// Where a setting's value comes from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    Env,
    File,
    Database,
    Default,
}

/// The settings pinned by the environment or the file, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(BTreeMap<&'static str, SettingSource>);

impl Origins {
    /// As [`Origins::detect`] with `env` (variable names and values) for the environment.
    pub fn with_env<'a>(
        data_dir: &Path,
        env: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut figment = Figment::new();
        for (name, value) in env {
            let key = name
                .trim_start_matches(crate::config::ENV_PREFIX)
                .to_lowercase()
                .replace("__", ".");
            figment = figment.merge((key, value));
        }
        Self::from_providers(figment, data_dir)
    }

    pub(crate) fn from_providers(env: Figment, data_dir: &Path) -> Self {
        let file = Figment::from(Toml::file(data_dir.join(crate::config::CONFIG_FILE_NAME)));
        let mut pinned = BTreeMap::new();
        for def in SETTINGS {
            if env.find_value(def.key).is_ok() {
                pinned.insert(def.key, SettingSource::Env);
            } else if file.find_value(def.key).is_ok() {
                pinned.insert(def.key, SettingSource::File);
            }
        }
        Self(pinned)
    }

    /// `Env` or `File` when one of them sets `key`.
    pub fn pinned(&self, key: &str) -> Option<SettingSource> {
        self.0.get(key).copied()
    }
}
