//! Chat capture beside a running recording (S10).

use super::Streams;
use super::model::{Channel, Recording};
use crate::chat::{self, capture::Capture};
use tokio_util::sync::DropGuard;

impl Streams {
    /// Starts capturing the channel's chat into the recording's parts folder when the channel's
    /// chat option is on. The capture stops when the returned guard is dropped, or at shutdown;
    /// a resumed recording appends to the same file.
    pub(crate) fn start_chat(&self, channel: &Channel, rec: &Recording) -> Option<DropGuard> {
        if !channel.settings.record_chat {
            return None;
        }
        let stop = self.inner.shutdown.child_token();
        let capture = Capture {
            url: self.inner.config.twitch.chat_url.clone(),
            login: channel.login.clone(),
            file: std::path::Path::new(&rec.dir).join(chat::PARTS_FILE),
            started_at: rec.started_at,
        };
        tokio::spawn(chat::capture::run(capture, stop.clone()));
        Some(stop.drop_guard())
    }
}
