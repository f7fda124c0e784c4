//! BW009 empty-inventory
//!
//! ## What it does
//! Reports an inventory that yields no BMC: a file with no hosts, or whose hosts, devices or nodes have no address in the keys the format reads (or in the one named with `address KEY`). The finding is at the `inventory` statement; its help names the keys in the file that look like addresses, with how many entries have each.
//!
//! ## Why it matters
//! An empty inventory makes `bmcs` and every selector over it empty: `expect deny internet -> bmcs` then holds because there is nothing to protect, and `compile` writes a table that protects nothing. It is almost always an inventory whose BMC addresses are under a key bmcwall does not read by default.
//!
//! ## Example
//! ```text
//! inventory "hosts.ini";          # every host has `ansible_host` and `mgmt_ip`, none `bmc_address`
//! ```
//!
//! ## How to fix
//! Name the key that holds each BMC's address: `inventory "hosts.ini" address mgmt_ip;`. `ansible_host` is read only when named (`address ansible_host`), as it is usually the address of the host's operating system. For NetBox, set each device's out-of-band IP (`oob_ip`, NetBox 3.6 and later).

// Reported by the resolver (src/resolve/inventory/); this file holds only its documentation.
