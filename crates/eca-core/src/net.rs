//! Inclusive IP address ranges, as profiles' login IP ranges and apps' trusted IP ranges
//! write them: a start and an end address of the same family, start not after end.

use std::fmt;
use std::net::IpAddr;

/// Why two addresses do not make a range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("`{0}` is not an IPv4 or IPv6 address")]
    NotAnAddress(String),
    #[error("the range {start} – {end} mixes IPv4 and IPv6")]
    MixedFamilies { start: IpAddr, end: IpAddr },
    #[error("the range starts at {start}, after its end {end}")]
    Reversed { start: IpAddr, end: IpAddr },
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressRange {
    start: IpAddr,
    end: IpAddr,
}

impl AddressRange {
    /// A range from two addresses. IPv4 addresses written in IPv6 form (`::ffff:10.0.0.1`)
    /// count as IPv4.
    pub fn new(start: IpAddr, end: IpAddr) -> Result<Self, RangeError> {
        let (start, end) = (start.to_canonical(), end.to_canonical());
        if start.is_ipv4() != end.is_ipv4() {
            return Err(RangeError::MixedFamilies { start, end });
        }
        if start > end {
            return Err(RangeError::Reversed { start, end });
        }
        Ok(Self { start, end })
    }

    /// A range from two addresses as text (surrounding spaces ignored).
    pub fn parse(start: &str, end: &str) -> Result<Self, RangeError> {
        Self::new(parse_address(start)?, parse_address(end)?)
    }

    pub fn start(&self) -> IpAddr {
        self.start
    }

    pub fn end(&self) -> IpAddr {
        self.end
    }

    /// Whether `address` lies in the range. A client reaching an IPv6 socket with an
    /// IPv4-mapped address is compared as IPv4.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        address.is_ipv4() == self.start.is_ipv4() && self.start <= address && address <= self.end
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} – {}", self.start, self.end)
    }
}

/// Parses one address of a range.
pub fn parse_address(text: &str) -> Result<IpAddr, RangeError> {
    text.trim()
        .parse::<IpAddr>()
        .map_err(|_| RangeError::NotAnAddress(text.to_owned()))
}

/// Whether any of `ranges` holds `address`.
pub fn any_contains(ranges: &[AddressRange], address: IpAddr) -> bool {
    ranges.iter().any(|r| r.contains(address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn both_ends_are_inside() {
        let r = AddressRange::parse("10.0.0.1", "10.0.0.9").unwrap();
        assert!(r.contains(ip("10.0.0.1")));
        assert!(r.contains(ip("10.0.0.5")));
        assert!(r.contains(ip("10.0.0.9")));
        assert!(!r.contains(ip("10.0.0.10")));
        assert!(!r.contains(ip("10.0.0.0")));
    }

    #[test]
    fn a_single_address_is_a_range() {
        let r = AddressRange::parse(" 192.0.2.7 ", "192.0.2.7").unwrap();
        assert!(r.contains(ip("192.0.2.7")));
        assert!(!r.contains(ip("192.0.2.8")));
    }

    #[test]
    fn ipv4_mapped_clients_compare_as_ipv4() {
        let r = AddressRange::parse("127.0.0.1", "127.0.0.1").unwrap();
        assert!(r.contains(ip("::ffff:127.0.0.1")));
        let mapped = AddressRange::parse("::ffff:10.0.0.0", "::ffff:10.0.0.255").unwrap();
        assert!(mapped.contains(ip("10.0.0.200")));
    }

    #[test]
    fn families_never_match_each_other() {
        let v6 = AddressRange::parse("::", "ffff::").unwrap();
        assert!(!v6.contains(ip("10.0.0.1")));
        let v4 = AddressRange::parse("0.0.0.0", "255.255.255.255").unwrap();
        assert!(!v4.contains(ip("2001:db8::1")));
        assert!(v6.contains(ip("2001:db8::1")));
    }

    #[test]
    fn bad_ranges_say_why() {
        assert_eq!(
            AddressRange::parse("10.0.0.300", "10.0.0.1").unwrap_err(),
            RangeError::NotAnAddress("10.0.0.300".into())
        );
        assert!(matches!(
            AddressRange::parse("10.0.0.1", "::1").unwrap_err(),
            RangeError::MixedFamilies { .. }
        ));
        let reversed = AddressRange::parse("10.0.0.9", "10.0.0.1").unwrap_err();
        assert_eq!(
            reversed.to_string(),
            "the range starts at 10.0.0.9, after its end 10.0.0.1"
        );
    }
}
