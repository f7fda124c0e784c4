//! BW601 bmc-called-out
//!
//! ## What it does
//! Reports, in `bmcwall audit`, a BMC whose flow to the internet the gateway denied and recorded: the BMC's name, inventory labels, the destination, protocol and port, packets, bytes and when it was last seen.
//!
//! ## Why it matters
//! The policy already denies it; the attempt itself is the news. A BMC has no business calling out: firmware that phones home, an update check nobody configured, or an implant looking for its operator. The standing advice is not only to let nothing out but to watch what tries.
//!
//! ## Example
//! ```text
//! bmc-a1 (10.1.0.11; bmcs.yaml:3: rack=a, site=ams1, vendor=dell) -> 203.0.113.53 (internet) udp 53 (dns): 3 packets, 180 bytes
//! ```
//!
//! ## How to fix
//! Find out what on the BMC opens the flow (NTP, DNS, syslog, an update service, a vendor's telemetry) and point it at an internal server allowed by the policy, or turn it off; if nothing explains it, treat the BMC as compromised.

// Reported by `bmcwall audit` from the recording sets of a live table; this file
// holds only its documentation.
