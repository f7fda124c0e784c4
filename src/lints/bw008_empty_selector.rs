//! BW008 empty-selector
//!
//! ## What it does
//! Warns when `inventory(...)` matches no inventory entry.
//!
//! ## Why it matters
//! A selector that matches nothing makes its rule cover no BMC, usually because of a misspelt label value.
//!
//! ## Example
//! ```text
//! bmc rack-z = inventory(site = "ams1", rack = "z");   # no rack z
//! ```
//!
//! ## How to fix
//! Check the label names and values against the inventory files.

// Reported by the resolver (src/resolve); this file holds only its documentation.
