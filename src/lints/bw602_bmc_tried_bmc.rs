//! BW602 bmc-tried-bmc
//!
//! ## What it does
//! Reports, in `bmcwall audit`, a BMC whose flow to another BMC the gateway denied and recorded.
//!
//! ## Why it matters
//! BMCs do not talk to each other. A BMC that tries is misconfigured (a cluster feature such as group management) or is being used to move laterally.
//!
//! ## Example
//! ```text
//! bmc-a1 (10.1.0.11) -> bmc-b7 (10.1.1.17) tcp 623: 12 packets, 720 bytes
//! ```
//!
//! ## How to fix
//! Turn off the BMC feature that opens the flow, or find out what runs on the BMC.

// Reported by `bmcwall audit` from the recording sets of a live table; this file
// holds only its documentation.
