//! `tapearr record`: records one HLS URL (or any streamlink URL) to parts and prints a summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use tapearr_core::config::Config;
use tapearr_hls::{Backend, RecordOptions, record};

#[derive(clap::Args)]
pub struct RecordArgs {
    /// Master or media playlist URL (native), or any URL streamlink knows (streamlink backend).
    url: String,
    /// Output path; parts are written as <dir>/<name>.part0001.ts (or .mp4 for fMP4 streams).
    #[arg(long, short)]
    output: PathBuf,
    /// Quality, with comma-separated fallbacks: best, worst, 1080p60, 720p, audio_only.
    #[arg(long, default_value = "best")]
    quality: String,
    /// Stop after this many seconds (default: until the stream ends or Ctrl-C).
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
    /// native (default) or streamlink.
    #[arg(long, default_value = "native")]
    backend: String,
}

pub async fn run(args: RecordArgs, config: &Config) -> Result<ExitCode> {
    let backend: Backend = args.backend.parse().map_err(anyhow::Error::msg)?;
    let mut opts = RecordOptions::new(args.url, args.output);
    opts.quality = args.quality;
    opts.duration = args.duration.map(Duration::from_secs);
    opts.backend = backend;
    // $TAPEARR_STREAMLINK wins (read by the backend); else the managed venv when present.
    let managed = crate::app::tools_manager(config).tool_path(&tapearr_core::tools::STREAMLINK);
    if std::env::var_os("TAPEARR_STREAMLINK").is_none() && managed.exists() {
        opts.streamlink = Some(managed);
    }
    let summary = record(opts).await?;
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}
