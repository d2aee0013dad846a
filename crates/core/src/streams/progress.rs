//! Progress writes of all running recordings, grouped.
//!
//! Every recorder still saves its counters and ownership heartbeat every 2 s and learns from
//! that save whether this process still owns its recording. What changes is the cost: saves
//! that arrive within [`WINDOW`] of each other are written in one transaction. With one commit
//! per recording and tick, the database was most of what the server spent per recording beyond
//! the recorder itself (B1 in docs/benchmarks.md).

use crate::storage::Storage;
use crate::streams::model::RecordingProgress;
use crate::time::Timestamp;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the first save of a group waits for others. Short against the 2 s tick and the
/// 45 s staleness of an owner, long enough that hundreds of recordings share a few commits.
const WINDOW: Duration = Duration::from_millis(250);

/// Groups the progress saves of this process's recordings.
pub(crate) struct ProgressWriter {
    store: Arc<dyn Storage>,
    owner: String,
    queue: Arc<Mutex<Queue>>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    /// A flush is scheduled and has not taken the queue yet.
    scheduled: bool,
}

struct Waiting {
    recording_id: String,
    progress: RecordingProgress,
    /// Whether the recording is still ours; `None` when the write failed.
    reply: oneshot::Sender<Option<bool>>,
}

fn lock(m: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    // The queue stays consistent whatever panicked while holding it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ProgressWriter {
    pub(crate) fn new(store: Arc<dyn Storage>, owner: String) -> Self {
        Self {
            store,
            owner,
            queue: Arc::default(),
        }
    }

    /// Persists the counters and the heartbeat (at the time of the group's write). `Some(false)`
    /// when another process owns the recording now, `None` when the write failed.
    pub(crate) async fn save(
        &self,
        recording_id: &str,
        progress: &RecordingProgress,
    ) -> Option<bool> {
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut q = lock(&self.queue);
            q.waiting.push(Waiting {
                recording_id: recording_id.to_string(),
                progress: *progress,
                reply,
            });
            !std::mem::replace(&mut q.scheduled, true)
        };
        if first {
            // Its own task: a caller that stops waiting must not strand the others' saves.
            tokio::spawn(flush(
                self.queue.clone(),
                self.store.clone(),
                self.owner.clone(),
            ));
        }
        answer.await.ok().flatten()
    }
}

async fn flush(queue: Arc<Mutex<Queue>>, store: Arc<dyn Storage>, owner: String) {
    tokio::time::sleep(WINDOW).await;
    let waiting = {
        let mut q = lock(&queue);
        q.scheduled = false;
        std::mem::take(&mut q.waiting)
    };
    let batch: Vec<(String, RecordingProgress)> = waiting
        .iter()
        .map(|w| (w.recording_id.clone(), w.progress))
        .collect();
    match store
        .update_recordings_progress(&batch, &owner, Timestamp::now())
        .await
    {
        Ok(owned) if owned.len() == waiting.len() => {
            for (w, owned) in waiting.into_iter().zip(owned) {
                let _ = w.reply.send(Some(owned));
            }
        }
        Ok(owned) => {
            tracing::warn!(
                saves = waiting.len(),
                answers = owned.len(),
                "progress write answered for a different number of recordings"
            );
            for w in waiting {
                let _ = w.reply.send(None);
            }
        }
        Err(e) => {
            tracing::warn!(recordings = waiting.len(), error = %e, "could not save recording progress");
            for w in waiting {
                let _ = w.reply.send(None);
            }
        }
    }
}
