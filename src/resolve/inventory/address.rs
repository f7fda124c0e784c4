//! A BMC address as inventories write it: an IP address, a URL as the tools
//! write them (`ipmi://10.0.0.5:623`, `redfish+https://10.0.0.5/redfish/v1`,
//! `https://idrac-1`), `ADDRESS:PORT`, or a host name; and what cannot be an
//! address (a Jinja template, an Ansible Vault value).

use std::net::{IpAddr, ToSocketAddrs};

/// What an address value is.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Address {
    Ip(IpAddr),
    /// A host name, to be resolved.
    Name(String),
    /// `{{ ... }}`: Jinja, which bmcwall does not render.
    Template,
    /// `$ANSIBLE_VAULT;...`: encrypted.
    Vault,
    /// Not an address; the help, when there is a more precise one.
    Bad(Option<String>),
}

/// Reads an address value. `prefix_length`: a prefix length after the
/// address (`10.0.0.5/24`, as NetBox writes it) is allowed and dropped.
pub(super) fn read(text: &str, prefix_length: bool) -> Address {
    let text = text.trim();
    if text.contains("{{") || text.contains("{%") {
        return Address::Template;
    }
    if text.starts_with("$ANSIBLE_VAULT") {
        return Address::Vault;
    }
    let host = host_of(text);
    let (host, length) = match host.split_once('/') {
        Some((host, length)) => (host, Some(length)),
        None => (host, None),
    };
    if let Ok(address) = host.parse::<IpAddr>() {
        return match length {
            None => Address::Ip(address),
            Some(length) if prefix_length => {
                let max = if address.is_ipv4() { 32 } else { 128 };
                let valid = length.len() <= 3
                    && !length.is_empty()
                    && length.bytes().all(|b| b.is_ascii_digit())
                    && length.parse().is_ok_and(|l: u8| l <= max);
                if valid {
                    Address::Ip(address)
                } else {
                    Address::Bad(Some(format!(
                        "a prefix length after an address is 0-{max}, like `10.0.0.5/24` or `fd00::5/64`"
                    )))
                }
            }
            Some(_) => Address::Bad(Some(
                "a BMC address is one IPv4 or IPv6 address, without a prefix length".into(),
            )),
        };
    }
    if length.is_none() && is_host_name(host) {
        return Address::Name(host.trim_end_matches('.').to_ascii_lowercase());
    }
    Address::Bad(None)
}

/// The host part of a URL (`scheme://[user@]host[:port][/path]`) or of
/// `host:port`; anything else as it is.
fn host_of(text: &str) -> &str {
    let authority = match text.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b)) =>
        {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let authority = &rest[..end];
            // User information (`user:password@`) is never the host.
            authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host)
        }
        _ => text,
    };
    if let Some(rest) = authority.strip_prefix('[') {
        // `[fd00::5]:623`
        return rest.split_once(']').map_or(authority, |(host, _)| host);
    }
    match authority.split_once(':') {
        // One colon: a port. More: an IPv6 address.
        Some((host, port))
            if !port.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host
        }
        _ => authority,
    }
}

/// A DNS name: labels of letters, digits and `-`, not all digits.
fn is_host_name(text: &str) -> bool {
    let text = text.strip_suffix('.').unwrap_or(text);
    !text.is_empty()
        && text.len() <= 253
        && text.bytes().any(|b| b.is_ascii_alphabetic())
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The addresses `name` resolves to through the system resolver (the hosts
/// file, DNS, whatever the system is set to use), sorted.
pub(super) fn resolve(name: &str) -> Result<Vec<IpAddr>, String> {
    let resolved = (name, 0)
        .to_socket_addrs()
        .map_err(|error| resolver_error(&error))?;
    let mut addresses: Vec<IpAddr> = resolved.map(|socket| socket.ip()).collect();
    addresses.sort();
    addresses.dedup();
    if addresses.is_empty() {
        return Err("no address".into());
    }
    Ok(addresses)
}

/// The resolver's error in a few words.
fn resolver_error(error: &std::io::Error) -> String {
    let text = error.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    text.trim_end_matches('.').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Address {
        Address::Ip(text.parse().expect("an address"))
    }

    #[test]
    fn urls_and_ports_give_their_host() {
        for (text, want) in [
            ("10.0.0.5", ip("10.0.0.5")),
            (" 10.0.0.5 ", ip("10.0.0.5")),
            ("ipmi://10.0.0.5:623", ip("10.0.0.5")),
            (
                "redfish+https://10.0.0.5/redfish/v1/Systems/1",
                ip("10.0.0.5"),
            ),
            (
                "idrac-virtualmedia://10.0.0.6/redfish/v1/Systems/System.Embedded.1",
                ip("10.0.0.6"),
            ),
            ("https://admin:calvin@10.0.0.7:8443/", ip("10.0.0.7")),
            (
                "redfish-virtualmedia+http://[fd00::8]:8000/redfish/v1",
                ip("fd00::8"),
            ),
            ("10.0.0.9:623", ip("10.0.0.9")),
            ("[fd00::9]:623", ip("fd00::9")),
            ("fd00::10", ip("fd00::10")),
            ("https://idrac-1", Address::Name("idrac-1".into())),
            (
                "mgmt-worker-0.Example.com.",
                Address::Name("mgmt-worker-0.example.com".into()),
            ),
            ("{{ hostvars[inventory_hostname].bmc }}", Address::Template),
            ("$ANSIBLE_VAULT;1.1;AES256\n6162", Address::Vault),
            ("10.0.0.256", Address::Bad(None)),
            ("", Address::Bad(None)),
            ("not an address", Address::Bad(None)),
        ] {
            assert_eq!(read(text, false), want, "{text}");
        }
    }

    #[test]
    fn prefix_lengths_only_where_the_format_writes_them() {
        assert_eq!(read("10.0.0.5/24", true), ip("10.0.0.5"));
        assert_eq!(read("fd00::5/64", true), ip("fd00::5"));
        assert!(matches!(read("10.0.0.5/33", true), Address::Bad(Some(_))));
        assert!(matches!(read("10.0.0.5/24", false), Address::Bad(Some(_))));
    }

    #[test]
    fn localhost_resolves() {
        // From the hosts file: no DNS is asked.
        assert!(resolve("localhost").is_ok_and(|a| a.iter().any(IpAddr::is_loopback)));
    }
}
