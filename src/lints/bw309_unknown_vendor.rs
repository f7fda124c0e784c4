//! BW309 unknown-vendor
//!
//! ## What it does
//! Warns about an inventory entry whose vendor is not one bmcwall knows: `dell`, `hpe`, `supermicro`, `lenovo`, `cisco`, `openbmc`, `other`. Vendors are compared without case (`Dell` is `dell`), and the help suggests the known vendor meant (`HP` is `hpe`, `Super Micro` is `supermicro`).
//!
//! ## Why it matters
//! `inventory(vendor = "dell")` selects by the `vendor` label; a vendor written another way is silently left out of such a selector.
//!
//! ## Example
//! ```text
//! bmcs:
//!   - name: r1-bmc
//!     address: 10.10.1.11
//!     vendor: HP
//! ```
//!
//! ## How to fix
//! Write the vendor as suggested, or `other`. The entry keeps its vendor, in lower case, as its `vendor` label.

// Reported by the resolver (src/resolve/inventory/); this file holds only its documentation.
