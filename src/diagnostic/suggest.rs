//! "Did you mean": the known word closest to one that is not known.

/// How similar (Jaro-Winkler, 0 to 1) a candidate must be to be suggested.
const THRESHOLD: f64 = 0.8;

/// The candidate most like `word`, if one is similar enough to suggest.
/// Among equally similar candidates the one given last wins, so a caller
/// whose candidates come in no fixed order sorts them first.
pub fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score >= THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_the_most_similar_word_above_the_threshold() {
        assert_eq!(
            closest("hots", ["hosts", "children", "vars"]),
            Some("hosts")
        );
        assert_eq!(closest("xyz", ["hosts", "children", "vars"]), None);
    }

    #[test]
    fn ties_go_to_the_candidate_given_last() {
        assert_eq!(closest("ab", ["ab", "ab"]), Some("ab"));
        assert_eq!(closest("abcd", ["abce", "abcf"]), Some("abcf"));
        assert_eq!(closest("abcd", ["abcf", "abce"]), Some("abce"));
    }
}
