//! Who is on the other end of a request: the client's address, whether it reached us over HTTPS,
//! and the origin it used. Behind a reverse proxy these come from `X-Forwarded-For`,
//! `X-Forwarded-Proto` and `X-Forwarded-Host`, but only when the connection comes from a proxy
//! the configuration trusts (`trusted_proxies`); from anyone else those headers are ignored, so a
//! client cannot pick its own address (the login throttle keys on it) or claim to be local.

use std::net::{IpAddr, SocketAddr};

use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::serve::IncomingStream;

use crate::AppState;

/// The peer address of a connection, plain or TLS (the connect info the router is served with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, crate::tls::TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, crate::tls::TlsListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// How the server is reached, decided once from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<(IpAddr, u8)>,
    /// Whether the server itself speaks TLS.
    pub tls: bool,
}

/// The client of one request.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The client's IP address: the peer's, or the one a trusted proxy forwarded.
    pub ip: Option<String>,
    /// Whether the client reached us over HTTPS (our TLS, or a trusted proxy's).
    pub https: bool,
    /// `scheme://host` as the client addressed us.
    pub origin: String,
    /// Whether the request came through a proxy (a forwarding header is present).
    pub proxied: bool,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

impl Client {
    /// The base URL people reach this server at, without a trailing `/`: `public_url` when the
    /// configuration names one, else the origin this client addressed (for links the server
    /// hands out: invites, device sign-ins).
    pub fn public_base(&self, config: &taina::Config) -> String {
        config.public_url.as_deref().map_or_else(
            || self.origin.clone(),
            |url| url.trim_end_matches('/').to_owned(),
        )
    }

    /// Whether the client is this machine itself, not a proxy relaying someone else: a loopback
    /// peer with no forwarding header that addressed us by a loopback name (`127.0.0.1`, `[::1]`,
    /// `localhost`). A proxy on this machine that sends no forwarding header still passes the
    /// public host name it was asked for, so it does not count.
    pub fn is_local(&self) -> bool {
        !self.proxied
            && self
                .ip
                .as_deref()
                .and_then(|ip| ip.parse::<IpAddr>().ok())
                .is_some_and(|ip| ip.to_canonical().is_loopback())
            && loopback_host(&self.origin)
    }
}

/// Whether the host of `scheme://host[:port]` names this machine.
fn loopback_host(origin: &str) -> bool {
    let host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Whether a request from `peer` carries forwarding headers that count for nothing because the
/// peer is on this machine but not a trusted proxy: a reverse proxy left out of
/// `trusted_proxies`, so every client it relays looks alike.
fn untrusted_local_forwarder(peer: Option<IpAddr>, proxied: bool, trusted: bool) -> bool {
    proxied && !trusted && peer.is_some_and(|ip| ip.to_canonical().is_loopback())
}

/// Warns once, the first time forwarding headers arrive from an untrusted loopback peer.
fn warn_untrusted_local_forwarder(peer: IpAddr) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            %peer,
            "X-Forwarded-* headers arrive from a proxy on this machine that is not in \
             trusted_proxies: they are ignored, so every client it relays shares one address \
             (one login throttle) and is not \"this machine\" for /metrics; add the proxy to \
             trusted_proxies"
        );
    });
}

/// What to warn about when the server starts listening on `listen` with `config`: a loopback
/// listener with a public URL elsewhere is reached through a reverse proxy, which then needs to be
/// in `trusted_proxies`.
pub fn startup_warnings(config: &taina::config::Config, listen: SocketAddr) -> Vec<String> {
    let mut warnings = Vec::new();
    let public_elsewhere = config.public_url.as_deref().is_some_and(|url| {
        let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
        !loopback_host(authority.split('/').next().unwrap_or_default())
    });
    if listen.ip().to_canonical().is_loopback()
        && public_elsewhere
        && config.trusted_proxies.is_empty()
    {
        warnings.push(format!(
            "listening on {listen} for {} with no trusted_proxies: a reverse proxy on this machine \
             is not believed, so all its clients share one address (one login throttle){}; set \
             trusted_proxies to the proxy's address",
            config.public_url.as_deref().unwrap_or_default(),
            if config.metrics_open_to_loopback {
                ", and if it sends no X-Forwarded-For they all read /metrics (set \
                 metrics_open_to_loopback = false)"
            } else {
                ""
            }
        ));
    }
    warnings
}

/// The last value of a (possibly repeated, comma-separated) header.
fn last_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty())
}

