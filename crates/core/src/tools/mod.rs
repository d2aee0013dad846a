//! Tools (C7): supervised child processes and the tools virtualenv.

mod error;
mod lines;
mod process;

#[cfg(test)]
mod process_tests;

pub use error::{ProcessError, ToolsError};
pub use process::{GracefulStop, Process, ProcessOutput, Stream};
