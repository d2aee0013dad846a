//! "Sign in with Twitch" by the device-code grant: Twitch gives a short code the user enters
//! on twitch.tv; meanwhile a task here polls Twitch (at the interval it asks for, slower when
//! told `slow_down`) until the user approves, declines, or the code expires. The device code
//! itself never leaves this module. One sign-in at a time; a new one replaces the old.

use super::{Streams, StreamsResult};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;
use tapearr_integrations::twitch::{DeviceCode, DevicePoll, UserAuthClient};
use tokio_util::sync::CancellationToken;

/// Followed-channel import needs this one.
const SCOPES: &[&str] = &["user:read:follows"];
/// Transient errors in a row (Twitch unreachable) before the sign-in gives up.
const MAX_FAILURES: u32 = 5;

/// Where the sign-in is; the web page polls it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SignInStatus {
    /// No sign-in was started (or it was cancelled).
    None,
    /// Waiting for the user to enter `user_code` at `verification_uri`.
    Pending {
        user_code: String,
        verification_uri: String,
        expires_at: Timestamp,
        interval_secs: u64,
    },
    SignedIn {
        login: String,
        expires_at: Option<Timestamp>,
    },
    /// The code expired before the user entered it.
    Expired,
    /// The user declined on twitch.tv.
    Denied,
    Failed {
        message: String,
    },
}

struct Current {
    /// Which sign-in the status belongs to: a replaced one's task must not overwrite it.
    generation: u64,
    status: SignInStatus,
    cancel: Option<CancellationToken>,
}

pub(crate) struct SignIns {
    current: Mutex<Current>,
}

impl Default for SignIns {
    fn default() -> Self {
        Self {
            current: Mutex::new(Current {
                generation: 0,
                status: SignInStatus::None,
                cancel: None,
            }),
        }
    }
}

impl SignIns {
    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the outcome of sign-in `generation` if it is still the current one.
    fn finish(&self, generation: u64, status: SignInStatus) {
        let mut current = self.lock();
        if current.generation == generation {
            current.status = status;
            current.cancel = None;
        }
    }
}

impl Streams {
    /// Asks Twitch for a code and starts waiting for the user to enter it.
    pub async fn start_sign_in(&self) -> StreamsResult<SignInStatus> {
        let auth = self.user_auth()?;
        let code = auth.start(SCOPES).await?;
        let expires_at = Timestamp::now().plus(Duration::from_secs(code.expires_in));
        let status = SignInStatus::Pending {
            user_code: code.user_code.clone(),
            verification_uri: code.verification_uri.clone(),
            expires_at,
            interval_secs: code.interval,
        };
        let cancel = self.inner.shutdown.child_token();
        let generation = {
            let mut current = self.inner.signins.lock();
            if let Some(old) = current.cancel.take() {
                old.cancel();
            }
            current.generation += 1;
            current.status = status.clone();
            current.cancel = Some(cancel.clone());
            current.generation
        };
        tracing::info!("Twitch sign-in started; waiting for the code to be entered");
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.wait_for_user(&auth, &code, expires_at, &cancel).await;
            if let Some(status) = outcome {
                this.inner.signins.finish(generation, status);
            }
        });
        Ok(status)
    }

    pub fn sign_in_status(&self) -> SignInStatus {
        self.inner.signins.lock().status.clone()
    }

    /// Stops waiting; the code is simply left to expire at Twitch.
    pub fn cancel_sign_in(&self) {
        let mut current = self.inner.signins.lock();
        if let Some(cancel) = current.cancel.take() {
            cancel.cancel();
        }
        current.generation += 1;
        current.status = SignInStatus::None;
    }

    /// Polls until the user answers or the code expires; `None` when cancelled.
    async fn wait_for_user(
        &self,
        auth: &UserAuthClient,
        code: &DeviceCode,
        expires_at: Timestamp,
        cancel: &CancellationToken,
    ) -> Option<SignInStatus> {
        let mut interval = Duration::from_secs(code.interval.max(1));
        let mut failures = 0;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = cancel.cancelled() => return None,
            }
            if Timestamp::now() >= expires_at {
                return Some(SignInStatus::Expired);
            }
            let tokens = match auth.poll(&code.device_code, SCOPES).await {
                Ok(DevicePoll::Pending) => {
                    failures = 0;
                    continue;
                }
                Ok(DevicePoll::SlowDown) => {
                    // RFC 8628 §3.5: five seconds more from now on.
                    interval += Duration::from_secs(5);
                    continue;
                }
                Ok(DevicePoll::Denied) => return Some(SignInStatus::Denied),
                Ok(DevicePoll::Expired) => return Some(SignInStatus::Expired),
                Ok(DevicePoll::Granted(tokens)) => tokens,
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "Twitch sign-in poll failed");
                    if failures >= MAX_FAILURES {
                        return Some(SignInStatus::Failed {
                            message: e.to_string(),
                        });
                    }
                    continue;
                }
            };
            if cancel.is_cancelled() {
                return None;
            }
            return Some(match self.store_signed_in(auth, &tokens).await {
                Ok(account) => {
                    tracing::info!(login = %account.login, "Twitch account signed in");
                    SignInStatus::SignedIn {
                        login: account.login,
                        expires_at: account.expires_at,
                    }
                }
                Err(e) => SignInStatus::Failed {
                    message: e.to_string(),
                },
            });
        }
    }
}
