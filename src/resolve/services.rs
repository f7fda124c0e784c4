//! The built-in service catalogue of docs/language.md.

use crate::addr::service::{self, ServiceSet, TCP, UDP};

/// One item of a built-in service; `cleartext` items matter to BW206.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinItem {
    pub proto: u8,
    pub lo: u16,
    pub hi: u16,
    pub cleartext: bool,
}

const fn item(proto: u8, lo: u16, hi: u16, cleartext: bool) -> BuiltinItem {
    BuiltinItem {
        proto,
        lo,
        hi,
        cleartext,
    }
}

/// Name and items of every built-in service.
pub const BUILTIN: &[(&str, &[BuiltinItem])] = &[
    ("ssh", &[item(TCP, 22, 22, false)]),
    ("telnet", &[item(TCP, 23, 23, true)]),
    ("http", &[item(TCP, 80, 80, true)]),
    ("https", &[item(TCP, 443, 443, false)]),
    ("redfish", &[item(TCP, 443, 443, false)]),
    ("ipmi", &[item(UDP, 623, 623, false)]),
    ("snmp", &[item(UDP, 161, 161, true)]),
    ("snmp-trap", &[item(UDP, 162, 162, true)]),
    ("ntp", &[item(UDP, 123, 123, false)]),
    ("dns", &[item(UDP, 53, 53, false), item(TCP, 53, 53, false)]),
    ("syslog", &[item(UDP, 514, 514, true)]),
    ("ldap", &[item(TCP, 389, 389, true)]),
    ("ldaps", &[item(TCP, 636, 636, false)]),
    ("smtp", &[item(TCP, 25, 25, false)]),
    ("vnc", &[item(TCP, 5900, 5901, true)]),
    (
        "idrac",
        &[
            item(TCP, 443, 443, false),
            item(TCP, 22, 22, false),
            item(TCP, 5900, 5901, false),
            item(TCP, 3668, 3669, true),
        ],
    ),
    (
        "ilo",
        &[
            item(TCP, 443, 443, false),
            item(TCP, 22, 22, false),
            item(TCP, 17988, 17988, true),
            item(TCP, 17990, 17990, false),
        ],
    ),
    (
        "supermicro",
        &[
            item(TCP, 443, 443, false),
            item(TCP, 22, 22, false),
            item(UDP, 623, 623, false),
            item(TCP, 5900, 5900, true),
            item(TCP, 5120, 5120, true),
            item(TCP, 5122, 5123, true),
        ],
    ),
    (
        "idrac-encrypted",
        &[
            item(TCP, 443, 443, false),
            item(TCP, 22, 22, false),
            item(TCP, 5900, 5901, false),
        ],
    ),
    ("idrac-cleartext", &[item(TCP, 3668, 3669, true)]),
    (
        "ilo-encrypted",
        &[
            item(TCP, 443, 443, false),
            item(TCP, 22, 22, false),
            item(TCP, 17990, 17990, false),
        ],
    ),
    ("ilo-cleartext", &[item(TCP, 17988, 17988, true)]),
    (
        "supermicro-encrypted",
        &[
            item(TCP, 443, 443, false),
            item(TCP, 22, 22, false),
            item(UDP, 623, 623, false),
        ],
    ),
    (
        "supermicro-cleartext",
        &[
            item(TCP, 5900, 5900, true),
            item(TCP, 5120, 5120, true),
            item(TCP, 5122, 5123, true),
        ],
    ),
    (
        "openbmc",
        &[
            item(TCP, 443, 443, false),
            item(TCP, 22, 22, false),
            item(TCP, 2200, 2200, false),
            item(UDP, 623, 623, false),
        ],
    ),
    (
        "xcc",
        &[item(TCP, 443, 443, false), item(TCP, 22, 22, false)],
    ),
    (
        "cimc",
        &[
            item(TCP, 443, 443, false),
            item(TCP, 22, 22, false),
            item(TCP, 2068, 2068, false),
            item(UDP, 623, 623, false),
        ],
    ),
];

/// The vendor sets that have cleartext items, each with its encrypted and
/// its cleartext part, themselves built-in services.
pub const VENDOR_PARTS: &[(&str, &str, &str)] = &[
    ("idrac", "idrac-encrypted", "idrac-cleartext"),
    ("ilo", "ilo-encrypted", "ilo-cleartext"),
    ("supermicro", "supermicro-encrypted", "supermicro-cleartext"),
];

/// The encrypted part of a vendor set with cleartext items.
pub fn encrypted_part(name: &str) -> Option<&'static str> {
    VENDOR_PARTS
        .iter()
        .find(|(vendor, _, _)| *vendor == name)
        .map(|&(_, encrypted, _)| encrypted)
}

/// The items of a built-in service, if `name` is one.
pub fn builtin(name: &str) -> Option<&'static [BuiltinItem]> {
    BUILTIN
        .iter()
        .find(|(builtin_name, _)| *builtin_name == name)
        .map(|(_, items)| *items)
}

pub fn to_set(items: &[BuiltinItem]) -> ServiceSet {
    items.iter().fold(ServiceSet::empty(), |set, i| {
        set.union(&service::ports(i.proto, i.lo, i.hi))
    })
}

/// Every port that some built-in service marks as cleartext.
pub fn cleartext() -> ServiceSet {
    let items: Vec<BuiltinItem> = BUILTIN
        .iter()
        .flat_map(|(_, items)| items.iter().copied())
        .filter(|i| i.cleartext)
        .collect();
    to_set(&items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vendor_set_is_its_encrypted_part_and_its_cleartext_part() {
        for &(vendor, encrypted, cleartext) in VENDOR_PARTS {
            let whole = builtin(vendor).expect("a vendor set");
            let (secure, clear) = (builtin(encrypted), builtin(cleartext));
            let (secure, clear) = (secure.expect("its part"), clear.expect("its part"));
            assert!(secure.iter().all(|i| !i.cleartext), "{encrypted}");
            assert!(clear.iter().all(|i| i.cleartext), "{cleartext}");
            assert_eq!(
                to_set(whole),
                to_set(secure).union(&to_set(clear)),
                "{vendor}"
            );
            let marked: Vec<BuiltinItem> = whole.iter().copied().filter(|i| i.cleartext).collect();
            assert_eq!(to_set(&marked), to_set(clear), "{vendor}");
            assert_eq!(encrypted_part(vendor), Some(encrypted));
        }
        // Every vendor set with a cleartext item is split.
        for (name, items) in BUILTIN {
            let vendor = ["idrac", "ilo", "supermicro", "openbmc", "xcc", "cimc"].contains(name);
            if vendor && items.iter().any(|i| i.cleartext) {
                assert!(encrypted_part(name).is_some(), "{name}");
            }
        }
    }
}
