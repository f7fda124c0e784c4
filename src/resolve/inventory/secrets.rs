//! Secrets in inventory files: which keys hold them, and the file's text
//! with their values masked.
//!
//! Inventories hold passwords (`ansible_password=`, `bmc_password`,
//! `pm_password`, an install-config's `pullSecret`, a Kubernetes Secret's
//! `data`), and diagnostics quote the lines they point at. The text kept for
//! diagnostics is the file with every such value replaced by `*`, byte for
//! byte, so every span still points where it did and no output, in any
//! format, can show a secret. The values are found in the text itself, not
//! in what a reader made of it, so a file that does not parse is masked too.

use crate::syntax::InventoryFormat;

/// True when a key's value is a secret: it is never a label and is masked
/// in diagnostics. A secret's key has one of these words in it, in any
/// case: `pass`, `secret`, `token`, `credential`, `community`,
/// `private_key`, `privatekey`, `api_key`, `apikey`.
pub(super) fn is_secret(key: &str) -> bool {
    // Without lowering a copy of the key: this is asked of every key of
    // every file, and of a whole file before its keys are looked at. Only
    // where two bytes can start a word (each folded to lower case by
    // `| 0x20`, which takes no other byte to these letters) are the words
    // compared.
    let key = key.as_bytes();
    (0..key.len().saturating_sub(3)).any(|at| {
        let words: &[&[u8]] = match [key[at] | 0x20, key[at + 1] | 0x20] {
            [b'p', b'a'] => &[b"pass"],
            [b'p', b'r'] => &[b"private_key", b"privatekey"],
            [b's', b'e'] => &[b"secret"],
            [b't', b'o'] => &[b"token"],
            [b'c', b'r'] => &[b"credential"],
            [b'c', b'o'] => &[b"community"],
            [b'a', b'p'] => &[b"api_key", b"apikey"],
            _ => return false,
        };
        words.iter().any(|word| {
            key.get(at..at + word.len())
                .is_some_and(|window| window.eq_ignore_ascii_case(word))
        })
    })
}

/// `text` with the value of every secret key masked, of the same length in
/// bytes and with the same line breaks, and the secret values themselves.
pub(super) fn mask(text: String, format: Option<InventoryFormat>) -> (String, Vec<String>) {
    let mut ranges = Vec::new();
    // A secret's key has a secret word in it: text without any has none.
    if is_secret(&text) {
        key_values(&text, &mut ranges);
    }
    url_passwords(&text, &mut ranges);
    kubernetes_secret_data(&text, &mut ranges);
    if format == Some(InventoryFormat::Csv) {
        csv_columns(&text, &mut ranges);
    }
    if ranges.is_empty() {
        return (text, Vec::new());
    }
    let mut values: Vec<String> = ranges
        .iter()
        .filter_map(|&(start, end)| text.get(start..end.min(text.len())))
        .flat_map(str::lines)
        .map(str::trim)
        .filter(|value| value.len() >= MIN_QUOTED)
        .map(str::to_string)
        .collect();
    values.sort();
    values.dedup();
    let length = text.len();
    let mut bytes = text.into_bytes();
    for (start, end) in ranges {
        for byte in &mut bytes[start..end.min(length)] {
            if *byte != b'\n' && *byte != b'\r' {
                *byte = b'*';
            }
        }
    }
    // Every masked byte is ASCII and ranges cover whole characters.
    let masked = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    (masked, values)
}

/// Secret values shorter than this are not looked for in messages: they
/// would mask ordinary words.
const MIN_QUOTED: usize = 3;

/// `text` (a message) with every one of `values` masked.
pub(super) fn mask_in(text: &str, values: &[String]) -> String {
    let mut out = text.to_string();
    for value in values {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), &"*".repeat(value.len()));
        }
    }
    out
}

