//! The configuration as it is now: the services that apply a setting without a restart read
//! it here instead of the configuration they were built with.

use crate::config::Config;
use crate::files::LibraryRoots;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// The effective configuration, updated when a setting changes in the app.
#[derive(Clone)]
pub struct LiveConfig(watch::Receiver<Arc<Config>>);

impl LiveConfig {
    pub(super) fn new(rx: watch::Receiver<Arc<Config>>) -> Self {
        Self(rx)
    }

    /// A configuration that never changes (commands and tests without the settings service).
    pub fn fixed(config: Arc<Config>) -> Self {
        let (tx, rx) = watch::channel(config);
        // The receiver reports the sender gone as "no more changes": the value stays.
        drop(tx);
        Self(rx)
    }

    pub fn current(&self) -> Arc<Config> {
        self.0.borrow().clone()
    }

    /// Waits for the next change; `false` once no change can come any more.
    pub async fn changed(&mut self) -> bool {
        self.0.changed().await.is_ok()
    }
}

/// The library roots of the live configuration, canonicalized once per change of the list.
pub struct LiveRoots {
    live: LiveConfig,
    cache: Mutex<Option<(Vec<PathBuf>, Option<LibraryRoots>)>>,
}

impl LiveRoots {
    pub fn new(live: LiveConfig) -> Self {
        Self {
            live,
            cache: Mutex::new(None),
        }
    }

    /// `None` while no root is set, or when a root cannot be used (it was removed meanwhile).
    pub fn get(&self) -> Option<LibraryRoots> {
        let wanted = self.live.current().library_roots.clone();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((paths, roots)) = cache.as_ref()
            && *paths == wanted
        {
            return roots.clone();
        }
        let roots = if wanted.is_empty() {
            None
        } else {
            match LibraryRoots::new(&wanted) {
                Ok(roots) => Some(roots),
                Err(e) => {
                    tracing::warn!(error = %e, "a library root cannot be used");
                    None
                }
            }
        };
        *cache = Some((wanted, roots.clone()));
        roots
    }
}
