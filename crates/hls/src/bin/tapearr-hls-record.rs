//! Records one or many HLS URLs in one process; used by the crash test and the B1 benchmark.
//!
//! `tapearr-hls-record [--events] [--multi] [--quality Q] [--duration SECS] [--backend native|streamlink]
//!  --output DIR/NAME.ts URL...`
//!
//! With one URL (and no `--multi`) it runs [`tapearr_hls::record`] and prints the summary. With several, all are
//! recorded concurrently by one shared [`NativeRecorder`] into `DIR/NAME-<i>.part*` and a
//! `TOTAL written=… missed=… ads=… bytes=…` line is printed at the end.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tapearr_hls::{
    Backend, LiveOptions, NativeRecorder, OutputPlan, RecordOptions, RecordRequest, Recorder,
    RecorderEvent, record,
};

struct Args {
    events: bool,
    multi: bool,
    quality: String,
    duration: Option<Duration>,
    backend: Backend,
    output: PathBuf,
    urls: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        events: false,
        multi: false,
        quality: "best".into(),
        duration: None,
        backend: Backend::Native,
        output: PathBuf::from("recording.ts"),
        urls: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--events" => a.events = true,
            "--multi" => a.multi = true,
            "--quality" => a.quality = value()?,
            "--duration" => {
                let v = value()?;
                let secs: f64 = v.parse().map_err(|e| format!("bad duration {v}: {e}"))?;
                a.duration = Some(Duration::from_secs_f64(secs.max(0.0)));
            }
            "--backend" => a.backend = value()?.parse()?,
            "--output" => a.output = PathBuf::from(value()?),
            url if !url.starts_with("--") => a.urls.push(url.to_owned()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.urls.is_empty() {
        return Err("no URL given".into());
    }
    Ok(a)
}

fn print_event(e: &RecorderEvent) {
    match e {
        RecorderEvent::SegmentWritten { sequence, part, .. } => {
            println!("segment {sequence} part {part}")
        }
        other => println!("{other:?}"),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tapearr-hls-record: {e}");
            return ExitCode::from(2);
        }
    };
    if args.urls.len() == 1 && !args.multi {
        let mut opts = RecordOptions::new(args.urls[0].clone(), args.output.clone());
        opts.quality = args.quality;
        opts.duration = args.duration;
        opts.backend = args.backend;
        if args.events {
            opts.on_event = Some(Arc::new(print_event));
        }
        return match record(opts).await {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tapearr-hls-record: {e}");
                ExitCode::FAILURE
            }
        };
    }
    many(args).await
}

/// Many concurrent recordings in this one process.
async fn many(args: Args) -> ExitCode {
    let recorder = match NativeRecorder::with_options(LiveOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tapearr-hls-record: {e}");
            return ExitCode::FAILURE;
        }
    };
    let plan = OutputPlan::from_path(&args.output);
    let handles: Vec<_> = args
        .urls
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let mut req = RecordRequest::new(
                url.clone(),
                OutputPlan::new(plan.dir.clone(), format!("{}-{i}", plan.stem)),
            );
            req.quality = args.quality.parse().unwrap_or_default();
            let mut handle = recorder.start(req);
            let stop = handle.stop_token();
            let task = tokio::spawn(async move {
                // Drain events so they do not pile up; the totals come from the outcome.
                while handle.next_event().await.is_some() {}
                handle.wait().await
            });
            (stop, task)
        })
        .collect();
    match args.duration {
        Some(d) => {
            tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    for (stop, _) in &handles {
        stop.cancel();
    }
    let (mut written, mut missed, mut ads, mut bytes, mut failed) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for (_, task) in handles {
        match task.await {
            Ok(Ok(s)) => {
                written += s.segments_written;
                missed += s.segments_missed;
                ads += s.ad_segments;
                bytes += s.bytes;
            }
            Ok(Err(f)) => {
                let s = f.stats;
                eprintln!("recording failed: {}", f.reason);
                written += s.segments_written;
                missed += s.segments_missed;
                failed += 1;
            }
            Err(e) => {
                eprintln!("recording task failed: {e}");
                failed += 1;
            }
        }
    }
    println!(
        "TOTAL streams={} written={written} missed={missed} ads={ads} bytes={bytes} failed={failed}",
        args.urls.len()
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
