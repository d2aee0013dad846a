//! Which recordings a kind of job is about to work on: what the self-healing scans (finalize
//! orphans, stuck VOD downloads) compare against before queuing a job again.

use super::model::{JobQuery, JobStatus};
use crate::storage::{JobStore, PageRequest, StorageResult};
use std::collections::HashSet;

/// The `recording_id`s of the `kind` jobs that are queued or running, every page read.
pub async fn pending_recordings(
    store: &dyn JobStore,
    kind: &str,
) -> StorageResult<HashSet<String>> {
    let mut pending = HashSet::new();
    for status in [JobStatus::Queued, JobStatus::Running] {
        let mut page = PageRequest::new(Some(PageRequest::MAX_LIMIT), None);
        loop {
            let jobs = store
                .list_jobs(&JobQuery {
                    status: Some(status),
                    kind: Some(kind.to_string()),
                    page,
                    ..JobQuery::default()
                })
                .await?;
            pending.extend(
                jobs.items
                    .iter()
                    .filter_map(|j| j.payload["recording_id"].as_str().map(str::to_string)),
            );
            page.offset += page.limit;
            if jobs.items.is_empty() || u64::from(page.offset) >= jobs.total {
                break;
            }
        }
    }
    Ok(pending)
}
