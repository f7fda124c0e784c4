//! BW606 knock-from-internal
//!
//! ## What it does
//! Reports, in `bmcwall audit`, flows from internal addresses to a BMC that the policy denies and the gateway recorded, naming the source by the smallest policy definition that holds it.
//!
//! ## Why it matters
//! An admin whose access is missing, a monitoring system nobody allowed, or someone scanning the BMCs: the denied attempts say which.
//!
//! ## Example
//! ```text
//! 10.0.5.20 (in office) -> bmc-a1 (10.1.0.11) tcp 443 (https): 8 packets
//! ```
//!
//! ## How to fix
//! Allow the source when it should reach the BMC; otherwise find out who it is.

// Reported by `bmcwall audit` from the recording sets of a live table; this file
// holds only its documentation.
