//! The client's IP address, for throttling and logs. Behind a reverse
//! proxy every connection comes from the proxy, so `X-Forwarded-For` is
//! read — but only when the connection comes from a proxy the operator
//! named (`--trusted-proxy`), and only as far back as the proxies go:
//! anyone can write that header, so the address taken is the right-most
//! one that was not added by a trusted proxy.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::net::Cidr;

/// The client's address: the connection's peer, or, when that peer is a
/// trusted proxy, the right-most `X-Forwarded-For` entry that is not.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map_while(|entry| entry.trim().parse::<IpAddr>().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(*ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        h
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let trusted = [Cidr::parse("127.0.0.1").unwrap()];
        // From the proxy: the address it saw.
        assert_eq!(
            client_ip(proxy, &headers("203.0.113.7"), &trusted),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // A client's forged entries sit left of the real one: ignored.
        assert_eq!(
            client_ip(proxy, &headers("1.1.1.1, 203.0.113.7"), &trusted),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Not from a trusted proxy: the header means nothing.
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            client_ip(stranger, &headers("203.0.113.7"), &trusted),
            stranger
        );
        // Nothing trusted configured: always the peer.
        assert_eq!(client_ip(proxy, &headers("203.0.113.7"), &[]), proxy);
        // Garbage in the header: the peer.
        assert_eq!(client_ip(proxy, &headers("not-an-ip"), &trusted), proxy);
    }
}
