//! Chat capture beside a running recording (S10).

use super::Streams;
use super::model::{Channel, Recording};
use crate::chat::{self, capture::Capture};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long closing a recording waits for the capture to write its last frame.
const FINISH_TIMEOUT: Duration = Duration::from_secs(5);

/// A running capture. Dropping it stops the capture without waiting (shutdown, lost
/// ownership: the recording stays open and a later process appends); [`ChatCapture::finish`]
/// stops it and waits, so no frame lands in the parts folder after the recording is closed
/// and finalize has read it.
pub(crate) struct ChatCapture {
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl ChatCapture {
    pub(crate) async fn finish(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take()
            && tokio::time::timeout(FINISH_TIMEOUT, task).await.is_err()
        {
            tracing::warn!("the chat capture did not stop in time");
        }
    }
}

impl Drop for ChatCapture {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Streams {
    /// Starts capturing the channel's chat into the recording's parts folder when the channel's
    /// chat option is on. The capture runs until [`ChatCapture::finish`], a drop, or shutdown;
    /// a resumed recording appends to the same file.
    pub(crate) fn start_chat(&self, channel: &Channel, rec: &Recording) -> Option<ChatCapture> {
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
        let task = tokio::spawn(chat::capture::run(capture, stop.clone()));
        Some(ChatCapture {
            stop,
            task: Some(task),
        })
    }
}
