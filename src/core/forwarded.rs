//! Which address a request came from, behind reverse proxies (issue #19, item 4).
//!
//! Only a TCP peer inside one of the trusted networks (`[server] trusted_proxies`) is
//! believed when it names the client: then the right-most address of `X-Forwarded-For`
//! (or, without that header, the `for=` of `Forwarded`, RFC 7239) that is not itself a
//! trusted proxy is the client. Each proxy appends the address it saw, so everything left
//! of the last untrusted hop may be forged by the client and is never read. A malformed
//! header gives the peer, never an error.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`; a bare address is one
/// host). IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are compared as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(n)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(n)
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    /// Parses `ADDRESS/PREFIX` or a bare address; the message (Vietnamese) says what is
    /// wrong. An address with bits set past the prefix (`10.0.0.1/8`) is refused: it is
    /// either a typo or a host meant as a network.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (address, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let address: IpAddr = address.parse().map_err(|_| {
            format!("\"{s}\" không phải địa chỉ IP hay mạng CIDR (ví dụ 127.0.0.1/32, 10.0.0.0/8, ::1/128)")
        })?;
        let address = address.to_canonical();
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max && !p.starts_with('+') => n,
                _ => return Err(format!("\"{s}\": độ dài tiền tố phải từ 0 đến {max}")),
            },
        };
        let cidr = Cidr {
            network: address,
            prefix,
        };
        if cidr.masked() != address {
            return Err(format!(
                "\"{s}\": địa chỉ có bit ngoài tiền tố /{prefix}; địa chỉ mạng là {}/{prefix}",
                cidr.masked()
            ));
        }
        Ok(cidr)
    }
}

impl Cidr {
    /// The network address: `address` with the bits past the prefix cleared.
    fn masked(&self) -> IpAddr {
        match self.network {
            IpAddr::V4(n) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V4((u32::from(n) & mask).into())
            }
            IpAddr::V6(n) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V6((u128::from(n) & mask).into())
            }
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Whether `peer` is one of the trusted proxies.
pub fn is_trusted(peer: IpAddr, trusted: &[Cidr]) -> bool {
    trusted.iter().any(|c| c.contains(peer))
}

/// The client's address. `x_forwarded_for` and `forwarded` are the headers' values, each
/// the header's lines joined with `,` (`None` when the request has no such header).
pub fn client_address(
    peer: IpAddr,
    x_forwarded_for: Option<&str>,
    forwarded: Option<&str>,
    trusted: &[Cidr],
) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(peer, trusted) {
        return peer;
    }
    // The header the proxy writes. A proxy that appends to X-Forwarded-For (nginx,
    // HAProxy) leaves a client's own Forwarded header as it came: it is read only when
    // there is no X-Forwarded-For at all.
    let hops: Vec<Option<IpAddr>> = match (x_forwarded_for, forwarded) {
        (Some(xff), _) => xff.split(',').map(parse_hop).collect(),
        (None, Some(fwd)) => fwd.split(',').map(forwarded_for).collect(),
        (None, None) => return peer,
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        let Some(ip) = hop else { return peer };
        client = ip;
        if !is_trusted(ip, trusted) {
            return ip;
        }
    }
    // Every hop a trusted proxy: the left-most is the client (a host of the same network).
    client
}

/// The `for=` of one element of `Forwarded` (`for=192.0.2.60;proto=https`,
/// `for="[2001:db8::17]:4711"`); `None` without one or when it is not an address
/// (`unknown`, an obfuscated `_name`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        parse_hop(value.trim().trim_matches('"'))
    })
}

