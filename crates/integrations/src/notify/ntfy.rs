//! ntfy: the lines as the body, the title in a header.

use super::{Message, SendError, check};

#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// e.g. `https://ntfy.sh`
    pub server: &'a str,
    pub topic: &'a str,
    /// Access token for protected topics.
    pub token: Option<&'a str>,
    /// 1 (min) … 5 (max); ntfy's default is 3.
    pub priority: Option<u8>,
}

pub async fn send(
    http: &reqwest::Client,
    target: &Target<'_>,
    message: &Message,
) -> Result<(), SendError> {
    let url = format!("{}/{}", target.server.trim_end_matches('/'), target.topic);
    let mut req = http
        .post(url)
        .header("Title", header_safe(&message.title))
        .header("Tags", "tapearr")
        .header("X-Tapearr-Delivery", &message.id)
        .body(message.lines.join("\n"));
    if let Some(p) = target.priority {
        req = req.header("Priority", p.clamp(1, 5).to_string());
    }
    if let Some(token) = target.token {
        req = req.bearer_auth(token);
    }
    check("ntfy", req.send().await).await
}

/// Header values must be visible ASCII; ntfy also reads RFC 2047, but plain is enough for titles.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}
