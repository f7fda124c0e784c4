//! BW006 invalid-value
//!
//! ## What it does
//! Reports a value of the right shape but wrong content: an address that does not exist, a prefix with host bits set (the help names the intended network), a prefix length out of range, a port outside 1-65535, a range that ends before it starts or mixes families, a date that is not in the calendar, a `host` with more than single addresses, a `waive` with an unknown code or without a reason, an inventory `format` other than `native`, `ansible` and `netbox`, a defined name longer than 240 characters (the `rules` layout names nftables sets after definitions, and nft takes 255).
//!
//! ## Why it matters
//! `10.1.2.3/16` usually means `10.1.0.0/16`, but it might mean `10.1.2.3/32`; bmcwall does not guess.
//!
//! ## Example
//! ```text
//! network lab = 10.1.2.3/16;   # did you mean `10.1.0.0/16`?
//! ```
//!
//! ## How to fix
//! Write the value as the help says.

// Reported by the parser (src/syntax); this file holds only its documentation.
