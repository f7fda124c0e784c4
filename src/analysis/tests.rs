use super::*;
use crate::resolve;
use crate::source::SourceMap;
use crate::syntax::Date;
use std::path::Path;

#[test]
fn ams1_table_agrees_with_first_match_on_cell_representatives() {
    let mut sources = SourceMap::default();
    let today = Date::parse("2026-11-21").unwrap();
    let (policy, diagnostics) = resolve::load(
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/ams1/ams1.wall"
        )),
        &mut sources,
        &resolve::Options { today },
    );
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let analysis = Analysis::new(&policy);
    for (s, src) in analysis.v4.src.classes.iter().enumerate() {
        for (d, dst) in analysis.v4.dst.classes.iter().enumerate() {
            for (v, svc) in analysis.services.classes.iter().enumerate() {
                let flow = Flow {
                    family: Family::V4,
                    src: u128::from(src.first().unwrap()),
                    dst: u128::from(dst.first().unwrap()),
                    service: service::representative(svc).unwrap(),
                };
                let expected = first_match(&policy, &flow);
                assert_eq!(
                    analysis.v4.decision(s, d, v).map(|o| analysis.rules[o]),
                    expected
                );
                assert_eq!(analysis.decide(&flow), expected);
            }
        }
    }
}
