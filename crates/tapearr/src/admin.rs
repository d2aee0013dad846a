//! `tapearr user …` and `tapearr apikey …`.

use crate::app::App;
use anyhow::{Context, Result, bail};
use std::io::BufRead;

/// The password from `--password`, else one line of stdin.
pub fn read_password(flag: Option<String>) -> Result<String> {
    if let Some(p) = flag {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password given: pass --password or pipe it on stdin");
    }
    Ok(password)
}

pub async fn create_user(app: &App, username: &str, password: &str) -> Result<()> {
    let user = app.auth.create_admin(username, password).await?;
    println!("created admin {}", user.username);
    Ok(())
}

pub async fn reset_password(app: &App, username: &str, password: &str) -> Result<()> {
    app.auth.reset_password(username, password).await?;
    println!("password reset for {username}; its sessions were logged out");
    Ok(())
}

pub async fn create_key(app: &App, name: &str) -> Result<()> {
    let (key, secret) = app.auth.create_api_key(name).await?;
    println!("created API key {} ({})", key.name, key.id);
    println!("{secret}");
    eprintln!("store it now: it is not shown again");
    Ok(())
}

pub async fn list_keys(app: &App) -> Result<()> {
    let keys = app.auth.list_api_keys().await?;
    if keys.is_empty() {
        println!("no API keys");
    }
    for k in keys {
        let state = if k.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        };
        let used = k.last_used_at.map_or_else(
            || "never used".to_string(),
            |t| format!("last used {}", t.millis()),
        );
        println!("{}  {:<24} {}…  {state}  {used}", k.id, k.name, k.prefix);
    }
    Ok(())
}

pub async fn revoke_key(app: &App, id: &str) -> Result<()> {
    let key = app.auth.revoke_api_key(id).await?;
    println!("revoked {} ({})", key.name, key.id);
    Ok(())
}
