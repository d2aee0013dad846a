//! Twitch chat as IRC over WebSocket (`wss://irc-ws.chat.twitch.tv:443`), anonymous side.
//!
//! The real handshake: the client sends `CAP REQ :twitch.tv/tags twitch.tv/commands`,
//! `PASS SCHMOOPIIE`, `NICK justinfan12345`, `JOIN #login`; the server acknowledges the
//! capabilities, welcomes (`001`…`376`, several lines in one frame, as Twitch does), confirms the
//! JOIN (`JOIN`, `353`, `366`, `ROOMSTATE`) and then relays `PRIVMSG`s with IRCv3 tags. It sends
//! `PING :tmi.twitch.tv`; a client that does not answer `PONG` in time is dropped. Faults: drop
//! a channel's connections, send `RECONNECT` (Twitch's "please reconnect" before maintenance),
//! `CLEARCHAT`/`CLEARMSG` moderation. Messages said while nobody is joined are lost, like on
//! Twitch (chat has no backlog).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokio::sync::{Notify, broadcast};

use super::Shared;
use std::sync::Arc;

/// One chat message to relay.
#[derive(Debug, Clone)]
pub struct ChatMessage {
    /// The sender's login.
    pub user: String,
    pub display_name: String,
    pub text: String,
    /// `#RRGGBB` or empty (the user never chose one).
    pub color: String,
    /// Twitch's `emotes` tag: `25:0-4,12-16/1902:6-10`.
    pub emotes: String,
    /// Twitch's `badges` tag: `subscriber/12,premium/1`.
    pub badges: String,
    /// `tmi-sent-ts` (ms since the epoch); now when `None`.
    pub sent_at_ms: Option<i64>,
}

impl ChatMessage {
    pub fn new(user: &str, text: &str) -> Self {
        Self {
            user: user.to_lowercase(),
            display_name: user.to_string(),
            text: text.to_string(),
            color: "#1E90FF".into(),
            emotes: String::new(),
            badges: String::new(),
            sent_at_ms: None,
        }
    }

    pub fn emotes(mut self, emotes: &str) -> Self {
        self.emotes = emotes.to_string();
        self
    }

    pub fn badges(mut self, badges: &str) -> Self {
        self.badges = badges.to_string();
        self
    }

    pub fn sent_at_ms(mut self, ms: i64) -> Self {
        self.sent_at_ms = Some(ms);
        self
    }
}

/// What the chat server saw: see [`super::FakeTwitch::chat_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatStats {
    /// WebSocket connections accepted.
    pub connections: u64,
    /// Connections open now.
    pub open: u64,
    /// `JOIN`s confirmed.
    pub joins: u64,
    /// `PONG`s received (answers to the server's `PING`).
    pub pongs: u64,
    /// Clients dropped because they did not answer a `PING` in time.
    pub dropped_silent: u64,
    /// `PRIVMSG`s delivered to clients (one per client and message).
    pub delivered: u64,
    /// Logins refused (anything but an anonymous `justinfan` nick).
    pub refused: u64,
}

#[derive(Debug, Clone)]
enum Out {
    /// Raw lines for the clients joined to `channel`.
    Lines {
        channel: String,
        lines: String,
    },
    Ping,
    Drop {
        channel: String,
    },
    Reconnect {
        channel: String,
    },
}

pub(crate) struct ChatHub {
    tx: broadcast::Sender<Out>,
    pong_timeout: Mutex<Duration>,
    connections: AtomicU64,
    open: AtomicU64,
    joins: AtomicU64,
    pongs: AtomicU64,
    dropped_silent: AtomicU64,
    delivered: AtomicU64,
    refused: AtomicU64,
    next_id: AtomicU64,
    /// Per-channel JOIN counts, for [`wait_joins`].
    joined: Mutex<std::collections::HashMap<String, u64>>,
    changed: Notify,
}

impl Default for ChatHub {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
            pong_timeout: Mutex::new(Duration::from_secs(10)),
            connections: AtomicU64::new(0),
            open: AtomicU64::new(0),
            joins: AtomicU64::new(0),
            pongs: AtomicU64::new(0),
            dropped_silent: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            joined: Mutex::default(),
            changed: Notify::new(),
        }
    }
}

impl ChatHub {
    pub fn stats(&self) -> ChatStats {
        let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
        ChatStats {
            connections: get(&self.connections),
            open: get(&self.open),
            joins: get(&self.joins),
            pongs: get(&self.pongs),
            dropped_silent: get(&self.dropped_silent),
            delivered: get(&self.delivered),
            refused: get(&self.refused),
        }
    }

    pub fn set_pong_timeout(&self, timeout: Duration) {
        *self.pong_timeout.lock().unwrap_or_else(|p| p.into_inner()) = timeout;
    }

