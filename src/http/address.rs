//! Which addresses a URL may be fetched from. A URL the service hands over (a room avatar, a
//! message's file) must not make the bot fetch from its own machine or network: that is how a
//! hostile service would read a cloud metadata endpoint or an admin page behind the firewall.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Where a fetch may connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressPolicy {
    /// Anywhere the name resolves to (URLs the caller chose, discovery).
    Any,
    /// Public addresses only: no loopback, link-local, private, shared or unspecified ones.
    PublicOnly,
}

impl AddressPolicy {
    /// The addresses of `resolved` this policy lets a fetch connect to, in their order.
    pub(crate) fn filter(self, resolved: Vec<SocketAddr>) -> Vec<SocketAddr> {
        match self {
            Self::Any => resolved,
            Self::PublicOnly => resolved
                .into_iter()
                .filter(|address| is_public(address.ip()))
                .collect(),
        }
    }
}

/// Whether `ip` is reachable on the public internet, so fetching from it cannot reach the
/// bot's own machine or network. IPv4 inside IPv6 is judged as IPv4.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT), RFC 6598
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, RFC 2544
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b // NAT64, maps to IPv4
        || ip.segments()[..6] == [0; 6]) // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_private_addresses_are_not_public() {
        for local in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            let ip: IpAddr = local.parse().unwrap();
            assert!(!is_public(ip), "{local} must not count as public");
        }
        for public in ["1.1.1.1", "8.8.8.8", "100.128.0.1", "2606:4700::1111"] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(is_public(ip), "{public} is public");
        }
    }

    #[test]
    fn public_only_keeps_the_public_addresses_in_order() {
        let resolved: Vec<SocketAddr> = ["10.0.0.1:80", "1.1.1.1:80", "[::1]:80", "8.8.8.8:80"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(
            AddressPolicy::PublicOnly.filter(resolved.clone()),
            vec![resolved[1], resolved[3]]
        );
        assert_eq!(AddressPolicy::Any.filter(resolved.clone()), resolved);
    }
}
