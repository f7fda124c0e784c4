//! CSV inventories: a header row, then one row per node. The address is in
//! the column named with `address KEY` or else the first of the usual names
//! (`bmc_ip`, as Dell Omnia's mapping file has it, `bmc_address`, ...); the
//! name in the column `name`, `hostname`, `host` or `node`. Header names are
//! compared in lower case, and every other column is a label under its
//! header's name in lower case. Cells may be quoted (`"a, b"`).

use super::{secrets, Conventions, Field, Files, Record, Reporter, Value};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;

pub(super) const CONVENTIONS: Conventions = Conventions {
    keys: &[
        "bmc_ip",
        "bmc_address",
        "ipmi_address",
        "ipmi_ip",
        "idrac_ip",
        "ilo_ip",
        "oob_ip",
        "bmc",
        "address",
    ],
    noun: "row",
    required: None,
    all_keys: false,
    prefix_length: false,
    none_note: None,
};

/// The columns a node's name is taken from, in this order.
const NAME_COLUMNS: [&str; 4] = ["name", "hostname", "host", "node"];

/// Reads a CSV inventory.
pub(super) fn load(files: &Files, diagnostics: &mut Vec<Diagnostic>) -> Vec<Record> {
    let locator = files.locator(0);
    let mut report = Reporter::new(diagnostics);
    let text = locator.text();
    let mut rows = Vec::new();
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let line_start = start;
        start += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        rows.push((line_start, cells(line)));
    }
    let mut rows = rows.into_iter();
    let Some((header_start, header)) = rows.next() else {
        return Vec::new();
    };
    let header: Vec<String> = header
        .iter()
        .map(|(_, cell)| cell.trim().to_lowercase())
        .collect();
    let name_column = NAME_COLUMNS
        .iter()
        .find_map(|name| header.iter().position(|h| h == name));
    let mut records = Vec::new();
    for (line_start, row) in rows {
        if row.len() != header.len() {
            let end = row.last().map_or(0, |(at, cell)| at + cell.len());
            report.error(
                locator.range(line_start, line_start + end.max(1)),
                format!(
                    "this row has {} cells, the header {}",
                    row.len(),
                    header.len()
                ),
                "cells do not match the header",
                Some(format!(
                    "every row has one cell per column of the header on line {}",
                    locator.source.line_col(header_start).0
                )),
            );
            continue;
        }
        let mut fields = Vec::new();
        let mut labels = Labels::new();
        let mut name = None;
        for (column, (at, cell)) in row.iter().enumerate() {
            let key = &header[column];
            let text = cell.trim();
            let span = locator.range(line_start + at, line_start + at + cell.len().max(1));
            let value = if text.is_empty() {
                Value::Empty
            } else {
                Value::Text(text.into())
            };
            if Some(column) == name_column && !text.is_empty() {
                name = Some((text.to_string(), span));
            } else if !text.is_empty() && !secrets::is_secret(key) {
                labels.set(key.as_str(), text);
            }
            fields.push((key.as_str().into(), Field { value, span }));
        }
        let vendor = fields
            .iter()
            .find(|(k, _)| k == "vendor")
            .map(|(_, v)| v.clone());
        labels.remove("vendor");
        records.push(Record {
            name,
            span: locator.range(line_start, line_start + 1),
            fields,
            labels,
            vendor,
        });
    }
    records
}

/// The cells of a line, each with where it starts; quotes are removed.
fn cells(line: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut start = 0;
    let mut quoted = false;
    let mut chars = line.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' if quoted && chars.peek().is_some_and(|&(_, n)| n == '"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push((start, std::mem::take(&mut cell)));
                start = at + 1;
            }
            c => cell.push(c),
        }
    }
    out.push((start, cell));
    out
}
