//! A local live HLS origin for tests and benchmarks.
//!
//! Segments are encoded once with ffmpeg ([`media`]) and cached; each channel then serves a
//! sliding live window computed from the wall clock ([`channel`]), with Twitch-style stitched
//! ads and fault injection ([`faults`]). Hundreds of channels cost almost nothing.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use tapearr_testkit::hls_origin::{ChannelSpec, Container, HlsOrigin, MediaParams};
//! let origin = HlsOrigin::start().await?;
//! let spec = ChannelSpec::new(MediaParams::test(Container::Ts)).window(5);
//! origin.add_channel("demo", spec.build().await?);
//! println!("{}", origin.master_url("demo"));
//! # Ok(()) }
//! ```

pub mod channel;
pub mod faults;
pub mod media;
mod server;
mod spec;
pub(crate) mod time_fmt;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

pub use channel::{AdBreak, ChannelConfig, StatsSnapshot, VariantConfig};
pub use faults::{ALWAYS, Fault};
pub use media::{Container, MediaError, MediaParams, MediaSet, VideoCodec};
pub use spec::ChannelSpec;

use channel::Channel;

/// A running origin on `127.0.0.1:<random port>`; stops when dropped.
pub struct HlsOrigin {
    addr: SocketAddr,
    channels: server::Channels,
    _shutdown: crate::serve::StopOnDrop,
}

impl HlsOrigin {
    pub async fn start() -> std::io::Result<Self> {
        Self::bind("127.0.0.1:0").await
    }

    pub async fn bind(addr: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let channels: server::Channels = Arc::new(RwLock::new(HashMap::new()));
        let app = server::router(channels.clone());
        Ok(Self {
            addr,
            channels,
            _shutdown: crate::serve::spawn(listener, app, "hls origin"),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds (or replaces) a channel; its timeline starts now with a full window.
    pub fn add_channel(&self, name: &str, config: ChannelConfig) {
        let channel = Arc::new(Channel::new(config));
        self.channels_mut().insert(name.to_owned(), channel);
    }

    /// Removes a channel (its URLs answer 404 from now on): the stream ended.
    pub fn remove_channel(&self, name: &str) {
        self.channels_mut().remove(name);
    }

    fn channels_mut(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Channel>>> {
        // A panic while holding the lock only happens in a failing test; keep serving.
        self.channels.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn master_url(&self, channel: &str) -> String {
        format!("http://{}/{channel}/master.m3u8", self.addr)
    }

    pub fn media_url(&self, channel: &str, variant: &str) -> String {
        format!("http://{}/{channel}/{variant}/index.m3u8", self.addr)
    }

    /// Request counters of a channel.
    pub fn stats(&self, channel: &str) -> Option<StatsSnapshot> {
        let map = self.channels.read().ok()?;
        map.get(channel).map(|c| c.stats.snapshot())
    }
}
