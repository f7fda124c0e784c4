//! Where libyaml-safer would panic on a text, found before it is parsed, so
//! the parser is never run into the panic and no message is printed.
//!
//! The port panics (`scanner.rs`, "TODO: What is expected here?") where a tag
//! ends right before a `,` inside a flow collection (`[!x, 1]`); libyaml C
//! reads on there. The scanner reaches that check only after reading the tag,
//! and nothing it decides before then depends on the `,`, so the same text
//! cut at the `,` shows, without a panic, whether the whole text would panic
//! there and after how many events:
//!
//! - cut at the `,` and ended with `"` (not a tag character, not blank), the
//!   scanner fails with "did not find expected whitespace or line break"
//!   exactly at the `,` when a tag ends there, in the call that would panic;
//! - cut at the `,`, the tag ends the text and becomes an empty plain scalar
//!   whose enclosing collection says whether it is a flow one (outside flow
//!   collections the whole text fails there with that same error instead).

use libyaml_safer::{Event, EventData, MappingStyle, Parser, ScalarStyle, SequenceStyle};
use std::panic::AssertUnwindSafe;

/// How many `,`s after a `!` are looked at, at most.
const CANDIDATES_LOOKED_AT: usize = 16;

/// How many events the parser returns for `read` before the call that would
/// panic, if it would; `bom` is the length of the byte order mark `read`
/// starts with, which the parser does not count.
pub(super) fn events_before_panic(read: &str, bom: usize) -> Option<usize> {
    // Each candidate costs a parse of the text before it, so only the first
    // few are looked at: a file made of decoys (`"!a, b"` in every entry)
    // stays linear. A panic past them is still caught and the file is still
    // a BW005 error; only the default hook's message is then printed.
    for comma in candidates(read).into_iter().take(CANDIDATES_LOOKED_AT) {
        let Some(events) = events_before_tag_error(&format!("{}\"", &read[..comma]), comma, bom)
        else {
            continue;
        };
        // The first tag before a `,` decides: outside a flow collection the
        // whole text fails there without a panic.
        return ends_flow_tag(&read[..comma], comma, bom).then_some(events);
    }
    None
}

/// The `,`s a tag may end before: those after a `!` that is not part of a
/// word, with no blank in between (a tag has none). A superset: most are in
/// strings or plain scalars, which the parser tells apart.
fn candidates(read: &str) -> Vec<usize> {
    let bytes = read.as_bytes();
    let mut found = Vec::new();
    let mut tag_possible = false;
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' => tag_possible = false,
            b'!' if at == 0 || !bytes[at - 1].is_ascii_alphanumeric() => tag_possible = true,
            b',' if tag_possible => found.push(at),
            _ => {}
        }
    }
    found
}

/// Parses `text` to its end or its first error, showing `visit` each event;
/// `None` when the parser panics, on input other than the case this module
/// is about.
fn parse(text: &str, mut visit: impl FnMut(&Event)) -> Option<Result<(), libyaml_safer::Error>> {
    let mut input = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    loop {
        match std::panic::catch_unwind(AssertUnwindSafe(|| parser.parse())).ok()? {
            Ok(event) => {
                visit(&event);
                if matches!(event.data, EventData::StreamEnd) {
                    return Some(Ok(()));
                }
            }
            Err(error) => return Some(Err(error)),
        }
    }
}

/// The events before the error, when parsing `text` fails because a tag
/// ends at `comma` without a blank after it.
fn events_before_tag_error(text: &str, comma: usize, bom: usize) -> Option<usize> {
    let mut events = 0;
    let error = parse(text, |_| events += 1)?.err()?;
    let at = error
        .problem_mark()
        .and_then(|mark| usize::try_from(mark.index).ok())?;
    (error.context() == Some("while scanning a tag")
        && error.problem() == "did not find expected whitespace or line break"
        && at + bom == comma)
        .then_some(events)
}

/// True when `text`, which a tag ends, ends with it inside a flow collection.
fn ends_flow_tag(text: &str, end: usize, bom: usize) -> bool {
    let mut open: Vec<bool> = Vec::new();
    let mut found = false;
    parse(text, |event| match &event.data {
        EventData::SequenceStart { style, .. } => open.push(*style == SequenceStyle::Flow),
        EventData::MappingStart { style, .. } => open.push(*style == MappingStyle::Flow),
        EventData::SequenceEnd | EventData::MappingEnd => {
            open.pop();
        }
        EventData::Scalar {
            tag: Some(_),
            value,
            style: ScalarStyle::Plain,
            ..
        } if value.is_empty()
            && usize::try_from(event.end_mark.index).is_ok_and(|at| at + bom == end) =>
        {
            found |= open.last() == Some(&true);
        }
        _ => {}
    });
    found
}

#[cfg(test)]
mod tests {
    use super::events_before_panic;

    #[test]
    fn finds_a_tag_before_a_comma_in_a_flow_collection() {
        assert_eq!(events_before_panic("b: [!x, 1]\n", 0), Some(5));
        assert_eq!(events_before_panic("{a: !x, b}", 0), Some(1));
        assert_eq!(events_before_panic("a: [b,\n  !x, c]", 0), Some(6));
        assert_eq!(events_before_panic("[!<a,b>, 1]", 0), Some(1));
        assert_eq!(events_before_panic("[ [!x, 1] ]: v", 0), Some(1));
        assert_eq!(events_before_panic("\u{feff}[!x, 1]", 3), Some(1));
    }

    #[test]
    fn leaves_what_does_not_panic() {
        for text in [
            "a: \"q !x, r\"",
            "x: !x, 1",
            "[!x &a, 1]",
            "[!x \"\", 1]",
            "[a!x, 1]",
            "[a !x, 1]",
            "a: [!x , 1]",
        ] {
            assert_eq!(events_before_panic(text, 0), None, "{text:?}");
        }
    }
}
