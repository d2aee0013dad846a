//! Retention (S7): which recordings to delete, by count, total size and age per channel, and
//! by free space on each library file system; a dry run that shows exactly what a run deletes.
//!
//! **Policies.** One global [`RetentionPolicy`] (stored in `app_state` under
//! `library.retention`) and an optional [`ChannelRetention`] override per channel. A field the
//! override sets replaces the global one for that channel's recordings; a field it leaves out
//! is inherited; `null` on a limit means "no limit" for that channel. `min_free_gb` is global
//! only: free space belongs to a file system, not to a channel.
//!
//! **Limits are per channel.** `max_count`, `max_total_gb` and `max_age_days` each apply to one
//! channel's recordings (the global policy is every channel's default). They count only what
//! retention could delete: a protected recording, or one not yet eligible, is neither counted
//! nor deleted.
//!
//! **Eligible** is a `ready` or `failed` recording that finished (the later of the stream's end
//! and finalize) more than `library.retention_grace_secs` (default 300) ago. Running, ended and
//! finalizing recordings are never candidates.
//!
//! **Protected** (kept, and listed with the reason): the user's keep flag; a favourite
//! channel's recordings when `keep_favourites`; any category the stream had matching
//! `keep_categories` (case-insensitive); a start inside one of `keep_windows` (UTC).
//!
//! **Order.** Per channel: age, then count (oldest beyond the newest `max_count`), then size
//! (oldest first until the rest fits). Then, per file system below `min_free_gb`: the oldest
//! eligible recordings of any channel until the projected free space reaches it. The dry run and
//! the real run call the same [`plan`] on the same inputs.
//!
//! The files: [`policy`] (what a policy says), [`store`] (where policies are kept),
//! [`planner`] (what to delete, pure) and [`runner`] (the run, the dry run and the job).

mod planner;
mod policy;
mod runner;
mod store;

pub use planner::{
    Candidate, KeptRecording, PlanInput, PlannedDeletion, RetentionPlan, RetentionRule, Volume,
    VolumePlan, plan,
};
pub use policy::{ChannelRetention, KeepWindow, PolicyError, RetentionPolicy};
pub use runner::{RETENTION_JOB, RetentionHandler, RetentionRun, task_defs};

#[cfg(test)]
mod tests;
