//! What happens on the fake's side when a streamer goes live, changes title, ends, follows:
//! the world changes and EventSub notifications go out. Also the timeline runner.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::eventsub::emit;
use super::playback::WEB_CLIENT_ID;
use super::state::UserToken;
use super::wire::{random_hex, rfc3339_secs};
use super::{ControlError, Shared};

/// One step of a [`super::FakeTwitch::script`].
#[derive(Debug, Clone)]
pub enum Action {
    GoLive {
        login: String,
        title: String,
        game: String,
    },
    SetChannel {
        login: String,
        title: String,
        game: String,
    },
    GoOffline {
        login: String,
    },
}

pub async fn run(s: &Shared, steps: Vec<(Duration, Action)>) -> Result<(), ControlError> {
    for (delay, action) in steps {
        tokio::time::sleep(delay).await;
        match action {
            Action::GoLive { login, title, game } => {
                go_live(s, &login, &title, &game).await?;
            }
            Action::SetChannel { login, title, game } => set_channel(s, &login, &title, &game)?,
            Action::GoOffline { login } => go_offline(s, &login)?,
        }
    }
    Ok(())
}

fn user(s: &Shared, login: &str) -> Result<super::state::User, ControlError> {
    s.world()
        .user_by_login(login)
        .cloned()
        .ok_or_else(|| ControlError::UnknownUser(login.to_owned()))
}

pub async fn go_live(
    s: &Shared,
    login: &str,
    title: &str,
    game: &str,
) -> Result<String, ControlError> {
    let u = user(s, login)?;
    let spec = s.spec.lock().unwrap_or_else(|p| p.into_inner()).clone();
    // Media first: the stream must be playable by the time Helix lists it.
    let config = spec.build().await?;
    s.origin.add_channel(&u.login, config);
    let (stream_id, started_at) = {
        let mut w = s.world();
        let game_id = w.game_id(game);
        let ch = w.channels.entry(u.id.clone()).or_default();
        ch.title = title.to_owned();
        ch.game_id = game_id;
        let id = w.next_id();
        let started_at = rfc3339_secs(SystemTime::now());
        w.streams.insert(
            u.id.clone(),
            super::state::Stream {
                id: id.clone(),
                started_at: started_at.clone(),
            },
        );
        (id, started_at)
    };
    emit(
        s,
        "stream.online",
        &u.id,
        json!({
            "id": stream_id, "broadcaster_user_id": u.id, "broadcaster_user_login": u.login,
            "broadcaster_user_name": u.display_name, "type": "live", "started_at": started_at,
        }),
    );
    Ok(stream_id)
}

pub fn set_channel(s: &Shared, login: &str, title: &str, game: &str) -> Result<(), ControlError> {
    let u = user(s, login)?;
    let (game_id, language) = {
        let mut w = s.world();
        let game_id = w.game_id(game);
        let ch = w.channels.entry(u.id.clone()).or_default();
        ch.title = title.to_owned();
        ch.game_id = game_id.clone();
        (game_id, ch.language.clone())
    };
    emit(
        s,
        "channel.update",
        &u.id,
        json!({
            "broadcaster_user_id": u.id, "broadcaster_user_login": u.login,
            "broadcaster_user_name": u.display_name, "title": title, "language": language,
            "category_id": game_id, "category_name": game, "content_classification_labels": [],
        }),
    );
    Ok(())
}

pub fn go_offline(s: &Shared, login: &str) -> Result<(), ControlError> {
    let u = user(s, login)?;
    let was_live = s.world().streams.remove(&u.id).is_some();
    s.origin.remove_channel(&u.login);
    if was_live {
        emit(
            s,
            "stream.offline",
            &u.id,
            json!({
                "broadcaster_user_id": u.id, "broadcaster_user_login": u.login,
                "broadcaster_user_name": u.display_name,
            }),
        );
    }
    Ok(())
}

pub fn follow(s: &Shared, user_login: &str, channel_login: &str) -> Result<(), ControlError> {
    let (u, c) = (user(s, user_login)?, user(s, channel_login)?);
    let mut w = s.world();
    if !w.follows.iter().any(|(a, b, _)| *a == u.id && *b == c.id) {
        w.follows
            .push((u.id, c.id, rfc3339_secs(SystemTime::now())));
    }
    Ok(())
}

/// A token for `login` issued to the app (`client_id` of the config).
pub fn issue_user_token(s: &Shared, login: &str) -> Result<String, ControlError> {
    issue_token(s, login, &s.cfg.client_id)
}

/// A token for `login` issued to the twitch.tv web player (its `auth-token` cookie).
pub fn issue_web_token(s: &Shared, login: &str) -> Result<String, ControlError> {
    issue_token(s, login, WEB_CLIENT_ID)
}

fn issue_token(s: &Shared, login: &str, client_id: &str) -> Result<String, ControlError> {
    let u = user(s, login)?;
    let token = random_hex(15);
    s.world().user_tokens.insert(
        token.clone(),
        UserToken {
            user_id: u.id,
            client_id: client_id.to_owned(),
            expires_at: None,
        },
    );
    Ok(token)
}

/// A past broadcast (or highlight, upload) of `login` made of `params` media; its video id.
pub async fn add_video(
    s: &Shared,
    login: &str,
    spec: super::VideoSpec,
    params: crate::hls_origin::MediaParams,
) -> Result<String, ControlError> {
    let user_id = user(s, login)?.id;
    let media = crate::hls_origin::MediaSet::load_or_generate(&params).await?;
    let id = s.world().next_id();
    s.vods().videos.push(super::vod::Video {
        id: id.clone(),
        user_id,
        spec,
        media,
    });
    Ok(id)
}
