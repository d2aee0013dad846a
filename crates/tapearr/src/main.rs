//! The `tapearr` binary: one server for recording live streams and fetching trailers.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tapearr::{admin, app, doctor, import_cmd, record_cmd, serve};
use tapearr_core::config::Config;

#[derive(Parser)]
#[command(
    name = "tapearr",
    version,
    about = "Records live streams and finds trailers for your Plex/Jellyfin/Emby/Kodi library.",
    long_about = "Records live streams and finds trailers for your Plex/Jellyfin/Emby/Kodi library.\n\n\
        Configuration: defaults, then <data_dir>/tapearr.toml, then TAPEARR_* environment variables \
        (TAPEARR_LOG__LEVEL=debug sets log.level). See docs/configuration.md."
)]
struct Cli {
    /// Data directory (database, logs, tools, caches). Overrides TAPEARR_DATA_DIR.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: web app, API, jobs and scheduler (the default).
    Serve,
    /// Apply database migrations and exit (serve does this at start too).
    Migrate,
    /// Manage the admin account.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Check tools, database and disk; exits non-zero when something required is missing.
    Doctor,
    /// Install or update yt-dlp, streamlink and apprise in <data_dir>/tools/venv.
    #[command(subcommand)]
    Tools(ToolsCommand),
    /// Record a live HLS stream to disk and print a summary.
    Record(record_cmd::RecordArgs),
    /// Print the OpenAPI document (JSON) of this binary's API.
    Openapi,
    /// Switch from Trailarr or StreamVault: import their settings, history and recordings (the
    /// source is only read).
    #[command(subcommand)]
    Import(import_cmd::ImportCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create the admin account (first run). Reads the password from stdin unless --password.
    Create {
        #[arg(long)]
        username: String,
        /// Visible to other local users in `ps`; prefer stdin.
        #[arg(long)]
        password: Option<String>,
    },
    /// Set a new password and log out that user's sessions.
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key and print it once.
    Create {
        #[arg(long)]
        name: String,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum ToolsCommand {
    /// Create the virtualenv and install the pinned versions (no-op when already there).
    Install,
    /// Upgrade the tools to their latest releases.
    Update,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // reqwest and friends use rustls with the ring provider (no C build of aws-lc).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tapearr: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tapearr: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(Command::Openapi) = cli.command {
        println!(
            "{}",
            serde_json::to_string_pretty(&tapearr_api::openapi_document())?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(cli.data_dir.as_deref())?;
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Serve = command {
        let (logs, _guard) = tapearr_core::logs::init(&config.log, &config.logs_dir())
            .map_err(anyhow::Error::msg)?;
        serve::run(config, logs).await?;
        return Ok(ExitCode::SUCCESS);
    }
    init_cli_logging(&config);
    match command {
        Command::Serve | Command::Openapi => unreachable!("handled above"),
        Command::Record(args) => return record_cmd::run(args, &config).await,
        Command::Doctor => {
            return Ok(if doctor::run(&config).await? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Tools(cmd) => {
            let tools = app::tools_manager(&config);
            let cancel = tokio_util::sync::CancellationToken::new();
            match cmd {
                ToolsCommand::Install => {
                    let installed = tools.ensure_installed(&cancel).await?;
                    println!(
                        "{}",
                        if installed {
                            "tools installed"
                        } else {
                            "tools already installed"
                        }
                    );
                }
                ToolsCommand::Update => {
                    for u in tools.update(&cancel).await? {
                        println!(
                            "{:<11} {} → {}{}",
                            u.package,
                            u.old.as_deref().unwrap_or("none"),
                            u.new.as_deref().unwrap_or("none"),
                            u.rolled_back
                                .as_deref()
                                .map(|why| format!(
                                    " (the new one failed its self-check: {why}; rolled back)"
                                ))
                                .unwrap_or_default()
                        );
                    }
                }
            }
        }
        Command::Migrate => {
            let app = app::App::open(config).await?;
            println!("database at schema v{}", app.db.schema_version().await?);
            app.db.close().await;
        }
        Command::User(cmd) => {
            let app = app::App::open(config).await?;
            match cmd {
                UserCommand::Create { username, password } => {
                    admin::create_user(&app, &username, &admin::read_password(password)?).await?
                }
                UserCommand::ResetPassword { username, password } => {
                    admin::reset_password(&app, &username, &admin::read_password(password)?).await?
                }
            }
            app.db.close().await;
        }
        Command::Import(cmd) => {
            let app = app::App::open(config).await?;
            let report = import_cmd::run(&app, cmd).await;
            app.db.close().await;
            print!("{}", report?.to_text());
        }
        Command::Apikey(cmd) => {
            let app = app::App::open(config).await?;
            match cmd {
                ApikeyCommand::Create { name } => admin::create_key(&app, &name).await?,
                ApikeyCommand::List => admin::list_keys(&app).await?,
                ApikeyCommand::Revoke { id } => admin::revoke_key(&app, &id).await?,
            }
            app.db.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Admin commands log warnings and errors to stderr only; their output is for people.
fn init_cli_logging(config: &Config) {
    let filter = tracing_subscriber_filter(&config.log.level);
    let _ = tracing::subscriber::set_global_default(tapearr_core::logs::stderr_subscriber(&filter));
}

fn tracing_subscriber_filter(level: &str) -> String {
    if level.contains("debug") || level.contains("trace") {
        level.to_string()
    } else {
        "warn".to_string()
    }
}
