//! BW605 knock-from-internet
//!
//! ## What it does
//! Reports, in `bmcwall audit`, flows from the internet to a BMC that the gateway denied and recorded: who knocks, on which BMC and service.
//!
//! ## Why it matters
//! The policy keeps the internet out; the knocks show that the management network is reachable from it up to the gateway, and who scans it.
//!
//! ## Example
//! ```text
//! 203.0.113.7 (internet) -> bmc-a1 (10.1.0.11) udp 623 (ipmi): 3 packets
//! ```
//!
//! ## How to fix
//! Nothing to fix in the policy; check the routing that brings internet traffic to the gateway.

// Reported by `bmcwall audit` from the recording sets of a live table; this file
// holds only its documentation.
