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
