//! One message out through one channel.

use super::model::{Channel, ChannelConfig};
use crate::time::Timestamp;
use crate::tools::{APPRISE, Process, ProcessError, ToolsManager};
use std::time::Duration;
use tapearr_integrations::notify::{Message, SendError, discord, ntfy, webhook};
use tokio_util::sync::CancellationToken;

pub(crate) struct Senders {
    pub http: reqwest::Client,
    pub tools: std::sync::Arc<ToolsManager>,
}

impl Senders {
    pub(crate) async fn send(&self, channel: &Channel, message: &Message) -> Result<(), SendError> {
        match &channel.config {
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
        }
    }

    async fn apprise(&self, url: &str, message: &Message) -> Result<(), SendError> {
        let run = Process::new(self.tools.tool_path(&APPRISE))
            .args(["-t", &message.title, "-b", &message.lines.join("\n")])
            .secret_arg(url)
            .install_hint("run `tapearr tools install` (or update the tools from the web app)")
            .timeout(Duration::from_secs(60))
            .run(&CancellationToken::new())
            .await;
        match run {
            Ok(_) => Ok(()),
            Err(e @ ProcessError::NotFound { .. }) => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Retryable(format!("apprise: {e}"))),
        }
    }
}