    fn pong_timeout(&self) -> Duration {
        *self.pong_timeout.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Relays `message` to `#login`; returns the message's id.
    pub fn say(&self, login: &str, room_id: &str, message: &ChatMessage) -> String {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let sent = message.sent_at_ms.unwrap_or_else(now_ms);
        let line = format!(
            "@badge-info=;badges={};client-nonce=;color={};display-name={};emotes={};first-msg=0;flags=;id={id};mod=0;returning-chatter=0;room-id={room_id};subscriber=0;tmi-sent-ts={sent};turbo=0;user-id={};user-type= :{u}!{u}@{u}.tmi.twitch.tv PRIVMSG #{login} :{}\r\n",
            message.badges,
            message.color,
            escape_tag(&message.display_name),
            message.emotes,
            1000 + (n % 9000),
            message.text,
            u = message.user,
        );
        self.send(Out::Lines {
            channel: login.to_string(),
            lines: line,
        });
        id
    }

    /// `CLEARMSG`: a moderator deleted one message.
    pub fn clear_message(&self, login: &str, room_id: &str, user: &str, id: &str) {
        let line = format!(
            "@login={user};room-id={room_id};target-msg-id={id};tmi-sent-ts={} :tmi.twitch.tv CLEARMSG #{login} :deleted\r\n",
            now_ms()
        );
        self.send(Out::Lines {
            channel: login.to_string(),
            lines: line,
        });
    }

    /// `CLEARCHAT`: a user timed out or banned (their messages go), or, without a user, the
    /// whole chat cleared.
    pub fn clear_chat(&self, login: &str, room_id: &str, user: Option<&str>) {
        let line = match user {
            Some(user) => format!(
                "@ban-duration=600;room-id={room_id};target-user-id=1;tmi-sent-ts={} :tmi.twitch.tv CLEARCHAT #{login} :{user}\r\n",
                now_ms()
            ),
            None => format!(
                "@room-id={room_id};tmi-sent-ts={} :tmi.twitch.tv CLEARCHAT #{login}\r\n",
                now_ms()
            ),
        };
        self.send(Out::Lines {
            channel: login.to_string(),
            lines: line,
        });
    }

    pub fn ping(&self) {
        self.send(Out::Ping);
    }

    pub fn drop_channel(&self, login: &str) {
        self.send(Out::Drop {
            channel: login.to_string(),
        });
    }

    pub fn reconnect(&self, login: &str) {
        self.send(Out::Reconnect {
            channel: login.to_string(),
        });
    }

    fn send(&self, out: Out) {
        // No receiver: nobody is connected, and chat has no backlog.
        let _ = self.tx.send(out);
    }

    /// Waits until `#login` was joined at least `count` times in all.
    pub async fn wait_joins(&self, login: &str, count: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            let seen = self
                .joined
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(login)
                .copied()
                .unwrap_or(0);
            if seen >= count {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return false;
            }
        }
    }

