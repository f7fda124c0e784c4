//! BW005 inventory-error
//!
//! ## What it does
//! Reports an inventory that cannot be read or is not valid: YAML syntax, unknown top-level keys, entries without a name or an address, bad addresses, unknown vendors, labels that are not single values, and names or addresses used twice across all inventories. The label points into the YAML file.
//!
//! ## Why it matters
//! The inventory decides which addresses are BMCs; a broken one would leave BMCs unprotected by the exposure checks.
//!
//! ## Example
//! ```text
//! bmcs:
//!   - name: r1-bmc
//!     address: 10.10.1.300     # not an address
//! ```
//!
//! ## How to fix
//! Fix the entry the label points at.

// Reported by the resolver (src/resolve/inventory.rs); this file holds only its documentation.
