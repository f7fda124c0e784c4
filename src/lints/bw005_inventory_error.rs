//! BW005 inventory-error
//!
//! ## What it does
//! Reports an inventory that cannot be read or is not valid, in any of its formats, and a name used twice across all inventories. The label points into the inventory file at the line and column of the offending text.
//!
//! - Every format: a file that is plainly something else than the format named (`this is not a native inventory: it is an Ansible INI inventory`, `this is a Kubernetes Secret, not an inventory`), one error for the whole file; a file whose format is not given and cannot be told (the error lists the candidates); a BMC address that is not an address (`10.10.1.300`, a prefix length where none belongs, a list, a mapping), a Jinja template or an Ansible Vault value in the address variable; an entry with an address but no name.
//! - Native YAML (`format native`, the default): YAML syntax, unknown top-level keys, entries without a name or an address, labels that are not single values, keys that are nearly `name`, `address`, `addresses` or `vendor` (`adress`, `vendr`, `Vendor`: with the suggestion), and labels spelt with other case than most entries use (`Site` among `site`).
//! - Ansible inventories (`format ansible`): YAML or INI syntax, a top level that is not a mapping of groups, groups, `hosts`, `children` or `vars` of the wrong shape, unknown group keys, groups that contain themselves, bad host ranges (`node[3:1]`).
//! - NetBox exports (`format netbox`): JSON syntax, a top level that is neither a page of `GET /api/dcim/devices/`, an array of devices nor one device, fields of the wrong shape, a bad `oob_ip.address`, a page whose `next` points at more devices, an export of another endpoint.
//!
//! Shared addresses are a warning (BW310), unknown vendors a warning (BW309), host names without `resolve` BW010 and an inventory without any BMC BW009.
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
//! [idrac]
//! db1 idrac_ip="{{ lookup('env', 'DB1_IDRAC') }}"   # a template: bmcwall does not render it
//! ```
//!
//! ## How to fix
//! Fix the entry the label points at. For a file read as the wrong format, write the format it is, or leave `format` out. For a partial NetBox export, fetch every page and join their `results` into one array.

// Reported by the resolver (src/resolve/inventory/); this file holds only its documentation.
