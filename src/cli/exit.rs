//! How a run ends: the one type that knows bmcwall's exit codes. Every command
//! returns an [`Exit`]; only [`Exit::code`] turns it into a number.

use crate::pipeline::Checked;

/// The outcome of a command, ordered from best to worst, so that the outcome of
/// several files is the worst of theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Done, and nothing at error level: the policy is clean, the table was
    /// written or applied, the live table equals the compiled one.
    Success,
    /// Error-level findings remain; for `plan`, the live table differs from
    /// the compiled one; for `fmt --check`, a file is not formatted.
    Findings,
    /// The input is not a valid policy (any error-level BW0xx), a file could
    /// not be read or written, or the command line is wrong.
    Invalid,
    /// Refused, and nothing changed: `nft` refused the ruleset, the live table
    /// could not be read or compared, is not bmcwall's, changed since the plan
    /// (`--expect-live`), another apply holds the gateway, or the namespace is
    /// missing.
    Refused,
    /// `apply --confirm` was not confirmed and the previous table is back.
    RolledBack,
    /// The previous table could not be put back, or was not because someone
    /// else changed the table in the window: a human must look.
    RollbackFailed,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Findings => 1,
            Exit::Invalid => 2,
            Exit::Refused => 3,
            Exit::RolledBack => 4,
            Exit::RollbackFailed => 5,
        }
    }

    /// The outcome of checking one policy: invalid input, error-level
    /// findings, or clean.
    pub fn of(checked: &Checked) -> Exit {
        if checked.input_invalid() {
            Exit::Invalid
        } else if checked.has_errors() {
            Exit::Findings
        } else {
            Exit::Success
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    /// The documented codes (README, `bmcwall --help` of plan and apply).
    #[test]
    fn every_outcome_has_its_documented_code_and_the_worst_wins() {
        let all = [
            Exit::Success,
            Exit::Findings,
            Exit::Invalid,
            Exit::Refused,
            Exit::RolledBack,
            Exit::RollbackFailed,
        ];
        assert_eq!(all.map(Exit::code), [0, 1, 2, 3, 4, 5]);
        assert_eq!(all.iter().copied().max(), Some(Exit::RollbackFailed));
        assert_eq!(
            [Exit::Findings, Exit::Invalid, Exit::Success].iter().max(),
            Some(&Exit::Invalid)
        );
    }
}
