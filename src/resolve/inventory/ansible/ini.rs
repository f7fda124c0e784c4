//! Ansible inventories in INI, read as Ansible's `ini` plugin reads them:
//! hosts before any section are `ungrouped`; `[group]` lists hosts, each
//! with inline `key=value` variables (quoted values keep their spaces and
//! lose their quotes); `[group:children]` lists child groups; `[group:vars]`
//! holds `key=value` lines. Host patterns with ranges (`node[01:20]`,
//! `rack-[a:f]`, `node[1:9:2]`) are expanded as Ansible expands them, and a
//! `:port` after a host is dropped.

use super::Inventory;
use crate::resolve::inventory::{Field, Locator, Value};
use crate::source::Span;

/// What the lines of a section are.
enum Section {
    Hosts(String),
    Children(String),
    Vars(String),
}

/// Reads one INI inventory file into `inventory`.
pub(super) fn read(locator: &Locator, inventory: &mut Inventory) {
    let text = locator.text();
    let mut section = Section::Hosts("ungrouped".into());
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let line_start = start;
        start += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') || content.starts_with(';') {
            continue;
        }
        let offset = line_start + (line.len() - line.trim_start().len());
        if content.starts_with('[') {
            match header(content) {
                Some(next) => {
                    let group = match &next {
                        Section::Hosts(g) | Section::Children(g) | Section::Vars(g) => g.clone(),
                    };
                    inventory.group(&group);
                    if group != "all" {
                        let span = locator.range(offset, offset + content.len());
                        if !inventory.groups["all"]
                            .children
                            .iter()
                            .any(|(c, _)| *c == group)
                        {
                            inventory.add_child("all", &group, span);
                        }
                    }
                    section = next;
                }
                None => inventory.error(
                    locator.range(offset, offset + content.len()),
                    format!("`{content}` is not a section header"),
                    "bad section",
                    Some("a section is `[group]`, `[group:vars]` or `[group:children]`".into()),
                ),
            }
            continue;
        }
        match &section {
            Section::Hosts(group) => host_line(locator, inventory, group, line, line_start),
            Section::Children(group) => {
                let child = content.split_whitespace().next().unwrap_or(content);
                let span = locator.range(offset, offset + child.len());
                inventory.add_child(group, child, span);
            }
            Section::Vars(group) => {
                let Some((key, value)) = content.split_once('=') else {
                    inventory.error(
                        locator.range(offset, offset + content.len()),
                        format!("`{content}` in `[{group}:vars]` is not `key=value`"),
                        "not a variable",
                        Some("a `:vars` section holds one `key=value` per line".into()),
                    );
                    continue;
                };
                let key = key.trim();
                let value_start = offset + content.find('=').map_or(0, |i| i + 1);
                let raw_value = &text[value_start..offset + content.len()];
                let lead = raw_value.len() - raw_value.trim_start().len();
                let field = value_field(locator, value.trim(), value_start + lead);
                inventory.group(group).vars.insert(key.to_string(), field);
            }
        }
    }
}

/// The section a `[...]` line starts.
fn header(line: &str) -> Option<Section> {
    let inner = line.strip_prefix('[')?.split(']').next()?.trim();
    let valid = |name: &str| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    };
    let section = match inner.split_once(':') {
        None => Section::Hosts(inner.to_string()),
        Some((group, "children")) => Section::Children(group.to_string()),
        Some((group, "vars")) => Section::Vars(group.to_string()),
        Some(_) => return None,
    };
    let (Section::Hosts(group) | Section::Children(group) | Section::Vars(group)) = &section;
    valid(group).then_some(section)
}

/// A host line: a pattern and inline variables.
fn host_line(
    locator: &Locator,
    inventory: &mut Inventory,
    group: &str,
    line: &str,
    line_start: usize,
) {
    let words = split_words(line);
    let Some(&(pattern_start, ref pattern, _)) = words.first() else {
        return;
    };
    let pattern_span = locator.range(
        line_start + pattern_start,
        line_start + pattern_start + pattern.len(),
    );
    let mut vars = Vec::new();
    for (at, word, value_at) in &words[1..] {
        let Some((key, value)) = word.split_once('=') else {
            inventory.error(
                locator.range(line_start + at, line_start + at + word.len()),
                format!("`{word}` after host `{pattern}` is not `key=value`"),
                "not a variable",
                Some("variables after a host are written `key=value`, one word each (quote values with spaces)".into()),
            );
            continue;
        };
        let field = value_field(
            locator,
            value,
            line_start + value_at.unwrap_or(*at + key.len() + 1),
        );
        vars.push((key.to_string(), field));
    }
    let names = match expand(pattern) {
        Ok(names) => names,
        Err(problem) => {
            inventory.error(
                pattern_span,
                format!("bad host range in `{pattern}`: {problem}"),
                "bad range",
                Some("a range is `[START:END]` or `[START:END:STEP]`, of numbers (`[01:20]`) or letters (`[a:f]`)".into()),
            );
            return;
        }
    };
    for name in names {
        let index = inventory.add_host(group, &without_port(&name), pattern_span);
        inventory.hosts[index].vars.extend(vars.iter().cloned());
    }
}

