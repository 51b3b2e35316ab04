//! The client's IP address, for throttling and logs. Behind a reverse
//! proxy every connection comes from the proxy, so `X-Forwarded-For` is
//! read — but only when the connection comes from a proxy the operator
//! named (`--trusted-proxy`), and only as far back as the proxies go:
//! anyone can write that header, so the address taken is the right-most
//! one that was not added by a trusted proxy.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// An address range: an IP and a prefix length (`10.0.0.0/8`, `::1/128`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `IP` or `IP/PREFIX`.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (ip, prefix) = match text.trim().split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (text.trim(), None),
        };
        let network: IpAddr = ip
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address or CIDR range"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{text}': the prefix must be 0 to {max}"))?,
            None => max,
        };
        Ok(Cidr { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

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
    fn ranges() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("1.2.3.4".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("proxy").is_err());
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
