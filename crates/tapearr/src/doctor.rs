//! `tapearr doctor`: tools, database and disk, with a non-zero exit when something required
//! is missing.

use crate::app::tools_manager;
use anyhow::Result;
use tapearr_core::config::Config;
use tapearr_core::system::root_status;
use tapearr_db::Db;

pub async fn run(config: &Config) -> Result<bool> {
    let mut healthy = true;
    println!("Tapearr {}", env!("CARGO_PKG_VERSION"));
    println!("data_dir  {}", config.data_dir.display());
    println!();
    println!("Tools");
    for t in tools_manager(config).status().await {
        let path = t
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        match (&t.version, &t.error) {
            (Some(v), None) => println!("  ok       {:<11} {:<14} {path}", t.name, v),
            (_, err) => {
                let label = if t.required { "MISSING" } else { "missing" };
                healthy &= !t.required;
                println!(
                    "  {label:<8} {:<11} {}; {}",
                    t.name,
                    err.as_deref().unwrap_or("not usable"),
                    t.install_hint
                );
            }
        }
    }
    println!();
    println!("Database");
    match Db::connect(&config.database_url()).await {
        Ok(db) => {
            let backend = tapearr_core::storage::Storage::backend(&db);
            match db.schema_version().await {
                Ok(v) => {
                    let latest = tapearr_db::migrate::latest_version();
                    let note = if v == latest {
                        "up to date".to_string()
                    } else if v < latest {
                        format!("will migrate to {latest} at start")
                    } else {
                        healthy = false;
                        format!("NEWER than this binary ({latest})")
                    };
                    println!("  ok       {backend} schema v{v} ({note})");
                }
                Err(e) => {
                    healthy = false;
                    println!("  FAILED   {backend}: {e}");
                }
            }
            db.close().await;
        }
        Err(e) => {
            healthy = false;
            println!("  FAILED   {e}");
        }
    }
    println!();
    println!("Disk");
    let mut paths = vec![config.data_dir.clone()];
    paths.extend(config.library_roots.iter().cloned());
    if config.library_roots.is_empty() {
        println!("  note     no library_roots configured yet");
    }
    for p in paths {
        let s = root_status(p);
        match (s.free_bytes, s.error) {
            (Some(free), _) => println!(
                "  ok       {:<40} {} free",
                s.path.display(),
                human_bytes(free)
            ),
            (None, e) => {
                healthy = false;
                println!(
                    "  FAILED   {:<40} {}",
                    s.path.display(),
                    e.unwrap_or_default()
                );
            }
        }
    }
    println!();
    println!(
        "{}",
        if healthy {
            "All required checks passed."
        } else {
            "Some required checks FAILED."
        }
    );
    Ok(healthy)
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
