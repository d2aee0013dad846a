//! What the fake Twitch knows: users, live streams, channel info, games, follows, tokens and
//! EventSub subscriptions, with their JSON as Helix writes it.

use std::collections::{HashMap, HashSet};
use std::time::{Instant, SystemTime};

use serde_json::{Value, json};

use super::wire::{rfc3339_secs, uuid};

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Default)]
pub struct ChannelInfo {
    pub title: String,
    pub game_id: String,
    pub language: String,
}

#[derive(Debug, Clone)]
pub struct Stream {
    pub id: String,
    pub started_at: String,
}

/// A user access token: whose it is and which application it was issued to.
#[derive(Debug, Clone)]
pub struct UserToken {
    pub user_id: String,
    pub client_id: String,
    /// `None`: the fixed lifetime the validate endpoint reports for scripted tokens.
    pub expires_at: Option<Instant>,
}

#[derive(Debug, Clone)]
pub struct Sub {
    pub id: String,
    pub kind: String,
    pub version: String,
    pub condition: Value,
    pub callback: String,
    pub secret: String,
    pub status: String,
    pub created_at: String,
}

#[derive(Default)]
pub struct World {
    next_id: u64,
    /// In creation order (Helix answers in a stable order too).
    pub users: Vec<User>,
    pub streams: HashMap<String, Stream>,
    pub channels: HashMap<String, ChannelInfo>,
    /// (id, name)
    pub games: Vec<(String, String)>,
    /// (user id, broadcaster id, followed_at)
    pub follows: Vec<(String, String, String)>,
    pub app_tokens: HashSet<String>,
    pub user_tokens: HashMap<String, UserToken>,
    /// Device-code sign-ins, by device code.
    pub devices: HashMap<String, super::oauth::DeviceGrant>,
    /// Refresh token → the grant it renews (one use each: Twitch rotates them).
    pub refresh_tokens: HashMap<String, UserToken>,
    pub oauth: super::oauth::OAuthSettings,
    pub subs: Vec<Sub>,
    pub helix_failing: bool,
    /// Caps every page so small data sets exercise pagination.
    pub max_page: usize,
}

impl World {
    pub fn new() -> Self {
        Self {
            next_id: 141_981_764,
            max_page: 100,
            ..Self::default()
        }
    }

    /// Numeric string ids, like Twitch's.
    pub fn next_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// A user token that exists and has not expired.
    pub fn live_user_token(&self, token: &str) -> Option<&UserToken> {
        self.user_tokens
            .get(token)
            .filter(|t| t.expires_at.is_none_or(|at| at > Instant::now()))
    }

    pub fn user_by_login(&self, login: &str) -> Option<&User> {
        let login = login.to_ascii_lowercase();
        self.users.iter().find(|u| u.login == login)
    }

    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn add_user(&mut self, login: &str, display_name: &str) -> String {
        if let Some(u) = self.user_by_login(login) {
            return u.id.clone();
        }
        let id = self.next_id();
        self.users.push(User {
            id: id.clone(),
            login: login.to_ascii_lowercase(),
            display_name: display_name.to_owned(),
            created_at: rfc3339_secs(SystemTime::now()),
        });
        self.channels.insert(
            id.clone(),
            ChannelInfo {
                language: "en".into(),
                ..ChannelInfo::default()
            },
        );
        id
    }

    /// The id of a category, created on first use ("" for no category).
    pub fn game_id(&mut self, name: &str) -> String {
        if name.is_empty() {
            return String::new();
        }
        if let Some((id, _)) = self.games.iter().find(|(_, n)| n == name) {
            return id.clone();
        }
        let id = self.next_id();
        self.games.push((id.clone(), name.to_owned()));
        id
    }

    pub fn game_name(&self, id: &str) -> String {
        self.games
            .iter()
            .find(|(g, _)| g == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    }

    pub fn user_json(&self, u: &User, base: &str) -> Value {
        json!({
            "id": u.id, "login": u.login, "display_name": u.display_name, "type": "",
            "broadcaster_type": "affiliate",
            "description": format!("{} streams things.", u.display_name),
            "profile_image_url": format!("{base}/img/{}-profile_image-300x300.png", u.login),
            "offline_image_url": format!("{base}/img/{}-channel_offline_image-1920x1080.png", u.login),
            "view_count": 0, "created_at": u.created_at,
        })
    }

    pub fn stream_json(&self, u: &User, s: &Stream, base: &str) -> Value {
        let ch = self.channels.get(&u.id).cloned().unwrap_or_default();
        json!({
            "id": s.id, "user_id": u.id, "user_login": u.login, "user_name": u.display_name,
            "game_id": ch.game_id, "game_name": self.game_name(&ch.game_id), "type": "live",
            "title": ch.title, "tags": ["English"], "viewer_count": 42,
            "started_at": s.started_at, "language": ch.language,
            "thumbnail_url": format!("{base}/img/live_user_{}-{{width}}x{{height}}.png", u.login),
            "tag_ids": [], "is_mature": false,
        })
    }

    pub fn channel_json(&self, u: &User) -> Value {
        let ch = self.channels.get(&u.id).cloned().unwrap_or_default();
        json!({
            "broadcaster_id": u.id, "broadcaster_login": u.login, "broadcaster_name": u.display_name,
            "broadcaster_language": ch.language, "game_id": ch.game_id,
            "game_name": self.game_name(&ch.game_id), "title": ch.title, "delay": 0,
            "tags": ["English"], "content_classification_labels": [], "is_branded_content": false,
        })
    }

    pub fn game_json(id: &str, name: &str, base: &str) -> Value {
        json!({
            "id": id, "name": name, "igdb_id": "",
            "box_art_url": format!("{base}/img/box-{id}-{{width}}x{{height}}.png"),
        })
    }

    pub fn new_sub(
        &mut self,
        kind: &str,
        version: &str,
        condition: Value,
        callback: &str,
        secret: &str,
    ) -> Sub {
        let sub = Sub {
            id: uuid(),
            kind: kind.to_owned(),
            version: version.to_owned(),
            condition,
            callback: callback.to_owned(),
            secret: secret.to_owned(),
            status: "webhook_callback_verification_pending".into(),
            created_at: super::wire::rfc3339_nanos(SystemTime::now()),
        };
        self.subs.push(sub.clone());
        sub
    }
}

impl Sub {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id, "status": self.status, "type": self.kind, "version": self.version,
            "condition": self.condition, "created_at": self.created_at, "cost": 1,
            "transport": {"method": "webhook", "callback": self.callback},
        })
    }

    pub fn broadcaster(&self) -> Option<&str> {
        self.condition.get("broadcaster_user_id")?.as_str()
    }
}
