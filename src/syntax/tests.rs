use super::*;
use crate::source::FileId;

#[test]
fn parses_the_language_example() {
    let text = include_str!("../../examples/ams1/ams1.wall");
    let (ast, diagnostics) = parse(FileId(0), text);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(ast.statements.len(), 18);
}