/// The words of a line (as `shlex` splits it, comments dropped), each with
/// where it starts and, for `key="value"`, where the value's text starts
/// (inside the quotes).
fn split_words(line: &str) -> Vec<(usize, String, Option<usize>)> {
    let mut words = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' {
            break;
        }
        let mut word = String::new();
        let mut value_at = None;
        let mut quote: Option<char> = None;
        while let Some(&(at, c)) = chars.peek() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => word.push(c),
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    if value_at.is_none() && word.ends_with('=') {
                        value_at = Some(at + 1);
                    }
                }
                None if c.is_whitespace() => break,
                None => word.push(c),
            }
            chars.next();
        }
        words.push((start, word, value_at));
    }
    words
}

/// A value written at `start`.
fn value_field(locator: &Locator, value: &str, start: usize) -> Field {
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')));
    let (text, at) = match unquoted {
        Some(inner) => (inner, start + 1),
        None => (value, start),
    };
    let span: Span = locator.range(at, at + text.len().max(1));
    let value = if text.is_empty() {
        Value::Empty
    } else {
        Value::Text(text.into())
    };
    Field { value, span }
}

/// `host:port` without the port (not an IPv6 address).
fn without_port(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host.to_string()
        }
        _ => name.to_string(),
    }
}

/// The host names a pattern stands for: every range expanded, in order.
pub(super) fn expand(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('[') else {
        return Ok(vec![pattern.to_string()]);
    };
    let Some(close) = pattern[open..].find(']').map(|i| open + i) else {
        return Err("`[` without `]`".into());
    };
    let (head, range, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let parts: Vec<&str> = range.split(':').collect();
    let (begin, end, step) = match parts[..] {
        [begin, end] => (begin, end, "1"),
        [begin, end, step] => (begin, end, step),
        // Not a range (an IPv6 address in brackets): as written.
        _ => return Ok(vec![pattern.to_string()]),
    };
    let step: usize = step
        .parse()
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| format!("step `{step}` is not a positive number"))?;
    let begin = if begin.is_empty() { "0" } else { begin };
    if end.is_empty() {
        return Err("the range has no end".into());
    }
    let middles: Vec<String> =
        if let (Ok(first), Ok(last)) = (begin.parse::<u64>(), end.parse::<u64>()) {
            if first > last {
                return Err(format!("`{begin}` comes after `{end}`"));
            }
            let width = if begin.len() > 1 && begin.starts_with('0') {
                if begin.len() != end.len() {
                    return Err(format!(
                        "`{begin}` and `{end}` must have the same number of digits"
                    ));
                }
                begin.len()
            } else {
                0
            };
            (first..=last)
                .step_by(step)
                .map(|n| format!("{n:0width$}"))
                .collect()
        } else {
            const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
            let (Some(first), Some(last)) = (LETTERS.find(begin), LETTERS.find(end)) else {
                return Err(format!(
                    "`{begin}:{end}` is neither numbers nor single letters"
                ));
            };
            if begin.len() != 1 || end.len() != 1 {
                return Err(format!(
                    "`{begin}:{end}` is neither numbers nor single letters"
                ));
            }
            if first > last {
                return Err(format!("`{begin}` comes after `{end}`"));
            }
            LETTERS[first..=last]
                .chars()
                .step_by(step)
                .map(String::from)
                .collect()
        };
    let mut out = Vec::new();
    for middle in middles {
        for rest in expand(tail)? {
            out.push(format!("{head}{middle}{rest}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn ranges_expand_as_ansible_expands_them() {
        assert_eq!(
            expand("node[01:03]").unwrap(),
            ["node01", "node02", "node03"]
        );
        assert_eq!(expand("node[8:10]").unwrap(), ["node8", "node9", "node10"]);
        assert_eq!(
            expand("n[1:9:4].example.com").unwrap(),
            ["n1.example.com", "n5.example.com", "n9.example.com"]
        );
        assert_eq!(
            expand("rack-[a:c]").unwrap(),
            ["rack-a", "rack-b", "rack-c"]
        );
        assert_eq!(
            expand("r[a:b]n[1:2]").unwrap(),
            ["ran1", "ran2", "rbn1", "rbn2"]
        );
        assert_eq!(expand("[:2]x").unwrap(), ["0x", "1x", "2x"]);
        assert_eq!(expand("plain").unwrap(), ["plain"]);
        assert_eq!(expand("node[3:1]").unwrap_err(), "`3` comes after `1`");
        assert_eq!(
            expand("node[01:100]").unwrap_err(),
            "`01` and `100` must have the same number of digits"
        );
        assert_eq!(
            expand("node[1:5:0]").unwrap_err(),
            "step `0` is not a positive number"
        );
        assert_eq!(expand("node[1:").unwrap_err(), "`[` without `]`");
    }
}
