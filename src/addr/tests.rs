use super::*;

#[test]
fn prefixes_cover_a_range_exactly() {
    assert_eq!(to_prefixes(0u32, u32::MAX), vec![(0, 0)]);
    assert_eq!(to_prefixes(10u32, 10), vec![(10, 32)]);
    assert_eq!(
        to_prefixes(1u32, 6),
        vec![(1, 32), (2, 31), (4, 31), (6, 32)]
    );
}
