//! The proxy list for playlist requests (S3): `twitch.playlist_proxies`, used by the channels
//! whose `use_playlist_proxy` setting is on and by those in `twitch.proxy_channels` (`*`: all). A check every `twitch.proxy_check_secs` marks each
//! proxy healthy when a request through it gets any HTTP answer from usher; a recording takes
//! the first healthy one, or goes direct when none is. Segments are always fetched directly,
//! and a recording whose proxy fails mid-way fetches its playlists directly from then on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::TwitchConfig;

/// How long one health check through a proxy may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

struct Proxy {
    /// `host:port` only: the configured URL may carry credentials, which never reach a log.
    label: String,
    client: reqwest::Client,
    healthy: AtomicBool,
}

#[derive(Clone, Default)]
pub(crate) struct PlaylistProxies {
    proxies: Arc<Vec<Proxy>>,
    /// Logins (lowercase) that opted in; `None`: every channel.
    channels: Option<Arc<Vec<String>>>,
}

/// A `twitch.playlist_proxies` entry that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("twitch.playlist_proxies: {0}")]
pub struct BadProxy(String);

impl PlaylistProxies {
    pub(crate) fn from_config(t: &TwitchConfig) -> Result<Self, BadProxy> {
        let mut proxies = Vec::new();
        for entry in split(&t.playlist_proxies) {
            let url = url::Url::parse(entry).map_err(|e| BadProxy(e.to_string()))?;
            let label = format!(
                "{}:{}",
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or_default()
            );
            let proxy = reqwest::Proxy::all(url.as_str())
                .map_err(|_| BadProxy(format!("not a proxy URL ({label})")))?;
            let client = reqwest::Client::builder()
                .proxy(proxy)
                .connect_timeout(Duration::from_secs(10))
                .pool_idle_timeout(Duration::from_millis(500))
                .user_agent(concat!("tapearr/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|_| BadProxy(format!("cannot build a client for {label}")))?;
            proxies.push(Proxy {
                label,
                client,
                // Unchecked proxies are tried: a failure falls back to direct anyway.
                healthy: AtomicBool::new(true),
            });
        }
        let listed: Vec<String> = split(&t.proxy_channels)
            .map(str::to_ascii_lowercase)
            .collect();
        let channels = if listed.iter().any(|c| c == "*") {
            None
        } else {
            Some(Arc::new(listed))
        };
        Ok(Self {
            proxies: Arc::new(proxies),
            channels,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.proxies.is_empty()
    }

    /// The client for `login`'s playlist requests: the first healthy proxy when the channel
    /// opted in (its `use_playlist_proxy` setting, or listed in `twitch.proxy_channels`);
    /// `None` (direct) otherwise or when every proxy is down.
    pub(crate) fn client_for(&self, login: &str, setting: bool) -> Option<reqwest::Client> {
        let opted_in = setting
            || match &self.channels {
                None => true,
                Some(list) => list.iter().any(|c| c.eq_ignore_ascii_case(login)),
            };
        if !opted_in {
            return None;
        }
        self.proxies
            .iter()
            .find(|p| p.healthy.load(Ordering::SeqCst))
            .map(|p| p.client.clone())
    }

    /// Checks every proxy once: healthy when `probe` (usher) answers anything through it.
    pub(crate) async fn check(&self, probe: &str) {
        for p in self.proxies.iter() {
            let ok = p
                .client
                .get(probe)
                .timeout(CHECK_TIMEOUT)
                .send()
                .await
                .is_ok();
            if p.healthy.swap(ok, Ordering::SeqCst) != ok {
                if ok {
                    tracing::info!(proxy = %p.label, "playlist proxy is back");
                } else {
                    tracing::warn!(proxy = %p.label, "playlist proxy failed its check; skipped until it recovers");
                }
            }
        }
    }
}

fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn proxies(list: &str, channels: &str) -> PlaylistProxies {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut t = Config::default().twitch;
        t.playlist_proxies = list.into();
        t.proxy_channels = channels.into();
        PlaylistProxies::from_config(&t).expect("valid")
    }

    #[test]
    fn only_opted_in_channels_use_a_proxy() {
        let p = proxies(
            "http://127.0.0.1:1, http://u:secret@127.0.0.1:2",
            "Alpha,beta",
        );
        assert!(p.client_for("alpha", false).is_some());
        assert!(p.client_for("beta", false).is_some());
        assert!(p.client_for("gamma", false).is_none());
        assert!(
            proxies("http://127.0.0.1:1", "*")
                .client_for("gamma", false)
                .is_some()
        );
        assert!(proxies("", "*").client_for("gamma", false).is_none());
        assert!(
            proxies("http://127.0.0.1:1", "")
                .client_for("alpha", false)
                .is_none()
        );
        // The channel's own setting opts it in; without proxies there is nothing to use.
        assert!(p.client_for("gamma", true).is_some());
        assert!(proxies("", "").client_for("gamma", true).is_none());
        // The label never holds the credentials.
        assert!(p.proxies.iter().all(|p| !p.label.contains("secret")));
    }

    #[test]
    fn a_bad_entry_is_refused_without_echoing_it() {
        let mut t = Config::default().twitch;
        t.playlist_proxies = "not a url with secret".into();
        let err = PlaylistProxies::from_config(&t).err().expect("refused");
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[tokio::test]
    async fn a_dead_proxy_is_skipped_and_none_left_means_direct() {
        // Port 9 on loopback: nothing listens, the connection is refused at once.
        let p = proxies("http://127.0.0.1:9", "*");
        assert!(p.client_for("alpha", false).is_some());
        p.check("http://127.0.0.1:9/").await;
        assert!(p.client_for("alpha", false).is_none());
    }
}
