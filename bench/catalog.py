"""The services and servers the benchmark policies are made of, shared by the
bmcwall generator (generate.py) and its Aerleon translation (aerleon_policy.py).
Standard library only."""

# Built-in services of the language (LANGUAGE.md), as (proto, lo, hi, cleartext).
BUILTIN = {
    "ssh": [("tcp", 22, 22, False)],
    "https": [("tcp", 443, 443, False)],
    "redfish": [("tcp", 443, 443, False)],
    "ipmi": [("udp", 623, 623, False)],
    "ntp": [("udp", 123, 123, False)],
    "syslog": [("udp", 514, 514, True)],
    "telnet": [("tcp", 23, 23, True)],
    "idrac": [("tcp", 443, 443, False), ("tcp", 22, 22, False),
              ("tcp", 5900, 5901, False), ("tcp", 3668, 3669, True)],
    "ilo": [("tcp", 443, 443, False), ("tcp", 22, 22, False),
            ("tcp", 17988, 17988, True), ("tcp", 17990, 17990, False)],
    "supermicro": [("tcp", 443, 443, False), ("tcp", 22, 22, False),
                   ("udp", 623, 623, False), ("tcp", 5900, 5900, True),
                   ("tcp", 5120, 5120, True), ("tcp", 5122, 5123, True)],
    "openbmc": [("tcp", 443, 443, False), ("tcp", 22, 22, False),
                ("tcp", 2200, 2200, False), ("udp", 623, 623, False)],
    "xcc": [("tcp", 443, 443, False), ("tcp", 22, 22, False)],
    "cimc": [("tcp", 443, 443, False), ("tcp", 22, 22, False),
             ("tcp", 2068, 2068, False), ("udp", 623, 623, False)],
}
# Ports a BW206 implementation may consider cleartext even in a custom service
# (the built-in cleartext items: telnet, http, snmp, snmp-trap, syslog, ldap, vnc, ...).
CLEARTEXT_PORTS = [("tcp", 23, 23), ("tcp", 80, 80), ("udp", 161, 162), ("udp", 514, 514),
                   ("tcp", 389, 389), ("tcp", 5900, 5901), ("tcp", 3668, 3669),
                   ("tcp", 17988, 17988), ("tcp", 5120, 5120), ("tcp", 5122, 5123)]

# Custom services: name -> (items, text of the definition).
CUSTOM = {
    "vendor-kvm": ([("tcp", 5900, 5901, True), ("tcp", 5120, 5120, True)],
                   "tcp 5900-5901, tcp 5120"),
    "bmc-web-alt": ([("tcp", 8443, 8443, False)], "tcp 8443"),
    "serial-console": ([("tcp", 2200, 2200, False), ("tcp", 22, 22, False)],
                       "tcp 2200, tcp 22"),
    "redfish-events": ([("tcp", 443, 443, False), ("tcp", 8443, 8443, False)],
                       "tcp 443, 8443"),
    "hpe-ams": ([("tcp", 17990, 17990, False)], "tcp 17990"),
    "dell-racadm": ([("tcp", 443, 443, False), ("tcp", 5900, 5901, True)],
                    "tcp 443, tcp 5900-5901"),
    "fw-update": ([("tcp", 443, 443, False), ("tcp", 8080, 8080, False)],
                  "tcp 443, tcp 8080"),
}
SERVICES = {**BUILTIN, **{k: v[0] for k, v in CUSTOM.items()}}

# Servers the BMCs talk to: (kind, name, addresses).
INFRA = [("host", "ntp1", "10.0.0.123, fd00::123"),
         ("host", "ntp2", "10.0.1.123, fd00::1:123"),
         ("group", "ntp-servers", "ntp1, ntp2"),
         ("network", "syslog-servers", "10.0.2.0/28, fd00::2:0/124")]
