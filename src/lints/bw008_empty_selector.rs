//! BW008 empty-selector
//!
//! ## What it does
//! Warns when `inventory(...)` matches no inventory entry. The help names
//! the first `label = "value"` condition that no entry meets and the closest
//! label name or value the inventories have; for `vendor`, a closed set, the
//! closest vendor.
//!
//! ## Why it matters
//! A selector that matches nothing makes its rule cover no BMC, usually because of a misspelt label value.
//!
//! ## Example
//! ```text
//! bmc rack-z = inventory(site = "ams1", rack = "z");   # no rack z
//! bmc r01    = inventory(rak = "r01");                 # did you mean `rack`?
//! bmc smc    = inventory(vendor = "supermciro");       # did you mean `supermicro`?
//! ```
//!
//! ## How to fix
//! Check the label names and values against the inventory files.

// Reported by the resolver (src/resolve); this file holds only its documentation.
