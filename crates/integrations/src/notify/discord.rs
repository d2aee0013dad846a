//! Discord webhook: one embed per message.

use super::{Message, SendError, check};
use serde_json::json;

/// Discord limits an embed description to 4096 characters.
const MAX_DESCRIPTION: usize = 4000;
const COLOR: u32 = 0x7c3aed;

pub fn payload(message: &Message) -> serde_json::Value {
    let mut description = message.lines.join("\n");
    if description.chars().count() > MAX_DESCRIPTION {
        description = description
            .chars()
            .take(MAX_DESCRIPTION)
            .collect::<String>()
            + "…";
    }
    json!({
        "username": "Tapearr",
        "embeds": [{
            "title": message.title,
            "description": description,
            "color": COLOR,
            "timestamp": message.created_at,
            "footer": { "text": format!("tapearr · {}", message.id) },
        }],
    })
}

/// `webhook_url` is the secret `https://discord.com/api/webhooks/…` URL.
pub async fn send(
    http: &reqwest::Client,
    webhook_url: &str,
    message: &Message,
) -> Result<(), SendError> {
    let response = http.post(webhook_url).json(&payload(message)).send().await;
    check("discord", response).await
}
