//! Every outgoing GET (actors, keys, objects, WebFinger) goes through one
//! guarded client: signed as the instance actor, with timeouts, a response
//! size cap, a redirect limit, a content-type check, and an SSRF guard that
//! refuses loopback, private, link-local and other internal addresses in
//! production mode (allowed only when the public URL is `http://`), except
//! for the ranges the operator allowed with `--allowed-private-address`.
//! Deliveries use a second client with the same guard and no redirects.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use serde_json::Value;
use url::Url;

use crate::config::{Config, HttpSignatures, Mode};
use crate::error::AppError;
use crate::keys::InstanceKeys;
use crate::net::Cidr;
use crate::signatures::knock::{self, HostSchemes, Scheme};

/// Largest document we read from a peer.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
const MAX_REDIRECTS: usize = 3;
const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const USER_AGENT: &str = concat!("rosefed/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The guard refused: scheme, an internal address, a redirect.
    #[error("refused to fetch {0}: {1}")]
    Refused(String, String),
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

/// A refusal by the guard from inside reqwest (the resolver, the redirect
/// policy), found again in the error's source chain by [`send_error`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refusal(String);

/// What a failed request comes to: the guard's refusal if it was one,
/// else the whole source chain, since reqwest's own message names only the
/// URL and an operator needs the cause (DNS, TLS, refused connection).
pub fn send_error(url: &str, e: reqwest::Error) -> FetchError {
    let e = e.without_url();
    let mut chain = vec![e.to_string()];
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        if let Some(refusal) = cause.downcast_ref::<Refusal>() {
            return FetchError::Refused(url.into(), refusal.0.clone());
        }
        chain.push(cause.to_string());
        source = cause.source();
    }
    FetchError::Network(url.into(), chain.join(": "))
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

/// What production mode lets through: public addresses, and the internal
/// ranges the operator allowed. Development mode lets everything through.
#[derive(Clone, Debug)]
pub struct Guard {
    mode: Mode,
    allowed: Arc<[Cidr]>,
}

impl Guard {
    pub fn new(mode: Mode, allowed: &[Cidr]) -> Guard {
        Guard {
            mode,
            allowed: allowed.into(),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether a connection to `ip` may be made.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.mode == Mode::Development
            || !is_internal(ip)
            || self.allowed.iter().any(|range| range.contains(ip))
    }

    /// Checks scheme and literal-IP hosts before any connection. Names are
    /// checked after resolution by [`GuardedResolver`].
    pub fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        let refused = |why: &str| FetchError::Refused(url.to_string(), why.to_string());
        match (self.mode, url.scheme()) {
            (_, "https") | (Mode::Development, "http") => {}
            (Mode::Production, "http") => {
                return Err(refused("plain http is not allowed in production"))
            }
            _ => return Err(refused("only http(s) URLs are fetched")),
        }
        if self.mode == Mode::Production {
            let literal = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                // Refused by name as well: not every resolver answers for
                // localhost with loopback only, or at all.
                Some(url::Host::Domain(d))
                    if d.eq_ignore_ascii_case("localhost")
                        || d.to_ascii_lowercase().ends_with(".localhost") =>
                {
                    return Err(refused("localhost is an internal address"))
                }
                Some(url::Host::Domain(_)) => None,
                None => return Err(refused("no host")),
            };
            if let Some(ip) = literal.filter(|ip| !self.allows(*ip)) {
                return Err(refused(&format!("{ip} is an internal address")));
            }
        }
        Ok(())
    }

    /// Whether a redirect from the chain `previous` to `next` is followed.
    fn check_redirect(&self, next: &Url, previous: &[Url]) -> Result<(), String> {
        // A document's origin vouches for it: a redirect to another origin
        // would let one site answer for another (and reach any address a
        // name there resolves to).
        let same_origin = previous
            .first()
            .is_some_and(|first| first.origin() == next.origin());
        if previous.len() >= MAX_REDIRECTS {
            Err(format!("more than {MAX_REDIRECTS} redirects"))
        } else if !same_origin {
            Err(format!("redirect to another origin ({next})"))
        } else {
            self.check_url(next).map_err(|e| match e {
                FetchError::Refused(_, why) => format!("redirect to {next}: {why}"),
                other => other.to_string(),
            })
        }
    }
}

/// How outgoing requests look names up, before the guard sees the
/// answers: the system resolver unless a test supplies its own (see
/// `Config::name_lookup`).
#[derive(Clone)]
pub struct NameLookup(pub Arc<dyn Resolve>);

impl std::fmt::Debug for NameLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NameLookup(..)")
    }
}

/// The system resolver, as tokio asks it (getaddrinfo on a blocking thread).
struct SystemLookup;

