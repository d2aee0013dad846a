//! The durable job queue (C4) and the periodic-task scheduler (C5).
//!
//! Jobs live in the database, not in memory: a claim is atomic across processes, a running job
//! holds a lease it renews by heartbeat, and a lease that expires (the process died) puts the
//! job back in the queue.

pub mod builtin;
pub mod kind;
pub mod model;
pub mod pending;
pub mod queue;
pub mod runner;
pub mod scheduler;

pub use kind::JobKind;
pub use queue::{EnqueueOptions, JobQueue, QueueError};
pub use runner::{JobContext, JobError, JobHandler, JobRegistry, JobRunner};
pub use scheduler::{Scheduler, TaskDef};
