//! bmcwall: compile a BMC management-network policy into nftables, after
//! checking it. The modules follow the pipeline; see ARCHITECTURE.md.

// The parser pest derives without its `std` feature names `alloc`.
extern crate alloc;

pub mod addr;
pub mod analysis;
pub mod cli;
pub mod diagnostic;
pub mod fmt;
#[doc(hidden)]
pub mod fuzz;
pub(crate) mod lints;
pub mod model;
pub mod nft;
pub mod pipeline;
pub mod resolve;
pub mod source;
pub mod syntax;