impl Resolve for SystemLookup {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Resolution that drops the addresses the guard refuses (production
/// mode), so a public name pointing at 127.0.0.1 or 169.254.169.254 is
/// refused too. Checked at connection time, on every connection, so a name
/// that changes its answer after a first check gains nothing.
struct GuardedResolver {
    guard: Guard,
    lookup: Arc<dyn Resolve>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (guard, lookup) = (self.guard.clone(), self.lookup.clone());
        Box::pin(async move {
            let host = name.as_str().to_string();
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = lookup
                .resolve(name)
                .await?
                .partition(|a| guard.allows(a.ip()));
            if allowed.is_empty() {
                let refused: Vec<String> = refused.iter().map(|a| a.ip().to_string()).collect();
                return Err(Box::new(Refusal(format!(
                    "{host} resolves only to internal addresses ({})",
                    refused.join(", ")
                )))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Milliseconds since the epoch (what host preferences are timed in).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The guarded, signing HTTP client.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    delivery: reqwest::Client,
    guard: Guard,
    keys: Arc<InstanceKeys>,
    key_id: String,
    schemes: HostSchemes,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// Builds both clients. Fails, naming the flag, when `--extra-ca-file`
    /// cannot be read or holds no certificate.
    pub fn new(config: &Config, keys: Arc<InstanceKeys>) -> Result<Fetcher, AppError> {
        let guard = Guard::new(config.mode, &config.allowed_private_addresses);
        let extra_roots = match &config.federation.extra_ca_file {
            Some(path) => extra_roots(path)?,
            None => Vec::new(),
        };
        // reqwest's rustls needs a process-wide crypto provider; installing
        // it twice (a second hub in one test process) is harmless.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let policy = {
            let guard = guard.clone();
            Policy::custom(move |attempt| {
                match guard.check_redirect(attempt.url(), attempt.previous()) {
                    Ok(()) => attempt.follow(),
                    Err(why) => attempt.error(Refusal(why)),
                }
            })
        };
        // Deliveries never follow redirects: a 302 would turn the POST into
        // a GET whose 200 would be mistaken for a delivery.
        let [client, delivery] = [policy, Policy::none()].map(|policy| {
            let mut builder = reqwest::Client::builder()
                // A system proxy would resolve names itself, past the guard.
                .no_proxy()
                .user_agent(USER_AGENT)
                .timeout(TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                .redirect(policy)
                .tls_certs_merge(extra_roots.iter().cloned());
            let lookup = config.name_lookup.as_ref().map(|l| l.0.clone());
            if guard.mode() == Mode::Production {
                let lookup = lookup.unwrap_or_else(|| Arc::new(SystemLookup));
                builder = builder.dns_resolver(Arc::new(GuardedResolver {
                    guard: guard.clone(),
                    lookup,
                }));
            } else if let Some(lookup) = lookup {
                builder = builder.dns_resolver(lookup);
            }
            builder.build()
        });
        let built = |c: reqwest::Result<reqwest::Client>| {
            c.map_err(|e| AppError::Internal(format!("cannot build the HTTP client: {e}")))
        };
        Ok(Fetcher {
            client: built(client)?,
            delivery: built(delivery)?,
            guard,
            keys,
            key_id: format!("{}#main-key", config.instance_actor_id()),
            schemes: HostSchemes::new(config.federation.http_signatures == HttpSignatures::Cavage),
        })
    }

    /// What outgoing requests may reach; deliveries check their inbox
    /// URLs with it.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// The client for deliveries: the same guard, no redirects. Deliveries
    /// sign their own POSTs.
    pub fn delivery_client(&self) -> &reqwest::Client {
        &self.delivery
    }

    /// Which signature scheme each host takes ([`knock`]): shared with
    /// the delivery worker.
    pub fn schemes(&self) -> &HostSchemes {
        &self.schemes
    }

    /// Where what signed GETs learn of hosts is kept (see
    /// [`HostSchemes::learn`]).
    pub fn keep_schemes_with(
        &mut self,
        keep: tokio::sync::mpsc::UnboundedSender<(String, Option<i64>)>,
    ) {
        self.schemes.keep_with(keep);
    }

    /// GETs an ActivityStreams document with a signed request (authorized
    /// fetch), enforcing the guard, the size cap and the media type. Signed
    /// with RFC 9421 first, and again with draft-cavage when the host
    /// refuses that ([`knock`]).
    pub async fn get_activity_json(&self, url: &str) -> Result<Value, FetchError> {
        let parsed = Url::parse(url).map_err(|e| FetchError::Invalid(url.into(), e.to_string()))?;
        self.guard.check_url(&parsed)?;
        let host = crate::net::authority(&parsed);
        let first = self.schemes.first_for(&host, now_ms());
        let mut response = self.signed_get(&parsed, first).await?;
        if self.schemes.may_fall_back(first) && knock::refused(response.status().as_u16()) {
            response = self.signed_get(&parsed, Scheme::Cavage).await?;
            if response.status().is_success() {
                tracing::info!(%host, "host refused an RFC 9421 signature; signing draft-cavage for it");
                self.schemes
                    .learn(&host, Some(now_ms().saturating_add(knock::CAVAGE_FOR_MS)));
            }
        } else if first == Scheme::Rfc9421
            && response.status().is_success()
            && self.schemes.knows(&host)
        {
            self.schemes.learn(&host, None);
        }
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

    async fn signed_get(&self, url: &Url, scheme: Scheme) -> Result<reqwest::Response, FetchError> {
        let signed = knock::sign(
            &self.keys,
            scheme,
            &self.key_id,
            "GET",
            url,
            None,
            SystemTime::now(),
        )
        .map_err(|e| FetchError::Network(url.to_string(), e.to_string()))?;
        let mut request = self.client.get(url.clone()).header(
            "accept",
            "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
        );
        for (name, value) in signed {
            if name != "host" {
                request = request.header(name, value);
            }
        }
        request
            .send()
            .await
            .map_err(|e| send_error(url.as_str(), e))
    }

    /// Resolves `@user@host` (or `user@host`) to an actor id by WebFinger.
    pub async fn webfinger(&self, handle: &str) -> Result<String, FetchError> {
        let (url, jrd) = self.webfinger_jrd(handle).await?;
        let found = jrd_links(&jrd)
            .find(|l| {
                l["rel"] == "self"
                    && l["type"].as_str().is_some_and(|t| {
                        t.starts_with("application/activity+json")
                            || t.starts_with("application/ld+json")
                    })
            })
            .and_then(|l| l["href"].as_str())
            .map(str::to_string)
            .ok_or_else(|| FetchError::Invalid(url.to_string(), "no ActivityPub self link".into()));
        found
    }

    /// The address where `@user@host`'s server lets them confirm following
    /// someone: the `{uri}` template of WebFinger's OStatus `subscribe`
    /// link, which Mastodon, GoToSocial and Pleroma publish.
    pub async fn subscribe_template(&self, handle: &str) -> Result<String, FetchError> {
        let (url, jrd) = self.webfinger_jrd(handle).await?;
        let found = jrd_links(&jrd)
            .find(|l| l["rel"] == SUBSCRIBE_REL)
            .and_then(|l| l["template"].as_str())
            .filter(|t| t.contains("{uri}"))
            .map(str::to_string)
            .ok_or_else(|| {
                FetchError::Invalid(
                    url.to_string(),
                    "the server offers no remote follow (no subscribe template)".into(),
                )
            });
        found
    }

    async fn webfinger_jrd(&self, handle: &str) -> Result<(Url, Value), FetchError> {
        let account = handle.trim().trim_start_matches('@');
        let (_, host) = account.rsplit_once('@').ok_or_else(|| {
            FetchError::Invalid(handle.into(), "not of the form @user@host".into())
        })?;
        let scheme = match self.guard.mode() {
            Mode::Development => "http",
            Mode::Production => "https",
        };
        let mut url = Url::parse(&format!("{scheme}://{host}/.well-known/webfinger"))
            .map_err(|e| FetchError::Invalid(handle.into(), e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("resource", &format!("acct:{account}"));
        self.guard.check_url(&url)?;
        let response = self
            .client
            .get(url.clone())
            .header("accept", "application/jrd+json, application/json")
            .send()
            .await
            .map_err(|e| send_error(url.as_str(), e))?;
        if !response.status().is_success() {
            return Err(FetchError::Status(
                url.to_string(),
                response.status().as_u16(),
            ));
        }
        let body = read_capped(url.as_str(), response).await?;
        let jrd = serde_json::from_slice(&body)
            .map_err(|e| FetchError::Invalid(url.to_string(), e.to_string()))?;
        Ok((url, jrd))
    }
}

/// The OStatus subscription link relation (remote follow).
const SUBSCRIBE_REL: &str = "http://ostatus.org/schema/1.0/subscribe";

fn jrd_links(jrd: &Value) -> impl Iterator<Item = &Value> {
    jrd["links"].as_array().into_iter().flatten()
}

/// The certificates of an `--extra-ca-file`.
fn extra_roots(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, AppError> {
    let bad =
        |why: String| AppError::BadRequest(format!("--extra-ca-file '{}': {why}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("holds no PEM certificate".into()));
    }
    Ok(certs)
}

/// Reads a body, refusing more than [`MAX_RESPONSE_BYTES`]: by its
/// Content-Length at once, else as soon as the stream passes the cap (the
/// connection is dropped unread).
async fn read_capped(url: &str, mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(FetchError::TooLarge(url.into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| send_error(url, e))? {
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

    fn production(allowed: &[&str]) -> Guard {
        let allowed: Vec<Cidr> = allowed.iter().map(|c| Cidr::parse(c).unwrap()).collect();
        Guard::new(Mode::Production, &allowed)
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn production_refuses_http_and_internal_literals() {
        let guard = production(&[]);
        for refused in [
            "http://example.org/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://localhost/",
            "https://a.LOCALHOST/",
            "https://169.254.169.254/latest",
            "file:///etc/passwd",
        ] {
            assert!(guard.check_url(&u(refused)).is_err(), "{refused}");
        }
        assert!(guard.check_url(&u("https://example.org/")).is_ok());
        let dev = Guard::new(Mode::Development, &[]);
        assert!(dev.check_url(&u("http://127.0.0.1:8080/")).is_ok());
        assert!(dev.check_url(&u("gopher://x/")).is_err());
    }

    #[test]
    fn allowed_ranges_are_exempt_and_nothing_else() {
        let guard = production(&["127.0.0.2/32", "fd00::/64"]);
        assert!(guard.allows("127.0.0.2".parse().unwrap()));
        assert!(guard.allows("::ffff:127.0.0.2".parse().unwrap()));
        assert!(guard.allows("fd00::1".parse().unwrap()));
        assert!(guard.allows("1.1.1.1".parse().unwrap()));
        for refused in ["127.0.0.1", "127.0.0.3", "fd00:0:0:1::1", "10.0.0.1", "::1"] {
            assert!(!guard.allows(refused.parse().unwrap()), "{refused}");
        }
        assert!(guard.check_url(&u("https://127.0.0.2:8443/x")).is_ok());
        assert!(guard.check_url(&u("https://127.0.0.1:8443/x")).is_err());
        // An allowed address is still not a licence for plain http.
        assert!(guard.check_url(&u("http://127.0.0.2:8443/x")).is_err());
    }

    #[test]
    fn redirects_stay_on_the_origin_and_under_the_guard() {
        let guard = production(&[]);
        let first = [u("https://peer.example/users/a")];
        assert!(guard
            .check_redirect(&u("https://peer.example/u/a"), &first)
            .is_ok());
        for next in [
            "https://other.example/users/a",
            "https://127.0.0.1/users/a",
            "http://peer.example/users/a",
            "https://peer.example:8443/users/a",
        ] {
            let why = guard.check_redirect(&u(next), &first).unwrap_err();
            assert!(why.contains("another origin"), "{next}: {why}");
        }
        let chain = [
            first[0].clone(),
            u("https://peer.example/1"),
            u("https://peer.example/2"),
        ];
        let why = guard
            .check_redirect(&u("https://peer.example/3"), &chain)
            .unwrap_err();
        assert!(why.contains("redirects"), "{why}");
    }

    /// A fixed table of names, as the integration tests use.
    struct Table(Vec<(&'static str, Vec<IpAddr>)>);

    impl Resolve for Table {
        fn resolve(&self, name: Name) -> Resolving {
            let found = self
                .0
                .iter()
                .find(|(n, _)| *n == name.as_str())
                .map(|(_, ips)| ips.clone());
            Box::pin(async move {
                let ips = found.ok_or("no such name")?;
                let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
                Ok(addrs)
            })
        }
    }

    async fn resolve(
        guard: Guard,
        lookup: Arc<dyn Resolve>,
        name: &str,
    ) -> Result<Vec<IpAddr>, String> {
        GuardedResolver { guard, lookup }
            .resolve(name.parse().unwrap())
            .await
            .map(|addrs| addrs.map(|a| a.ip()).collect())
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn resolver_drops_internal_answers() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let table: Arc<dyn Resolve> = Arc::new(Table(vec![
            (
                "internal.test",
                vec![ip("10.0.0.1"), ip("::1"), ip("169.254.169.254")],
            ),
            (
                "mixed.test",
                vec![ip("127.0.0.1"), ip("1.1.1.1"), ip("fd00::1")],
            ),
            ("allowed.test", vec![ip("127.0.0.1"), ip("127.0.0.2")]),
        ]));
        let guard = production(&["127.0.0.2/32"]);
        let refused = resolve(guard.clone(), table.clone(), "internal.test")
            .await
            .unwrap_err();
        assert_eq!(
            refused,
            "internal.test resolves only to internal addresses (10.0.0.1, ::1, 169.254.169.254)"
        );
        assert_eq!(
            resolve(guard.clone(), table.clone(), "mixed.test").await,
            Ok(vec![ip("1.1.1.1")])
        );
        assert_eq!(
            resolve(guard, table, "allowed.test").await,
            Ok(vec![ip("127.0.0.2")])
        );
        let system = resolve(production(&[]), Arc::new(SystemLookup), "localhost").await;
        assert!(system.is_err(), "localhost must not resolve in production");
    }
}
