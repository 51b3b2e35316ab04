//! Every outgoing GET (actors, keys, objects, WebFinger) goes through one
//! guarded client: signed as the instance actor, with timeouts, a response
//! size cap, a redirect limit, a content-type check, and an SSRF guard that
//! refuses loopback, private, link-local and other internal addresses in
//! production mode (allowed only when the public URL is `http://`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use serde_json::Value;
use url::Url;

use crate::config::{Config, Mode};
use crate::keys::InstanceKeys;
use crate::signatures;

/// Largest document we read from a peer.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
const MAX_REDIRECTS: usize = 3;
const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const USER_AGENT: &str = concat!("rosefed/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused to fetch {0}: {1}")]
    Refused(String, &'static str),
    #[error("{0} answered HTTP {1}")]
    Status(String, u16),
    #[error("{0} sent more than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge(String),
    #[error("{0} did not answer with ActivityStreams JSON (content-type '{1}')")]
    ContentType(String, String),
    #[error("{0}: {1}")]
    Network(String, String),
    #[error("{0} sent an unreadable document: {1}")]
    Invalid(String, String),
}

/// `host[:port]` of a URL, as in a Host header and the `hosts` table.
pub fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// [`authority`] of a URL string, if it parses and has a host.
pub fn authority_of(url: &str) -> Option<String> {
    Url::parse(url)
        .ok()
        .filter(|u| u.host_str().is_some())
        .map(|u| authority(&u))
}

/// Whether an address is one a production hub must never connect to.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // CGNAT 100.64/10
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19)) // benchmarking
                || o[0] >= 224 // multicast and reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link local fe80::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] & 0xffc0) == 0xfec0 // deprecated site local fec0::/10
                // Addresses that carry or reach an IPv4 address by a
                // transition mechanism: NAT64 (well-known and local-use
                // prefixes), 6to4, Teredo, and IPv4-compatible ::a.b.c.d.
                // A public fediverse server is never reachable only so, and
                // the IPv4 behind them could be anything, internal included.
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 64:ff9b::/96, 64:ff9b:1::/48
                || s[0] == 0x2002 // 6to4 2002::/16
                || (s[0] == 0x2001 && s[1] == 0x0000) // Teredo 2001::/32
                || s[..6] == [0; 6] // IPv4-compatible ::/96
        }
    }
}

/// Checks scheme and literal-IP hosts before any connection. Names are
/// checked after resolution by [`GuardedResolver`].
pub fn check_url(mode: Mode, url: &Url) -> Result<(), FetchError> {
    let refused = |why| FetchError::Refused(url.to_string(), why);
    match (mode, url.scheme()) {
        (_, "https") | (Mode::Development, "http") => {}
        (Mode::Production, "http") => {
            return Err(refused("plain http is not allowed in production"))
        }
        _ => return Err(refused("only http(s) URLs are fetched")),
    }
    if mode == Mode::Production {
        match url.host() {
            Some(url::Host::Ipv4(ip)) if is_internal(IpAddr::V4(ip)) => {
                return Err(refused("internal address"))
            }
            Some(url::Host::Ipv6(ip)) if is_internal(IpAddr::V6(ip)) => {
                return Err(refused("internal address"))
            }
            Some(url::Host::Domain(d))
                if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") =>
            {
                return Err(refused("internal address"))
            }
            None => return Err(refused("no host")),
            _ => {}
        }
    }
    Ok(())
}

