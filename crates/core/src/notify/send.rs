//! One message out through one channel.

use super::model::{Channel, ChannelConfig};
use crate::crypto::SecretBox;
use crate::storage::Storage;
use crate::time::Timestamp;
use crate::tools::{APPRISE, Process, ProcessError, ToolsManager};
use std::time::Duration;
use tapearr_integrations::notify::webpush::{self, VapidKey};
use tapearr_integrations::notify::{Message, SendError, discord, ntfy, webhook};
use tokio_util::sync::CancellationToken;

pub(crate) struct Senders {
    pub http: reqwest::Client,
    pub tools: std::sync::Arc<ToolsManager>,
    pub store: std::sync::Arc<dyn Storage>,
    /// Seals every secret in the database: channel secrets and the VAPID private key.
    pub secrets: SecretBox,
    /// The VAPID key, read (or created) once per process.
    pub vapid_key: tokio::sync::OnceCell<std::sync::Arc<VapidKey>>,
}

/// Where the VAPID private key is kept, sealed (generated on first use).
pub(crate) const VAPID_KEY: &str = "webpush.vapid_private_key";

impl Senders {
    pub(crate) async fn send(&self, channel: &Channel, message: &Message) -> Result<(), SendError> {
        let config = channel
            .config
            .opened(&self.secrets)
            .map_err(|e| SendError::Permanent(format!("{e}; enter the channel's secret again")))?;
        match &config {
            ChannelConfig::Discord { webhook_url } => {
                discord::send(&self.http, webhook_url, message).await
            }
            ChannelConfig::Ntfy {
                server,
                topic,
                token,
                priority,
            } => {
                let target = ntfy::Target {
                    server,
                    topic,
                    token: (!token.is_empty()).then_some(token.as_str()),
                    priority: *priority,
                };
                ntfy::send(&self.http, &target, message).await
            }
            ChannelConfig::Webhook { url, secret } => {
                let now = Timestamp::now().millis() / 1000;
                webhook::send(&self.http, url, Some(secret), message, now).await
            }
            ChannelConfig::Apprise { url } => self.apprise(url, message).await,
            ChannelConfig::WebPush { contact } => self.web_push(contact, message).await,
        }
    }

    /// The VAPID key, generated and stored the first time any process needs it.
    pub(crate) async fn vapid(&self) -> Result<std::sync::Arc<VapidKey>, SendError> {
        self.vapid_key
            .get_or_try_init(|| async {
                let candidate = self.secrets.seal(&VapidKey::generate().private_b64());
                let stored = self
                    .store
                    .app_state_init(VAPID_KEY, &candidate)
                    .await
                    .map_err(|e| SendError::Retryable(e.to_string()))?;
                let stored = self
                    .secrets
                    .reveal(&stored)
                    .map_err(|e| SendError::Permanent(format!("stored VAPID key: {e}")))?;
                VapidKey::from_private(&stored)
                    .map(std::sync::Arc::new)
                    .map_err(|e| SendError::Permanent(format!("stored VAPID key: {e}")))
            })
            .await
            .cloned()
    }

    /// Every subscribed browser; gone ones are forgotten. Fine when at least one got it.
    async fn web_push(&self, contact: &str, message: &Message) -> Result<(), SendError> {
        let subs = self
            .store
            .list_push_subscriptions()
            .await
            .map_err(|e| SendError::Retryable(e.to_string()))?;
        if subs.is_empty() {
            return Err(SendError::Permanent(
                "no browser has subscribed yet: enable push in the web app first".into(),
            ));
        }
        let vapid = self.vapid().await?;
        let payload = serde_json::to_string(&webpush::PushPayload {
            id: message.id.clone(),
            title: message.title.clone(),
            body: message.lines.join("\n"),
        })
        .unwrap_or_default();
        let (mut delivered, mut last_error) = (0, None);
        for sub in subs {
            let target = webpush::Subscription {
                endpoint: sub.endpoint.clone(),
                p256dh: sub.keys.p256dh,
                auth: sub.keys.auth,
            };
            match webpush::send(&self.http, &vapid, contact, &target, payload.as_bytes()).await {
                Ok(webpush::PushOutcome::Delivered) => delivered += 1,
                Ok(webpush::PushOutcome::Gone) => {
                    tracing::info!("push subscription gone; removing it");
                    let _ = self.store.delete_push_subscription(&sub.endpoint).await;
                }
                Err(e) => last_error = Some(e),
            }
        }
        match (delivered, last_error) {
            (0, Some(e)) => Err(e),
            (0, None) => Err(SendError::Permanent(
                "every push subscription was gone".into(),
            )),
            _ => Ok(()),
        }
    }

    async fn apprise(&self, url: &str, message: &Message) -> Result<(), SendError> {
        // The URL holds the target's secret: it goes in a private (0600) config file, never in
        // the argument list that every local user can read in the process table.
        if url.contains(['\n', '\r']) {
            return Err(SendError::Permanent(
                "the Apprise URL holds a line break".into(),
            ));
        }
        let config = AppriseConfig::write(url)
            .map_err(|e| SendError::Retryable(format!("apprise: cannot write its config: {e}")))?;
        let run = Process::new(self.tools.tool_path(&APPRISE))
            .args(["-t", &message.title, "-b", &message.lines.join("\n")])
            .arg("--config")
            .arg(config.path())
            .arg("--")
            .install_hint("run `tapearr tools install` (or update the tools from the web app)")
            .timeout(Duration::from_secs(60))
            .run(&CancellationToken::new())
            .await;
        drop(config);
        match run {
            Ok(_) => Ok(()),
            Err(e @ ProcessError::NotFound { .. }) => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Retryable(format!("apprise: {e}"))),
        }
    }
}

/// A one-URL Apprise text config in the temp dir, readable by this user only, removed on drop.
struct AppriseConfig(std::path::PathBuf);

impl AppriseConfig {
    fn write(url: &str) -> std::io::Result<Self> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = std::env::temp_dir().join(format!(
            "tapearr-apprise-{:032x}.txt",
            rand::random::<u128>()
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let config = Self(path);
        file.write_all(url.as_bytes())?;
        file.write_all(b"\n")?;
        Ok(config)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for AppriseConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
