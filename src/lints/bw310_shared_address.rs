//! BW310 shared-address
//!
//! ## What it does
//! Warns when inventory entries with different names share an address, in one inventory or across several. The finding names both entries and points at both addresses.
//!
//! ## Why it matters
//! Virtual BMCs behind one endpoint (sushy-tools, VirtualBMC) and chassis managers really share an address, and the policy then treats them as one destination. Two physical BMCs cannot: one of the addresses is wrong, and a rule meant for one BMC reaches the other.
//!
//! ## Example
//! ```text
//! bmcs:
//!   - name: r1-n01-bmc
//!     address: 10.10.1.11
//!   - name: r1-n02-bmc
//!     address: 10.10.1.11     # the same address
//! ```
//!
//! ## How to fix
//! Correct the address, or, for entries that share an endpoint, accept the warning (`--allow BW310`). A name used twice is an error (BW005), not this warning.

// Reported by the resolver (src/resolve/inventory/); this file holds only its documentation.
