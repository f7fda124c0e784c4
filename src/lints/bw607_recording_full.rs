//! BW607 recording-full
//!
//! ## What it does
//! Reports, in `bmcwall audit`, a recording set that holds as many elements as its size: denied flows beyond it were dropped but not recorded until elements expire.
//!
//! ## Why it matters
//! A full set means the report is incomplete, most often after a scan of many addresses or ports. The verdicts are not affected: every denied packet is still dropped.
//!
//! ## Example
//! ```text
//! denied_to_bmcs_ports_v4 holds 65536 of 65536 elements
//! ```
//!
//! ## How to fix
//! Raise `--record-size` or lower `--record-timeout` when compiling, or look for the scan that filled it.

// Reported by `bmcwall audit` from the recording sets of a live table; this file
// holds only its documentation.
