//! The runner: reads the policies, the candidates and the free space, plans, and deletes the
//! plan's items one by one; the dry run stops after the plan. Also the periodic job.

use super::planner::{Candidate, PlanInput, PlannedDeletion, RetentionPlan, Volume, gib, plan};
use crate::jobs::{JobContext, JobError, JobHandler, TaskDef};
use crate::library::{DeleteReport, Library, LibraryError, LibraryResult};
use crate::streams::model::{Recording, RecordingStatus};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const RETENTION_JOB: &str = "library.retention";

pub fn task_defs() -> Vec<TaskDef> {
    vec![TaskDef {
        name: "retention",
        kind: RETENTION_JOB,
        description: "Delete the recordings the retention policies no longer keep, oldest first \
                      when free space is below the policy's min_free_gb",
        interval: Duration::from_secs(600),
        initial_delay: Duration::from_secs(90),
    }]
}

/// What a real run did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetentionRun {
    /// The plan's items that were deleted, in order.
    pub deleted: Vec<PlannedDeletion>,
    pub bytes_freed: u64,
    /// Items not deleted (gone meanwhile, or now recording) and files that could not be removed.
    pub errors: Vec<String>,
}

/// Runs are one at a time in this process: a periodic run and a user's run would otherwise
/// plan from the same rows and race on the deletes.
static RUN_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Library {
    /// The dry run: what [`Library::apply_retention`] would delete now. Changes nothing.
    pub async fn retention_preview(&self) -> LibraryResult<RetentionPlan> {
        self.retention_plan().await
    }

    /// The real run: plans exactly like the preview, then deletes the plan's items one by one
    /// (each with its reason in `recording.deleted`).
    pub async fn apply_retention(&self) -> LibraryResult<RetentionRun> {
        let _one_at_a_time = RUN_LOCK.lock().await;
        let plan = self.retention_plan().await?;
        let mut run = RetentionRun {
            deleted: Vec::new(),
            bytes_freed: 0,
            errors: Vec::new(),
        };
        for item in plan.delete {
            let reason = format!("retention: {}", item.reason);
            match self
                .delete_recordings(std::slice::from_ref(&item.recording_id), &reason)
                .await
            {
                Ok(DeleteReport {
                    bytes_freed,
                    errors,
                    ..
                }) => {
                    run.bytes_freed += bytes_freed;
                    run.errors.extend(errors);
                    run.deleted.push(item);
                }
                // Deleted by the user meanwhile, or recording again: skip it, go on.
                Err(e @ (LibraryError::NotFound | LibraryError::Conflict(_))) => {
                    run.errors.push(format!("{}: {e}", item.recording_id));
                }
                Err(e) => return Err(e),
            }
        }
        if !run.deleted.is_empty() {
            tracing::info!(
                deleted = run.deleted.len(),
                bytes = run.bytes_freed,
                "retention deleted recordings"
            );
        }
        Ok(run)
    }

    async fn retention_plan(&self) -> LibraryResult<RetentionPlan> {
        let global = self.retention_policy().await?;
        let channels = self.channel_overrides().await?;
        let volumes = self.volumes();
        let rows = self.inner.store.retention_candidates().await?;
        let categories = self.categories_of(rows.iter().map(|(r, _)| r)).await?;
        let candidates: Vec<Candidate> = rows
            .into_iter()
            .map(|(rec, favourite)| {
                let mut cats = categories
                    .get(rec.stream_id.as_deref().unwrap_or_default())
                    .cloned()
                    .unwrap_or_default();
                cats.push(rec.labels.category.clone());
                let volume = volume_of(&rec, &volumes);
                candidate(rec, favourite, cats, volume)
            })
            .collect();
        let volumes: Vec<Volume> = volumes.into_iter().map(|(_, v)| v).collect();
        Ok(plan(&PlanInput {
            candidates: &candidates,
            global: &global,
            channels: &channels,
            volumes: &volumes,
            now: Timestamp::now(),
            grace: Duration::from_secs(self.inner.config.library.retention_grace_secs),
        }))
    }

    /// Every category each stream had, from its events.
    async fn categories_of(
        &self,
        recs: impl Iterator<Item = &Recording>,
    ) -> LibraryResult<HashMap<String, Vec<String>>> {
        let mut streams: Vec<String> = recs.filter_map(|r| r.stream_id.clone()).collect();
        streams.sort();
        streams.dedup();
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        // Chunks keep the IN list well under both backends' bind limits.
        for chunk in streams.chunks(500) {
            for e in self.inner.store.list_events_of_streams(chunk).await? {
                if !e.category.is_empty() {
                    out.entry(e.stream_id).or_default().push(e.category);
                }
            }
        }
        Ok(out)
    }

    /// The library roots grouped by file system, with each one's free space. Roots whose free
    /// space cannot be read are left out (the low-space rule skips them).
    fn volumes(&self) -> Vec<(Vec<PathBuf>, Volume)> {
        use std::os::unix::fs::MetadataExt;
        let Ok(roots) = self.roots() else {
            return Vec::new();
        };
        let mut by_device: BTreeMap<u64, Vec<PathBuf>> = BTreeMap::new();
        for root in roots.roots() {
            if let Ok(meta) = std::fs::metadata(root) {
                by_device
                    .entry(meta.dev())
                    .or_default()
                    .push(root.to_path_buf());
            }
        }
        by_device
            .into_values()
            .filter_map(|paths| {
                let free = crate::files::free_space(paths.first()?).ok()?;
                let path = paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                Some((
                    paths,
                    Volume {
                        path,
                        free_bytes: free,
                    },
                ))
            })
            .collect()
    }
}

fn volume_of(rec: &Recording, volumes: &[(Vec<PathBuf>, Volume)]) -> Option<usize> {
    let path = Path::new(rec.library.video_path.as_deref().unwrap_or(&rec.dir));
    volumes
        .iter()
        .position(|(roots, _)| roots.iter().any(|root| path.starts_with(root)))
}

fn candidate(
    rec: Recording,
    favourite: bool,
    categories: Vec<String>,
    volume: Option<usize>,
) -> Candidate {
    // The later of the stream's end and finalize: either may still have a viewer or a scan.
    let finished_at = match (rec.ended_at, rec.library.finalized_at) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let bytes = match rec.status {
        RecordingStatus::Ready => rec.library.video_bytes.unwrap_or(rec.bytes),
        _ => rec.bytes,
    };
    Candidate {
        id: rec.id,
        channel_id: rec.channel_id,
        channel_login: rec.labels.channel_login,
        title: rec.labels.title,
        status: rec.status,
        keep: rec.library.keep,
        favourite,
        categories,
        bytes,
        started_at: rec.started_at,
        finished_at,
        volume,
    }
}

/// `library.retention`: one real run.
pub struct RetentionHandler(pub Library);

#[async_trait]
impl JobHandler for RetentionHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let run = self.0.apply_retention().await.map_err(|e| match e {
            LibraryError::Invalid(m) => JobError::Permanent(m),
            other => JobError::Retryable(other.to_string()),
        })?;
        let mut message = format!(
            "{} deleted, {} GiB freed",
            run.deleted.len(),
            gib(run.bytes_freed)
        );
        if !run.errors.is_empty() {
            message.push_str(&format!(
                "; {} problems: {}",
                run.errors.len(),
                run.errors.join("; ")
            ));
        }
        ctx.set_progress(1.0, Some(message)).await;
        Ok(())
    }
}
