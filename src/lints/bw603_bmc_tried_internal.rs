//! BW603 bmc-tried-internal
//!
//! ## What it does
//! Reports, in `bmcwall audit`, a BMC whose flow to an internal host (no BMC) the gateway denied and recorded, naming the host by the smallest policy definition that holds it.
//!
//! ## Why it matters
//! A BMC that needs an internal service (NTP, syslog, LDAP) the policy does not allow shows up here; so does one that probes the internal network.
//!
//! ## Example
//! ```text
//! bmc-a1 (10.1.0.11) -> 10.0.0.5 (in servers) udp 514 (syslog): 40 packets, 4800 bytes
//! ```
//!
//! ## How to fix
//! Allow the service when the BMC needs it (`allow bmcs -> syslog-servers : syslog;`), or turn it off on the BMC.

// Reported by `bmcwall audit` from the recording sets of a live table; this file
// holds only its documentation.