/// DNS resolution that drops internal addresses (production mode), so a
/// public name pointing at 127.0.0.1 or 169.254.169.254 is refused too.
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_internal(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves only to internal addresses").into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The guarded, signing HTTP client.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    delivery: reqwest::Client,
    mode: Mode,
    keys: Arc<InstanceKeys>,
    key_id: String,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    pub fn new(config: &Config, keys: Arc<InstanceKeys>) -> Result<Fetcher, String> {
        let mode = config.mode;
        // reqwest's rustls needs a process-wide crypto provider; installing
        // it twice (a second hub in one test process) is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            // A system proxy would resolve names itself, past the guard.
            .no_proxy()
            .user_agent(USER_AGENT)
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(Policy::custom(move |attempt| {
                // A document's origin vouches for it: a redirect to another
                // origin would let one site answer for another.
                let same_origin = attempt
                    .previous()
                    .first()
                    .is_some_and(|first| first.origin() == attempt.url().origin());
                if attempt.previous().len() >= MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if !same_origin {
                    attempt.error("redirect to another origin")
                } else if let Err(e) = check_url(mode, attempt.url()) {
                    attempt.error(e.to_string())
                } else {
                    attempt.follow()
                }
            }));
        // Deliveries never follow redirects: a 302 would turn the POST into
        // a GET whose 200 would be mistaken for a delivery.
        let mut delivery = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .no_proxy()
            .redirect(Policy::none());
        if mode == Mode::Production {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
            delivery = delivery.dns_resolver(Arc::new(GuardedResolver));
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        let delivery = delivery.build().map_err(|e| e.to_string())?;
        Ok(Fetcher {
            client,
            delivery,
            mode,
            keys,
            key_id: format!("{}#main-key", config.instance_actor_id()),
        })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The client for deliveries: the same guard, no redirects. Deliveries
    /// sign their own POSTs.
    pub fn delivery_client(&self) -> &reqwest::Client {
        &self.delivery
    }

    /// GETs an ActivityStreams document with a signed request (authorized
    /// fetch), enforcing the guard, the size cap and the media type.
    pub async fn get_activity_json(&self, url: &str) -> Result<Value, FetchError> {
        let parsed = Url::parse(url).map_err(|e| FetchError::Invalid(url.into(), e.to_string()))?;
        check_url(self.mode, &parsed)?;
        let signed = signatures::sign(
            &self.keys,
            &self.key_id,
            "GET",
            &parsed,
            None,
            SystemTime::now(),
        )
        .map_err(|e| FetchError::Network(url.into(), e.to_string()))?;
        let mut request = self.client.get(parsed.clone()).header(
            "accept",
            "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
        );
        for (name, value) in signed {
            if name != "host" {
                request = request.header(name, value);
            }
        }
        let response = request
            .send()
            .await
            .map_err(|e| FetchError::Network(url.into(), e.to_string()))?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !response.status().is_success() {
            return Err(FetchError::Status(url.into(), response.status().as_u16()));
        }
        if !(content_type.starts_with("application/activity+json")
            || content_type.starts_with("application/ld+json"))
        {
            return Err(FetchError::ContentType(url.into(), content_type));
        }
        let body = read_capped(url, response).await?;
        serde_json::from_slice(&body).map_err(|e| FetchError::Invalid(url.into(), e.to_string()))
    }

    /// Resolves `@user@host` (or `user@host`) to an actor id by WebFinger.
    pub async fn webfinger(&self, handle: &str) -> Result<String, FetchError> {
        let account = handle.trim().trim_start_matches('@');
        let (_, host) = account.rsplit_once('@').ok_or_else(|| {
            FetchError::Invalid(handle.into(), "not of the form @user@host".into())
        })?;
        let scheme = match self.mode {
            Mode::Development => "http",
            Mode::Production => "https",
        };
        let mut url = Url::parse(&format!("{scheme}://{host}/.well-known/webfinger"))
            .map_err(|e| FetchError::Invalid(handle.into(), e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("resource", &format!("acct:{account}"));
        check_url(self.mode, &url)?;
        let response = self
            .client
            .get(url.clone())
            .header("accept", "application/jrd+json, application/json")
            .send()
            .await
            .map_err(|e| FetchError::Network(url.to_string(), e.to_string()))?;
        if !response.status().is_success() {
            return Err(FetchError::Status(
                url.to_string(),
                response.status().as_u16(),
            ));
        }
        let body = read_capped(url.as_str(), response).await?;
        let jrd: Value = serde_json::from_slice(&body)
            .map_err(|e| FetchError::Invalid(url.to_string(), e.to_string()))?;
        jrd["links"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| {
                l["rel"] == "self"
                    && l["type"].as_str().is_some_and(|t| {
                        t.starts_with("application/activity+json")
                            || t.starts_with("application/ld+json")
                    })
            })
            .and_then(|l| l["href"].as_str())
            .map(str::to_string)
            .ok_or_else(|| FetchError::Invalid(url.to_string(), "no ActivityPub self link".into()))
    }
}

/// Reads a body, refusing more than [`MAX_RESPONSE_BYTES`].
async fn read_capped(url: &str, mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(FetchError::TooLarge(url.into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::Network(url.into(), e.to_string()))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(FetchError::TooLarge(url.into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
            "192.0.0.8",
            "fec0::1",
            "2002:7f00:1::1",
            "2002:0808:0808::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::a00:1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "93.184.216.34",
            "192.1.0.1",
            "2606:4700::1111",
            "2001:4860::8888",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn production_refuses_http_and_internal_literals() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(check_url(Mode::Production, &u("http://example.org/")).is_err());
        assert!(check_url(Mode::Production, &u("https://127.0.0.1/")).is_err());
        assert!(check_url(Mode::Production, &u("https://[::1]/")).is_err());
        assert!(check_url(Mode::Production, &u("https://localhost/")).is_err());
        assert!(check_url(Mode::Production, &u("https://169.254.169.254/latest")).is_err());
        assert!(check_url(Mode::Production, &u("file:///etc/passwd")).is_err());
        assert!(check_url(Mode::Production, &u("https://example.org/")).is_ok());
        assert!(check_url(Mode::Development, &u("http://127.0.0.1:8080/")).is_ok());
        assert!(check_url(Mode::Development, &u("gopher://x/")).is_err());
    }

    #[tokio::test]
    async fn resolver_drops_internal_answers() {
        let resolved = GuardedResolver.resolve("localhost".parse().unwrap()).await;
        assert!(
            resolved.is_err(),
            "localhost must not resolve in production"
        );
    }
}
