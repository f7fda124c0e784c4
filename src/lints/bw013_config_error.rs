//! BW013 config-error.
//!
//! ## What it does
//! Reports a `bmcwall.toml` that is not valid: TOML syntax, a key bmcwall does not
//! know (with a suggestion), a value of the wrong type, a code, prefix or group that
//! does not exist, a code that cannot be lowered (BW001-BW007) under `warn` or
//! `allow`, and a threshold out of range (prefix lengths 0-32 for IPv4, 0-128 for
//! IPv6; days 0-3650). The label points at the value in the file.
//!
//! ## Why it matters
//! A misspelt key or code would silently leave a check at a level nobody chose.
//!
//! ## Example
//! ```text
//! [lints]
//! allow = ["BW001"]        # the input errors cannot be lowered
//! [thresholds]
//! broad-source-v4 = 40     # an IPv4 prefix is at most /32
//! ```
//!
//! ## How to fix
//! Fix the value the label points at; docs/configuration.md lists the keys.

// Reported by the command line when it reads bmcwall.toml; this file holds only its
// documentation.
