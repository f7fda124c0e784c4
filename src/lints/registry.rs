//! The checks run on a valid policy, in code order. The codes themselves, with
//! their names, levels and documentation, are `crate::diagnostic::Code`.

/// A check: reads the context, pushes findings.
pub type Check = fn(&super::Context, &mut Vec<crate::diagnostic::Diagnostic>);

/// Every check run on a valid policy, in code order. BW001-BW010, BW309 and
/// BW310 are reported by the parser and the resolver.
pub const CHECKS: &[Check] = &[
    super::bw101_shadowed_rule::check,
    super::bw102_redundant_rule::check,
    super::bw103_correlated_rules::check,
    super::bw104_generalization::check,
    super::bw105_out_of_scope_rule::check,
    super::bw106_unwatched_network::check,
    super::bw201_internet_exposure::check,
    super::bw202_transitive_exposure::check,
    super::bw203_bmc_egress::check,
    super::bw204_bmc_lateral::check,
    super::bw205_broad_ipmi::check,
    super::bw206_cleartext_service::check,
    super::bw207_broad_source::check,
    super::bw208_any_service::check,
    super::bw301_expired_rule::check,
    super::bw302_expiring_rule::check,
    super::bw303_unused_definition::check,
    // After BW206: it reads the findings that list services.
    super::bw304_broad_waiver::check,
    super::bw401_expectation_failed::check,
    super::bw501_ungoverned_bmc::check,
    super::bw502_invalid_pair::check,
    super::bw503_gateway_overlap::check,
];