/// One address of a forwarding header: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || port(after.strip_prefix(':')?)) {
            return None;
        }
        return inside
            .parse::<std::net::Ipv6Addr>()
            .ok()
            .map(|a| IpAddr::V6(a).to_canonical());
    }
    let (address, p) = hop.split_once(':')?;
    if !port(p) {
        return None;
    }
    address.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_contain() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.255.1.2")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert_eq!(one.to_string(), "127.0.0.1/32");
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        let all6: Cidr = "::/0".parse().unwrap();
        assert!(all6.contains(ip("2001:db8::1")));
        let loop6: Cidr = "::1/128".parse().unwrap();
        assert!(loop6.contains(ip("::1")));
    }

    #[test]
    fn bad_networks_are_refused_with_a_reason() {
        for (bad, says) in [
            ("10.0.0/8", "không phải địa chỉ IP"),
            ("localhost", "không phải địa chỉ IP"),
            ("", "không phải địa chỉ IP"),
            ("10.0.0.0/33", "từ 0 đến 32"),
            ("::1/129", "từ 0 đến 128"),
            ("10.0.0.0/", "từ 0 đến 32"),
            ("10.0.0.0/+8", "từ 0 đến 32"),
            ("10.0.0.0/x", "từ 0 đến 32"),
            ("10.0.0.1/8", "10.0.0.0/8"),
            ("2001:db8::1/32", "2001:db8::/32"),
        ] {
            let e = bad.parse::<Cidr>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let peer = ip("203.0.113.9");
        assert_eq!(
            client_address(peer, Some("198.51.100.1"), None, &trusted),
            peer
        );
        assert_eq!(
            client_address(peer, None, Some("for=198.51.100.1"), &trusted),
            peer
        );
        assert_eq!(client_address(peer, Some("1.2.3.4"), None, &[]), peer);
    }

    #[test]
    fn a_trusted_peer_names_the_right_most_untrusted_hop() {
        let trusted = cidrs(&["127.0.0.1/32", "10.0.0.0/8"]);
        let peer = ip("127.0.0.1");
        // A client's forged entry on the left is never read.
        assert_eq!(
            client_address(peer, Some("6.6.6.6, 198.51.100.7"), None, &trusted),
            ip("198.51.100.7")
        );
        // A chain of two trusted proxies.
        assert_eq!(
            client_address(
                peer,
                Some("6.6.6.6, 198.51.100.7, 10.1.2.3"),
                None,
                &trusted
            ),
            ip("198.51.100.7")
        );
        // Ports and IPv6, bracketed or not.
        assert_eq!(
            client_address(peer, Some("198.51.100.7:5123"), None, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(peer, Some("2001:db8::7"), None, &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_address(peer, Some("[2001:db8::7]:443"), None, &trusted),
            ip("2001:db8::7")
        );
        // A peer seen as IPv4-mapped IPv6 (a dual-stack listener).
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), Some("198.51.100.7"), None, &trusted),
            ip("198.51.100.7")
        );
        // No header: the peer.
        assert_eq!(client_address(peer, None, None, &trusted), peer);
        // Every hop trusted: the left-most.
        assert_eq!(
            client_address(peer, Some("10.9.9.9, 127.0.0.1"), None, &trusted),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn forwarded_is_read_only_without_x_forwarded_for() {
        let trusted = cidrs(&["127.0.0.1/32"]);
        let peer = ip("127.0.0.1");
        assert_eq!(
            client_address(
                peer,
                None,
                Some("for=6.6.6.6, for=192.0.2.60;proto=https;by=203.0.113.43"),
                &trusted
            ),
            ip("192.0.2.60")
        );
        assert_eq!(
            client_address(
                peer,
                None,
                Some("For=\"[2001:db8:cafe::17]:4711\""),
                &trusted
            ),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            client_address(peer, Some("198.51.100.7"), Some("for=6.6.6.6"), &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn malformed_headers_give_the_peer() {
        let trusted = cidrs(&["127.0.0.1/32"]);
        let peer = ip("127.0.0.1");
        for xff in [
            "",
            "unknown",
            "198.51.100.7, garbage",
            "198.51.100.7:",
            "198.51.100.7:99999999",
            "[2001:db8::1",
            "[2001:db8::1]x",
            "2001:db8::1:443:",
            "1.2.3.4.5",
        ] {
            assert_eq!(
                client_address(peer, Some(xff), None, &trusted),
                peer,
                "{xff:?}"
            );
        }
        for fwd in [
            "for=unknown",
            "for=_hidden",
            "proto=https",
            "for=",
            "garbage",
        ] {
            assert_eq!(
                client_address(peer, None, Some(fwd), &trusted),
                peer,
                "{fwd:?}"
            );
        }
        // Garbage left of the client is never read.
        assert_eq!(
            client_address(peer, Some("garbage, 198.51.100.7"), None, &trusted),
            ip("198.51.100.7")
        );
    }
}
