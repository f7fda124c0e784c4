//! BW005 inventory-error
//!
//! ## What it does
//! Reports an inventory that cannot be read or is not valid, in any of its formats, and names or addresses used twice across all inventories. The label points into the inventory file at the line and column of the offending text.
//!
//! - Native YAML (`format native`, the default): YAML syntax, unknown top-level keys, entries without a name or an address, bad addresses, unknown vendors, labels that are not single values, keys that are nearly `name`, `address`, `addresses` or `vendor` (`adress`, `vendr`, `Vendor`: with the suggestion), and labels spelt with other case than most entries use (`Site` among `site`).
//! - Ansible inventories (`format ansible`): YAML syntax (an INI inventory, say), a top level that is not a mapping of groups, groups, `hosts`, `children` or `vars` of the wrong shape, unknown group keys, groups that contain themselves, a `bmc_address` or `ansible_host` that is not one IP address (a host name, for instance), unknown vendors.
//! - NetBox exports (`format netbox`): JSON syntax, a top level that is neither a page of `GET /api/dcim/devices/` nor an array of devices, fields of the wrong shape, a bad `oob_ip.address`, a device with an out-of-band address but no name, a page whose `next` points at more devices.
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
//! ```text
//! all:
//!   hosts:
//!     r1-bmc:
//!       ansible_host: r1-bmc.mgmt.example.com   # a name: bmcwall needs an IP address
//! ```
//!
//! ## How to fix
//! Fix the entry the label points at. For an Ansible host whose `ansible_host` is a name, add `bmc_address: ADDRESS`, which is read first. For a partial NetBox export, fetch every page.

// Reported by the resolver (src/resolve/inventory/); this file holds only its documentation.
