//! The client's address behind trusted reverse proxies.
//!
//! By default the address is the TCP peer's, and `X-Forwarded-For` is ignored: any client can
//! write that header. With `trusted_proxies` set (addresses or CIDR blocks of the load
//! balancers in front of the server), a request whose peer is one of them is attributed to
//! the address that proxy saw: `X-Forwarded-For` is read from the right, skipping the trusted
//! proxies, and the first other address is the client's. The login limits per address
//! (`docs/server.md`) then count each client, not the proxy.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// Addresses and CIDR blocks of trusted proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Reads `10.0.0.0/8`, `192.168.1.10`, `::1`, `fd00::/8`... one per entry.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut blocks = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let (addr, bits) = match entry.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (entry, None),
            };
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("`{entry}` is not an IP address or CIDR block"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("`{entry}` has a prefix length over {max}"))?,
                None => max,
            };
            blocks.push(ipv4_if_mapped(addr, bits).ok_or_else(|| {
                format!("`{entry}` is an IPv4-mapped block shorter than /96: write the IPv4 block")
            })?);
        }
        Ok(Self(blocks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is in one of the blocks (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(block, bits)| in_block(ip, *block, *bits))
    }

    /// The client's address: `peer`, or, when `peer` is a trusted proxy, the rightmost
    /// `X-Forwarded-For` address that is not one (or the leftmost, if all are). The entries are
    /// read from the right, each written by the hop after it, and the walk stops at the first
    /// that is not a trusted proxy: what lies to its left was written by the client and is
    /// never read, so a malformed entry there changes nothing. A malformed entry before any
    /// untrusted one stops the walk at the nearest trusted hop.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.is_empty() || !self.contains(peer) {
            return peer;
        }
        let values: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let mut nearest = peer;
        for entry in values.iter().rev().flat_map(|v| v.rsplit(',')) {
            match hop_address(entry) {
                Some(a) if self.contains(a) => nearest = a,
                Some(a) => return a,
                None => return nearest,
            }
        }
        nearest
    }
}

/// One `X-Forwarded-For` entry's address: a bare address, or one with a port as some load
/// balancers write it (`203.0.113.7:51234`, `[2001:db8::1]:443`), or a bracketed IPv6 address.
fn hop_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse::<IpAddr>().ok())
        })
}

/// A block written as IPv4-mapped IPv6 (`::ffff:10.0.0.0/104`) as the IPv4 block it is
/// (`10.0.0.0/8`): addresses are compared as IPv4 ([`canonical`]), and a prefix length counted
/// in IPv6 bits would not fit an IPv4 mask. `None` for a mapped block shorter than /96, which
/// would reach beyond the mapped addresses.
fn ipv4_if_mapped(addr: IpAddr, bits: u8) -> Option<(IpAddr, u8)> {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => bits.checked_sub(96).map(|bits| (IpAddr::V4(v4), bits)),
            None => Some((addr, bits)),
        },
        IpAddr::V4(_) => Some((addr, bits)),
    }
}

pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` (canonical) is in the block of `bits` leading bits of `block` (as parsed:
/// IPv4 blocks are never written as IPv6, and `bits` fits the block's family).
fn in_block(ip: IpAddr, block: IpAddr, bits: u8) -> bool {
    match (ip, block) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        headers
    }

    #[test]
    fn a_block_written_as_ipv4_mapped_ipv6_is_that_ipv4_block() {
        // Counted in IPv6 bits, /128 once made an IPv4 mask of `32 - 128` bits: every IPv4
        // peer a trusted proxy in release builds, a panic on every request in debug ones.
        let one = TrustedProxies::parse(&["::ffff:10.0.0.1"]).unwrap();
        assert!(one.contains(ip("10.0.0.1")));
        assert!(one.contains(ip("::ffff:10.0.0.1")));
        assert!(!one.contains(ip("203.0.113.9")));
        assert!(!one.contains(ip("10.0.0.2")));
        let block = TrustedProxies::parse(&["::ffff:10.0.0.0/104"]).unwrap();
        assert!(block.contains(ip("10.200.1.1")));
        assert!(!block.contains(ip("11.0.0.1")));
        assert_eq!(
            block,
            TrustedProxies::parse(&["10.0.0.0/8"]).unwrap(),
            "the same block"
        );
        let all_mapped = TrustedProxies::parse(&["::ffff:0.0.0.0/96"]).unwrap();
        assert!(all_mapped.contains(ip("198.51.100.7")));
        assert!(!all_mapped.contains(ip("2001:db8::1")));
        // A spoofed X-Forwarded-For from a peer that is no proxy is ignored.
        assert_eq!(
            one.client_address(ip("203.0.113.9"), &forwarded(&["10.1.1.1"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn parses_addresses_and_blocks_and_refuses_the_rest() {
        let t = TrustedProxies::parse(&["10.0.0.0/8", "192.168.1.10", "fd00::/8", " "]).unwrap();
        assert!(t.contains(ip("10.1.2.3")));
        assert!(t.contains(ip("::ffff:10.9.9.9")));
        assert!(t.contains(ip("192.168.1.10")));
        assert!(!t.contains(ip("192.168.1.11")));
        assert!(t.contains(ip("fd12::1")));
        assert!(!t.contains(ip("fe80::1")));
        assert!(
            TrustedProxies::parse(&["0.0.0.0/0"])
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        for bad in [
            "10.0.0.0/33",
            "proxy.local",
            "10.0.0/8",
            "::1/129",
            "::ffff:10.0.0.0/95",
        ] {
            assert!(TrustedProxies::parse(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let t = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        let h = forwarded(&["203.0.113.7, 10.0.0.2"]);
        // From the proxy: the rightmost address that is not a trusted proxy.
        assert_eq!(t.client_address(ip("10.0.0.1"), &h), ip("203.0.113.7"));
        // A client's own claim in front of it is skipped: only what the proxy appended counts.
        let h = forwarded(&["198.51.100.1", "203.0.113.7"]);
        assert_eq!(t.client_address(ip("10.0.0.1"), &h), ip("203.0.113.7"));
        // Directly from a client: the header is ignored.
        assert_eq!(t.client_address(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        // Nothing trusted configured: the peer, always.
        let none = TrustedProxies::default();
        assert_eq!(none.client_address(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        // Garbage or nothing from the proxy: the proxy's own address.
        let junk = forwarded(&["not-an-address"]);
        assert_eq!(t.client_address(ip("10.0.0.1"), &junk), ip("10.0.0.1"));
        assert_eq!(
            t.client_address(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        // Every hop trusted: the leftmost.
        let inner = forwarded(&["10.0.0.5, 10.0.0.6"]);
        assert_eq!(t.client_address(ip("10.0.0.1"), &inner), ip("10.0.0.5"));
        // What a client writes left of the address the proxy appended is never read: junk
        // there does not send the client's failures to the proxy's address.
        let prefixed = forwarded(&["x, 203.0.113.7"]);
        assert_eq!(
            t.client_address(ip("10.0.0.1"), &prefixed),
            ip("203.0.113.7")
        );
        let two_headers = forwarded(&["x", "203.0.113.7"]);
        assert_eq!(
            t.client_address(ip("10.0.0.1"), &two_headers),
            ip("203.0.113.7")
        );
        // Junk right of a trusted hop: the nearest trusted hop.
        let behind = forwarded(&["203.0.113.7, junk, 10.0.0.6"]);
        assert_eq!(t.client_address(ip("10.0.0.1"), &behind), ip("10.0.0.6"));
        // Ports and brackets, as some load balancers write them.
        for (entry, want) in [
            ("203.0.113.7:51234", "203.0.113.7"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
        ] {
            let h = forwarded(&[entry]);
            assert_eq!(t.client_address(ip("10.0.0.1"), &h), ip(want), "{entry}");
        }
    }
}