/// The start of each line and the line without its end.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |line| {
        let at = start;
        start += line.len();
        (at, line.trim_end_matches(['\n', '\r']))
    })
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// `key: value`, `key=value`, `"key": "value"`, anywhere on a line; a YAML
/// block scalar (`key: |`) covers the more indented lines after it.
fn key_values(text: &str, out: &mut Vec<(usize, usize)>) {
    let all: Vec<(usize, &str)> = lines(text).collect();
    let mut index = 0;
    while index < all.len() {
        let (start, line) = all[index];
        index += 1;
        let bytes = line.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            // A key: quoted, or a run of word characters.
            let (key, quoted, after) = match bytes[at] {
                q @ (b'"' | b'\'') => match line[at + 1..].find(q as char) {
                    Some(len) => (&line[at + 1..at + 1 + len], true, at + len + 2),
                    None => break,
                },
                b if is_word(b) => {
                    let len = line[at..].bytes().take_while(|&b| is_word(b)).count();
                    (&line[at..at + len], false, at + len)
                }
                _ => {
                    at += 1;
                    continue;
                }
            };
            let mut next = after;
            while next < bytes.len() && bytes[next] == b' ' {
                next += 1;
            }
            let separator = bytes.get(next).copied();
            if !matches!(separator, Some(b':' | b'=')) || !is_secret(key) {
                at = after.max(at + 1);
                continue;
            }
            // `https://`: a URL, not a key.
            if separator == Some(b':') && line[next..].starts_with("://") {
                at = after.max(at + 1);
                continue;
            }
            let mut value = next + 1;
            while value < bytes.len() && bytes[value] == b' ' {
                value += 1;
            }
            let end = match bytes.get(value) {
                None => {
                    at = value;
                    continue;
                }
                Some(&q @ (b'"' | b'\'')) => {
                    let mut end = value + 1;
                    while end < bytes.len() && bytes[end] != q {
                        end += if bytes[end] == b'\\' && q == b'"' {
                            2
                        } else {
                            1
                        };
                    }
                    out.push((start + value + 1, start + end.min(bytes.len())));
                    at = end + 1;
                    continue;
                }
                Some(b'|' | b'>') if separator == Some(b':') => {
                    let own = indent(line);
                    while index < all.len() {
                        let (more_start, more) = all[index];
                        if !more.trim().is_empty() && indent(more) <= own {
                            break;
                        }
                        out.push((more_start + indent(more), more_start + more.len()));
                        index += 1;
                    }
                    break;
                }
                Some(_) if separator == Some(b'=') => line[value..]
                    .find([' ', '\t'])
                    .map_or(bytes.len(), |len| value + len),
                Some(_) => {
                    let rest = &line[value..];
                    let mut end = rest.find(" #").unwrap_or(rest.len());
                    if quoted {
                        end = end.min(rest.find([',', '}', ']']).unwrap_or(rest.len()));
                    }
                    value + rest[..end].trim_end().len()
                }
            };
            out.push((start + value, start + end));
            at = end.max(at + 1);
        }
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

/// The password in `scheme://user:password@host`.
fn url_passwords(text: &str, out: &mut Vec<(usize, usize)>) {
    for (at, _) in text.match_indices("://") {
        let rest = &text[at + 3..];
        let end = rest
            .find(|c: char| c == '/' || c.is_whitespace() || "\"',;".contains(c))
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        if let Some((user, _)) = authority.rsplit_once('@') {
            if let Some(colon) = user.find(':') {
                out.push((at + 3 + colon + 1, at + 3 + user.len()));
            }
        }
    }
}

/// Every value under `data:` and `stringData:` in a file that holds a
/// Kubernetes Secret.
fn kubernetes_secret_data(text: &str, out: &mut Vec<(usize, usize)>) {
    let is_secret_kind = lines(text).any(|(_, line)| {
        let line = line.trim();
        line.strip_prefix("kind:")
            .is_some_and(|kind| kind.trim().trim_matches(['"', '\'']) == "Secret")
    });
    if !is_secret_kind {
        return;
    }
    let all: Vec<(usize, &str)> = lines(text).collect();
    let mut index = 0;
    while index < all.len() {
        let (_, line) = all[index];
        index += 1;
        let key = line.trim();
        if key != "data:" && key != "stringData:" {
            continue;
        }
        let own = indent(line);
        while index < all.len() {
            let (start, more) = all[index];
            if !more.trim().is_empty() && indent(more) <= own {
                break;
            }
            match more.find(':') {
                Some(colon) if more[colon + 1..].trim().is_empty() => {}
                Some(colon) => {
                    let value = colon
                        + 1
                        + (more[colon + 1..].len() - more[colon + 1..].trim_start().len());
                    out.push((start + value, start + more.len()));
                }
                // A line of a block scalar.
                None => out.push((start + indent(more), start + more.len())),
            }
            index += 1;
        }
    }
}

/// The cells of CSV columns whose header names a secret.
fn csv_columns(text: &str, out: &mut Vec<(usize, usize)>) {
    let mut all = lines(text);
    let Some((_, header)) = all.find(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
    else {
        return;
    };
    let secret: Vec<bool> = header
        .split(',')
        .map(|cell| is_secret(cell.trim().trim_matches('"')))
        .collect();
    if !secret.contains(&true) {
        return;
    }
    for (start, line) in all {
        let mut at = 0;
        for (column, cell) in line.split(',').enumerate() {
            if secret.get(column) == Some(&true) {
                out.push((start + at, start + at + cell.len()));
            }
            at += cell.len() + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_secret_keys_are_masked_in_place() {
        let text = "\
[idrac]
db1 idrac_ip=10.0.0.5 idrac_password=calvin ansible_user=root
[all:vars]
ansible_become_pass = 's3cr3t pass'
bmc:
  bmc_password: hunter2   # a comment stays
  note: password is not here
  ipmi_password: |
    line one
    line two
  next: 1
{\"pm_password\": \"p\\\"w\", \"pm_user\": \"admin\"}
pullSecret: '{\"auths\": {\"x\": 1}}'
uri: https://admin:pa55@10.0.0.9/redfish
";
        let (masked, values) = mask(text.to_string(), None);
        assert!(values.contains(&"calvin".to_string()), "{values:?}");
        assert_eq!(masked.len(), text.len());
        assert_eq!(
            masked,
            "\
[idrac]
db1 idrac_ip=10.0.0.5 idrac_password=****** ansible_user=root
[all:vars]
ansible_become_pass = '***********'
bmc:
  bmc_password: *******   # a comment stays
  note: password is not here
  ipmi_password: |
    ********
    ********
  next: 1
{\"pm_password\": \"****\", \"pm_user\": \"admin\"}
pullSecret: '*******************'
uri: https://admin:****@10.0.0.9/redfish
"
        );
    }

    #[test]
    fn secret_keys_have_a_secret_word_in_any_case() {
        let secret = [
            "pass",
            "bmc_password",
            "BMC_PASS",
            "ansible_become_pass",
            "pm_Password",
            "pullSecret",
            "x_TOKEN",
            "Credentials",
            "snmp_community",
            "ssh_private_key",
            "PrivateKey",
            "api_key",
            "ApiKey",
            "a.pass.b",
        ];
        let plain = [
            "",
            "pas",
            "pa",
            "name",
            "address",
            "ansible_host",
            "ipmi_address",
            "site",
            "rack",
            "vendor",
            "p@ss",
            "private-key",
            "api-key",
            "tok",
            "secre",
        ];
        for key in secret {
            assert!(is_secret(key), "{key}");
        }
        for key in plain {
            assert!(!is_secret(key), "{key}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The word search is lowering the key and looking for each word in
        /// it, whatever the bytes around it.
        #[test]
        fn a_key_is_secret_exactly_when_lowered_it_has_a_word(
            key in "([pP][aArR]?|[sS][eE]?|[tT][oO]?|[cC][oOrR]?|[aA][pP]?|[ikKyYnNwW_@`é-]|ass|rivate|ecret|oken|redential|ommunity|pi|ey){0,12}"
        ) {
            let lowered = key.to_lowercase();
            let words = [
                "pass", "private_key", "privatekey", "secret", "token", "credential",
                "community", "api_key", "apikey",
            ];
            proptest::prop_assert_eq!(is_secret(&key), words.iter().any(|w| lowered.contains(w)));
        }
    }

    #[test]
    fn kubernetes_secret_data_and_csv_columns() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bmc-secret\ndata:\n  username: YWRtaW4=\n  other: cGFzc3dvcmQ=\ntype: Opaque\n";
        assert_eq!(
            mask(text.to_string(), None).0,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bmc-secret\ndata:\n  username: ********\n  other: ************\ntype: Opaque\n"
        );
        let csv = "name,bmc_ip,bmc_password\nn1,10.0.0.1,calvin\nn2,10.0.0.2,\n";
        assert_eq!(
            mask(csv.to_string(), Some(InventoryFormat::Csv)).0,
            "name,bmc_ip,bmc_password\nn1,10.0.0.1,******\nn2,10.0.0.2,\n"
        );
    }
}
