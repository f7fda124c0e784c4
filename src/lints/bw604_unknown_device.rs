//! BW604 unknown-device
//!
//! ## What it does
//! Reports, in `bmcwall audit`, an address on a network named by `watch` that is no BMC of any inventory, no `host` and no gateway of the policy, and whose flows the gateway denied and recorded.
//!
//! ## Why it matters
//! Knowing what is on the management network is the first half of isolating it: an unknown device there is a BMC missing from the inventory (and so from the policy's checks), or something that should not be there at all.
//!
//! ## Example
//! ```text
//! watch 10.1.0.0/16;
//! # audit: 10.1.0.250 (in mgmt-ams1) -> 203.0.113.9 (internet) tcp 443 (https): 5 packets
//! ```
//!
//! ## How to fix
//! Add the BMC to its inventory, or find and remove the device.

// Reported by `bmcwall audit` from the recording sets of a live table; this file
// holds only its documentation.
