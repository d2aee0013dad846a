//! plex.tv's PIN sign-in, the flow Plex's own apps use instead of asking for an `X-Plex-Token`:
//! create a pin (`POST /api/v2/pins?strong=true`), send the user to
//! `app.plex.tv/auth#?clientID=…&code=…`, read the pin (`GET /api/v2/pins/{id}`) until its
//! `authToken` is set, then list the account's servers (`GET /api/v2/resources`). The base URL
//! is configurable so tests use `tapearr_testkit::plex_tv`.

use super::{ServerError, answer_error, endpoint, json_capped, network_error};
use serde::Deserialize;

pub const PLEX_TV: &str = "https://plex.tv";
pub const PLEX_APP: &str = "https://app.plex.tv";
const PRODUCT: &str = "Tapearr";

/// plex.tv for one installation (`client_id`: a stable id of this Tapearr, which plex.tv ties
/// its pins to).
#[derive(Clone)]
pub struct PlexTv {
    http: reqwest::Client,
    base: String,
    app: String,
    client_id: String,
}

/// A new pin: show `code`'s sign-in page (`auth_url`) to the user.
#[derive(Debug, Clone)]
pub struct Pin {
    pub id: u64,
    pub code: String,
    /// Seconds the pin stays valid.
    pub expires_in: u64,
    pub auth_url: String,
}

/// Where a pin stands.
pub enum PinState {
    /// The user has not signed in yet.
    Waiting { expires_in: u64 },
    /// The account's token (seal it; never show it).
    SignedIn { token: String },
    /// Unknown, expired or another client's: start again.
    Gone,
}

impl std::fmt::Debug for PinState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinState::Waiting { expires_in } => write!(f, "Waiting({expires_in}s)"),
            PinState::SignedIn { .. } => f.write_str("SignedIn(<token>)"),
            PinState::Gone => f.write_str("Gone"),
        }
    }
}

