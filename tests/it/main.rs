//! The integration tests, one crate: the command line through the real
//! binary, the library's pipeline on the fixture corpora, the formatter, the
//! inventories, the layer order, the kernel tests in network namespaces, and
//! the Ansible playbook against namespaces standing in for a fleet.
//! `support` is what the modules share; `harness` is the kernel test lab.

mod harness;
mod support;

mod ansible;
mod audit;
mod bench_equivalence;
mod cli;
mod config;
mod diagnostics;
mod diff;
mod differential;
mod editors;
mod fleet;
mod fmt;
mod fuzz;
mod gitops;
mod hostile;
mod inventory;
mod kernel;
mod layers;
mod lints;
mod lsp;
mod output;
mod record;
mod robustness;
mod rollback;
mod usage;
