//! BW011 gateway-error
//!
//! ## What it does
//! Reports a `gateway` declaration that cannot be compiled: an item (`scope`, `pair`, `mode`, `sync`) written twice in one gateway's braces, a gateway without an address, or a top-level `scope` statement in a policy that declares gateways. A gateway name declared twice is BW003.
//!
//! ## Why it matters
//! With gateways, each gateway says which flows it governs; a top-level `scope` would be a second, competing answer. A repeated item leaves it unclear which value holds.
//!
//! ## Example
//! ```text
//! scope 10.1.0.0/16;
//! gateway ams1-gw = 10.1.0.1 { scope 10.1.8.0/24; mode forward; mode host; }
//! ```
//!
//! ## How to fix
//! Move the `scope` into the gateway's braces; write one `mode` with both values (`mode forward, host;`).

// Reported by the resolver (src/resolve/gateways.rs); this file holds only its documentation.