    fn joined(&self, login: &str) {
        self.joins.fetch_add(1, Ordering::SeqCst);
        *self
            .joined
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(login.to_string())
            .or_default() += 1;
        self.changed.notify_waiters();
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// IRCv3 tag value escaping (`\s` for a space, `\:` for `;`).
fn escape_tag(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(';', "\\:")
        .replace(' ', "\\s")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

pub(crate) async fn upgrade(ws: WebSocketUpgrade, State(shared): State<Arc<Shared>>) -> Response {
    ws.on_upgrade(move |socket| async move {
        let hub = &shared.chat;
        hub.connections.fetch_add(1, Ordering::SeqCst);
        hub.open.fetch_add(1, Ordering::SeqCst);
        hub.changed.notify_waiters();
        serve(socket, &shared).await;
        hub.open.fetch_sub(1, Ordering::SeqCst);
        hub.changed.notify_waiters();
    })
}

/// One client's session.
struct Session {
    nick: Option<String>,
    channels: Vec<String>,
    /// A `PING` was sent and not answered yet: drop the client at this instant.
    pong_due: Option<tokio::time::Instant>,
}

async fn serve(mut socket: WebSocket, shared: &Shared) {
    let hub = &shared.chat;
    let mut rx = hub.tx.subscribe();
    let mut s = Session {
        nick: None,
        channels: Vec::new(),
        pong_due: None,
    };
    loop {
        let due = async {
            match s.pong_due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                for line in text.split("\r\n").filter(|l| !l.is_empty()) {
                    let (reply, close) = match answer(shared, &mut s, line) {
                        Some(reply) => (reply, false),
                        None if s.nick.is_none() => (":tmi.twitch.tv NOTICE * :Login authentication failed\r\n".to_string(), true),
                        None => (String::new(), true),
                    };
                    if !reply.is_empty() && socket.send(Message::Text(reply.into())).await.is_err() {
                        return;
                    }
                    if close {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                }
            }
            out = rx.recv() => {
                let out = match out {
                    Ok(out) => out,
                    // A client that cannot keep up misses messages (Twitch drops them too).
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                match out {
                    Out::Lines { channel, lines } if s.channels.contains(&channel) => {
                        if lines.contains(" PRIVMSG ") {
                            hub.delivered.fetch_add(1, Ordering::SeqCst);
                        }
                        if socket.send(Message::Text(lines.into())).await.is_err() {
                            return;
                        }
                    }
                    Out::Ping if s.nick.is_some() => {
                        s.pong_due.get_or_insert_with(|| tokio::time::Instant::now() + hub.pong_timeout());
                        if socket.send(Message::Text("PING :tmi.twitch.tv\r\n".into())).await.is_err() {
                            return;
                        }
                    }
                    Out::Drop { channel } if s.channels.contains(&channel) => return,
                    Out::Reconnect { channel } if s.channels.contains(&channel) => {
                        let _ = socket.send(Message::Text(":tmi.twitch.tv RECONNECT\r\n".into())).await;
                        // Twitch closes a little later; a good client has left already.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        return;
                    }
                    _ => {}
                }
            }
            _ = due => {
                hub.dropped_silent.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// The server's answer to one client line (may be empty); `None` closes the connection (after
/// a failed-login notice when the client is not logged in).
fn answer(shared: &Shared, s: &mut Session, line: &str) -> Option<String> {
    let hub = &shared.chat;
    let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
    match command {
        "CAP" => Some(format!(
            ":tmi.twitch.tv CAP * ACK :{}\r\n",
            rest.trim_start_matches("REQ :")
        )),
        "PASS" => Some(String::new()),
        "NICK" => {
            let nick = rest.trim().to_lowercase();
            if !nick.starts_with("justinfan") {
                // Only the anonymous login: a named one needs an OAuth token this fake does
                // not hand out for chat.
                hub.refused.fetch_add(1, Ordering::SeqCst);
                return None;
            }
            let welcome = [
                format!(":tmi.twitch.tv 001 {nick} :Welcome, GLHF!"),
                format!(":tmi.twitch.tv 002 {nick} :Your host is tmi.twitch.tv"),
                format!(":tmi.twitch.tv 003 {nick} :This server is rather new"),
                format!(":tmi.twitch.tv 004 {nick} :-"),
                format!(":tmi.twitch.tv 375 {nick} :-"),
                format!(
                    ":tmi.twitch.tv 372 {nick} :You are in a maze of twisty passages, all alike."
                ),
                format!(":tmi.twitch.tv 376 {nick} :>"),
            ];
            s.nick = Some(nick);
            Some(welcome.join("\r\n") + "\r\n")
        }
        "JOIN" => {
            let nick = s.nick.clone()?;
            let mut out = String::new();
            for channel in rest.split(',') {
                let login = channel.trim().trim_start_matches('#').to_lowercase();
                if login.is_empty() {
                    continue;
                }
                let room_id = shared
                    .world()
                    .user_by_login(&login)
                    .map(|u| u.id.clone())
                    .unwrap_or_default();
                out.push_str(&format!(
                    ":{nick}!{nick}@{nick}.tmi.twitch.tv JOIN #{login}\r\n:{nick}.tmi.twitch.tv 353 {nick} = #{login} :{nick}\r\n:{nick}.tmi.twitch.tv 366 {nick} #{login} :End of /NAMES list\r\n@emote-only=0;followers-only=-1;r9k=0;room-id={room_id};slow=0;subs-only=0 :tmi.twitch.tv ROOMSTATE #{login}\r\n"
                ));
                if !s.channels.contains(&login) {
                    s.channels.push(login.clone());
                }
                hub.joined(&login);
            }
            Some(out)
        }
        "PART" => {
            let login = rest.trim().trim_start_matches('#').to_lowercase();
            s.channels.retain(|c| *c != login);
            Some(String::new())
        }
        "PONG" => {
            s.pong_due = None;
            hub.pongs.fetch_add(1, Ordering::SeqCst);
            hub.changed.notify_waiters();
            Some(String::new())
        }
        "PING" => Some(format!(":tmi.twitch.tv PONG tmi.twitch.tv {rest}\r\n")),
        _ => {
            let nick = s.nick.clone().unwrap_or_else(|| "*".into());
            Some(format!(
                ":tmi.twitch.tv 421 {nick} {command} :Unknown command\r\n"
            ))
        }
    }
}

/// Waits until `pred(stats)` holds; false on timeout.
pub(crate) async fn wait_until(
    hub: &ChatHub,
    timeout: Duration,
    pred: impl Fn(&ChatStats) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let changed = hub.changed.notified();
        if pred(&hub.stats()) {
            return true;
        }
        // Stats also move without a notification (deliveries); look again now and then.
        let tick = tokio::time::sleep(Duration::from_millis(50));
        tokio::select! {
            _ = changed => {}
            _ = tick => {}
            _ = tokio::time::sleep_until(deadline) => return pred(&hub.stats()),
        }
    }
}
