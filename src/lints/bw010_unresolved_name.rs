//! BW010 unresolved-name
//!
//! ## What it does
//! Reports a BMC address in an inventory that is a host name (`idrac-db1`, `https://mgmt-worker-0.example.com`) when the `inventory` statement does not say `resolve`, and, with `resolve`, a name the system resolver cannot resolve. The label points at the name in the inventory file.
//!
//! ## Why it matters
//! The firewall matches addresses, not names. A name is resolved once, when the policy is read, and the addresses it resolved to are written in the compiled output; `resolve` makes that choice explicit, and a name that does not resolve would leave a BMC out of the table.
//!
//! ## Example
//! ```text
//! [idrac]
//! db1 idrac_ip=idrac-db1.mgmt.example.com
//! ```
//!
//! ## How to fix
//! Write the BMC's IP address, or add `resolve` to the statement (`inventory "hosts.ini" resolve;`) and make sure the name resolves where bmcwall runs.

// Reported by the resolver (src/resolve/inventory/); this file holds only its documentation.