/// Resolves the client of a request that arrived from `peer`.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, reach: &Reach) -> Client {
    let trusted = |ip: IpAddr| {
        reach
            .trusted_proxies
            .iter()
            .any(|net| taina::config::in_network(ip, *net))
    };
    let proxied = [
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "forwarded",
    ]
    .iter()
    .any(|h| headers.contains_key(*h));
    let via_trusted_proxy = peer.is_some_and(trusted);
    if let Some(peer) = peer.filter(|_| untrusted_local_forwarder(peer, proxied, via_trusted_proxy))
    {
        warn_untrusted_local_forwarder(peer);
    }
    let mut ip = peer;
    let mut https = reach.tls;
    let mut host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    if via_trusted_proxy {
        // The rightmost address that is not one of our proxies is the client.
        let chain: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        if let Some(client) = chain.iter().rev().find(|a| !trusted(**a)).or(chain.first()) {
            ip = Some(*client);
        }
        if let Some(proto) = last_value(headers, "x-forwarded-proto") {
            https = proto.eq_ignore_ascii_case("https");
        }
        if let Some(forwarded_host) = last_value(headers, "x-forwarded-host") {
            host = Some(forwarded_host.to_owned());
        }
    }
    let scheme = if https { "https" } else { "http" };
    Client {
        ip: ip.map(|ip| ip.to_string()),
        https,
        origin: format!("{scheme}://{}", host.as_deref().unwrap_or("localhost")),
        proxied,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
    }
}

impl<S> FromRequestParts<S> for Client
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|c| c.0.0.ip());
        Ok(resolve(peer, &parts.headers, &state.reach))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    fn reach(proxies: &[&str]) -> Reach {
        Reach {
            trusted_proxies: proxies
                .iter()
                .filter_map(|p| taina::config::parse_network(p))
                .collect(),
            tls: false,
        }
    }

    #[test]
    fn forwarding_headers_from_strangers_are_ignored() {
        let h = headers(&[
            ("host", "home.example"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let c = resolve(Some("203.0.113.9".parse().unwrap()), &h, &reach(&[]));
        assert_eq!(c.ip.as_deref(), Some("203.0.113.9"));
        assert!(!c.https);
        assert_eq!(c.origin, "http://home.example");
        // A local peer relaying for someone is not "local".
        let c = resolve(Some("127.0.0.1".parse().unwrap()), &h, &reach(&[]));
        assert!(!c.is_local());
        let plain = resolve(
            Some("127.0.0.1".parse().unwrap()),
            &headers(&[]),
            &reach(&[]),
        );
        assert!(plain.is_local());
    }

    #[test]
    fn this_machine_is_a_loopback_peer_asking_for_a_loopback_host() {
        let local = |host: &'static str| {
            resolve(
                Some("127.0.0.1".parse().unwrap()),
                &headers(&[("host", host)]),
                &reach(&[]),
            )
            .is_local()
        };
        assert!(local("127.0.0.1:8080"));
        assert!(local("localhost:8080"));
        assert!(local("[::1]:8080"));
        // A proxy here that sends no forwarding header still names the public host.
        assert!(!local("home.example.org"));
        assert!(!local("home.example.org:443"));
        // A stranger asking for a loopback name is still a stranger.
        let c = resolve(
            Some("203.0.113.9".parse().unwrap()),
            &headers(&[("host", "127.0.0.1:8080")]),
            &reach(&[]),
        );
        assert!(!c.is_local());
    }

    #[test]
    fn untrusted_forwarders_on_this_machine_are_noticed() {
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        let there: IpAddr = "203.0.113.9".parse().unwrap();
        assert!(untrusted_local_forwarder(Some(here), true, false));
        assert!(!untrusted_local_forwarder(Some(here), true, true));
        assert!(!untrusted_local_forwarder(Some(here), false, false));
        assert!(!untrusted_local_forwarder(Some(there), true, false));
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let mut config = taina::config::Config {
            public_url: Some("https://home.example.org".into()),
            ..Default::default()
        };
        assert_eq!(startup_warnings(&config, listen).len(), 1);
        assert!(startup_warnings(&config, listen)[0].contains("metrics_open_to_loopback"));
        assert!(startup_warnings(&config, "0.0.0.0:8080".parse().unwrap()).is_empty());
        config.trusted_proxies = vec!["127.0.0.1".into()];
        assert!(startup_warnings(&config, listen).is_empty());
        config.trusted_proxies.clear();
        config.public_url = Some("http://localhost:8080/".into());
        assert!(startup_warnings(&config, listen).is_empty());
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "home.example"),
        ]);
        let c = resolve(
            Some("127.0.0.1".parse().unwrap()),
            &h,
            &reach(&["127.0.0.1", "10.0.0.0/8"]),
        );
        // 6.6.6.6 was written by the client itself; 198.51.100.7 is what our proxies saw.
        assert_eq!(c.ip.as_deref(), Some("198.51.100.7"));
        assert!(c.https);
        assert_eq!(c.origin, "https://home.example");
        assert!(!c.is_local());
    }
}