/// A Plex Media Server on the account.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlexServer {
    pub name: String,
    pub client_identifier: String,
    pub owned: bool,
    /// Its addresses, local ones first.
    pub connections: Vec<PlexConnection>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PlexConnection {
    pub uri: String,
    pub local: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PinWire {
    id: u64,
    code: String,
    #[serde(default)]
    expires_in: u64,
    #[serde(default)]
    auth_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceWire {
    #[serde(default)]
    name: String,
    #[serde(default)]
    client_identifier: String,
    #[serde(default)]
    provides: String,
    #[serde(default)]
    owned: bool,
    #[serde(default)]
    connections: Vec<ConnectionWire>,
}

#[derive(Deserialize)]
struct ConnectionWire {
    uri: String,
    #[serde(default)]
    local: bool,
}

impl PlexTv {
    pub fn new(http: reqwest::Client, base: &str, app: &str, client_id: &str) -> PlexTv {
        PlexTv {
            http,
            base: base.trim_end_matches('/').to_string(),
            app: app.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, endpoint(&self.base, path))
            .header("Accept", "application/json")
            .header("X-Plex-Product", PRODUCT)
            .header("X-Plex-Client-Identifier", &self.client_id)
    }

    /// A new strong pin (plex.tv: valid 30 minutes).
    pub async fn create_pin(&self) -> Result<Pin, ServerError> {
        let response = self
            .request(reqwest::Method::POST, "/api/v2/pins?strong=true")
            .send()
            .await
            .map_err(|e| network_error("plex.tv", e))?;
        if !response.status().is_success() {
            return Err(answer_error("plex.tv", &response));
        }
        let pin: PinWire = json_capped("plex.tv", response).await?;
        Ok(Pin {
            auth_url: self.auth_url(&pin.code),
            id: pin.id,
            code: pin.code,
            expires_in: pin.expires_in,
        })
    }

    /// The page where the user signs in and approves this pin.
    pub fn auth_url(&self, code: &str) -> String {
        let q = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "{}/auth#?clientID={}&code={}&context%5Bdevice%5D%5Bproduct%5D={PRODUCT}",
            self.app,
            q(&self.client_id),
            q(code)
        )
    }

    /// Reads the pin once (the caller polls, every few seconds).
    pub async fn pin(&self, id: u64) -> Result<PinState, ServerError> {
        let response = self
            .request(reqwest::Method::GET, &format!("/api/v2/pins/{id}"))
            .send()
            .await
            .map_err(|e| network_error("plex.tv", e))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(PinState::Gone);
        }
        if !response.status().is_success() {
            return Err(answer_error("plex.tv", &response));
        }
        let pin: PinWire = json_capped("plex.tv", response).await?;
        Ok(match pin.auth_token.filter(|t| !t.is_empty()) {
            Some(token) => PinState::SignedIn { token },
            None => PinState::Waiting {
                expires_in: pin.expires_in,
            },
        })
    }

    /// The Plex Media Servers of the account behind `token` (players and other devices left
    /// out), local connections first.
    pub async fn servers(&self, token: &str) -> Result<Vec<PlexServer>, ServerError> {
        let response = self
            .request(
                reqwest::Method::GET,
                "/api/v2/resources?includeHttps=1&includeRelay=1",
            )
            .header("X-Plex-Token", token)
            .send()
            .await
            .map_err(|e| network_error("plex.tv", e))?;
        if !response.status().is_success() {
            return Err(answer_error("plex.tv", &response));
        }
        let all: Vec<ResourceWire> = json_capped("plex.tv", response).await?;
        Ok(all
            .into_iter()
            .filter(|r| r.provides.split(',').any(|p| p.trim() == "server"))
            .map(|r| {
                let mut connections: Vec<PlexConnection> = r
                    .connections
                    .into_iter()
                    .map(|c| PlexConnection {
                        uri: c.uri,
                        local: c.local,
                    })
                    .collect();
                connections.sort_by_key(|c| !c.local);
                PlexServer {
                    name: r.name,
                    client_identifier: r.client_identifier,
                    owned: r.owned,
                    connections,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tapearr_testkit::plex_tv::{FakePlexTv, PlexServerEntry};

    fn http() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    fn client(fake: &FakePlexTv, id: &str) -> PlexTv {
        PlexTv::new(http(), &fake.url(), PLEX_APP, id)
    }

    #[tokio::test]
    async fn a_pin_waits_until_the_user_signs_in_then_lists_the_accounts_servers() {
        let fake = FakePlexTv::start().await.expect("fake plex.tv");
        let plex = client(&fake, "tapearr-install-1");
        let pin = plex.create_pin().await.expect("pin");
        assert_eq!(pin.code.len(), 25, "a strong pin");
        assert!(pin.expires_in > 0 && pin.expires_in <= 1800, "{pin:?}");
        assert_eq!(
            pin.auth_url,
            format!(
                "https://app.plex.tv/auth#?clientID=tapearr-install-1&code={}&context%5Bdevice%5D%5Bproduct%5D=Tapearr",
                pin.code
            )
        );
        assert!(matches!(
            plex.pin(pin.id).await.expect("read"),
            PinState::Waiting { .. }
        ));
        // Another installation cannot read this pin (plex.tv ties it to the client id).
        assert!(matches!(
            client(&fake, "someone-else")
                .pin(pin.id)
                .await
                .expect("read"),
            PinState::Gone
        ));

        fake.set_servers(
            "account-token",
            vec![PlexServerEntry {
                name: "Attic".into(),
                client_identifier: "srv-1".into(),
                connections: vec![
                    ("https://203-0-113-7.srv1.plex.direct:32400".into(), false),
                    ("http://192.168.1.10:32400".into(), true),
                ],
            }],
        );
        assert!(fake.sign_in(&pin.code, "account-token"));
        let PinState::SignedIn { token } = plex.pin(pin.id).await.expect("read") else {
            panic!("the pin should carry the token now");
        };
        assert_eq!(token, "account-token");
        let servers = plex.servers(&token).await.expect("servers");
        assert_eq!(servers.len(), 1, "the player is not a server: {servers:?}");
        assert_eq!(servers[0].name, "Attic");
        assert_eq!(
            servers[0].connections[0].uri, "http://192.168.1.10:32400",
            "local first"
        );
        let refused = plex.servers("wrong").await.expect_err("a wrong token");
        assert!(
            refused.to_string().contains("refused the token"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn an_expired_or_unknown_pin_is_gone() {
        let fake = FakePlexTv::start().await.expect("fake plex.tv");
        let plex = client(&fake, "tapearr-install-2");
        assert!(matches!(plex.pin(42).await.expect("read"), PinState::Gone));
        fake.set_pin_lifetime(Duration::ZERO);
        let pin = plex.create_pin().await.expect("pin");
        assert!(matches!(
            plex.pin(pin.id).await.expect("read"),
            PinState::Gone
        ));
        assert!(
            !fake.sign_in(&pin.code, "late"),
            "an expired pin cannot be signed in"
        );
    }

    #[tokio::test]
    async fn plex_tv_down_is_an_error_that_can_be_retried() {
        let dead = PlexTv::new(http(), "http://127.0.0.1:9", PLEX_APP, "x");
        assert!(matches!(
            dead.create_pin().await,
            Err(ServerError::Retryable(_))
        ));
    }
}
