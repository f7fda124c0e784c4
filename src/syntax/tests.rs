//! Parser tests: every statement kind to its AST, literals, and the recovery
//! that lets one run report every broken statement.

use super::*;
use crate::addr::service::{TCP, UDP};
use crate::diagnostic::Code;
use crate::model::DefKind;
use crate::model::{Action, Date, ExpectKind};
use crate::source::FileId;
use crate::source::Span;
use scan::statement_chunks;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The span of the `nth` (0-based) occurrence of `needle` in `text`.
fn nth_at(text: &str, needle: &str, nth: usize) -> Span {
    let start = text
        .match_indices(needle)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("`{needle}` occurs fewer than {} times", nth + 1));
    Span::new(FileId(0), start, start + needle.len())
}

/// The span of the first occurrence of `needle` in `text`.
fn at(text: &str, needle: &str) -> Span {
    nth_at(text, needle, 0)
}

fn whole(text: &str) -> Span {
    let trimmed = text.trim_end();
    Span::new(FileId(0), 0, trimmed.len())
}

fn v4(text: &str) -> u32 {
    u32::from(text.parse::<Ipv4Addr>().expect("a test address"))
}

fn v6(text: &str) -> u128 {
    u128::from(text.parse::<Ipv6Addr>().expect("a test address"))
}

/// Parses text that must be valid: its statements.
fn parse_ok(text: &str) -> Vec<Statement> {
    let (ast, diagnostics) = parse(FileId(0), text);
    assert!(diagnostics.is_empty(), "{text}\n{diagnostics:#?}");
    ast.statements
}

/// Parses one valid statement.
fn parse_one(text: &str) -> Statement {
    let mut statements = parse_ok(text);
    assert_eq!(statements.len(), 1, "{text}");
    statements.remove(0)
}

/// Parses text that must be invalid: the statements that parsed and the
/// diagnostics as `(code, line:column, message)`.
fn parse_bad(text: &str) -> (Vec<Statement>, Vec<(Code, String, String)>) {
    let mut sources = crate::source::SourceMap::default();
    let file = sources.add("test.wall".into(), text.to_string());
    let (ast, diagnostics) = parse(file, text);
    let found = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = sources.file(file).line_col(d.primary().span.start as usize);
            (d.code, format!("{line}:{column}"), d.message.clone())
        })
        .collect();
    (ast.statements, found)
}

/// The single address set of a definition, with spans.
fn definition_value(statement: &Statement) -> &AddrExpr {
    match statement {
        Statement::Define(definition) => &definition.value,
        other => panic!("not a definition: {other:?}"),
    }
}

fn net_terms(expr: &AddrExpr) -> Vec<NetLiteral> {
    expr.include
        .iter()
        .map(|term| match &term.kind {
            TermKind::Net(net) => *net,
            other => panic!("not a literal: {other:?}"),
        })
        .collect()
}

fn term(kind: TermKind, span: Span) -> Term {
    Term { kind, span }
}

fn ident(text: &str, name: &str) -> Ident {
    Ident {
        name: name.into(),
        span: at(text, name),
    }
}

fn string(text: &str, quoted: &str, value: &str) -> StrLit {
    StrLit {
        value: value.into(),
        span: at(text, quoted),
    }
}

#[test]
fn parses_the_language_example() {
    let text = include_str!("../../examples/ams1/ams1.wall");
    let (ast, diagnostics) = parse(FileId(0), text);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(ast.statements.len(), 18);
}

#[test]
fn internal_statement() {
    let text = "internal 10.0.0.0/8, fd00::/8;";
    let expected = Statement::Internal(
        AddrExpr {
            include: vec![
                term(
                    TermKind::Net(NetLiteral::V4 {
                        lo: v4("10.0.0.0"),
                        hi: v4("10.255.255.255"),
                    }),
                    at(text, "10.0.0.0/8"),
                ),
                term(
                    TermKind::Net(NetLiteral::V6 {
                        lo: v6("fd00::"),
                        hi: v6("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                    }),
                    at(text, "fd00::/8"),
                ),
            ],
            except: vec![],
            span: at(text, "10.0.0.0/8, fd00::/8"),
        },
        whole(text),
    );
    assert_eq!(parse_one(text), expected);
}

#[test]
fn scope_statement_with_except() {
    let text = "scope any except 192.168.0.0/16, internet;";
    let expected = Statement::Scope(
        AddrExpr {
            include: vec![term(TermKind::Any, at(text, "any"))],
            except: vec![
                term(
                    TermKind::Net(NetLiteral::V4 {
                        lo: v4("192.168.0.0"),
                        hi: v4("192.168.255.255"),
                    }),
                    at(text, "192.168.0.0/16"),
                ),
                term(TermKind::Internet, at(text, "internet")),
            ],
            span: at(text, "any except 192.168.0.0/16, internet"),
        },
        whole(text),
    );
    assert_eq!(parse_one(text), expected);
}

#[test]
fn include_and_inventory_statements() {
    let text = "include \"site/other.wall\";";
    assert_eq!(
        parse_one(text),
        Statement::Include(
            string(text, "\"site/other.wall\"", "site/other.wall"),
            whole(text)
        )
    );
    let text = "inventory \"inventory/ams1.yaml\";";
    assert_eq!(
        parse_one(text),
        Statement::Inventory(
            InventorySpec {
                path: string(text, "\"inventory/ams1.yaml\"", "inventory/ams1.yaml"),
                format: None,
                address: None,
                resolve: false,
            },
            whole(text)
        )
    );
}

#[test]
fn inventory_formats() {
    for format in InventoryFormat::ALL {
        let text = format!("inventory \"site/bmcs\" format {};", format.name());
        assert_eq!(
            parse_one(&text),
            Statement::Inventory(
                InventorySpec {
                    path: string(&text, "\"site/bmcs\"", "site/bmcs"),
                    format: Some(format),
                    address: None,
                    resolve: false,
                },
                whole(&text)
            ),
            "{text}"
        );
    }
}

#[test]
fn inventory_address_and_resolve() {
    let text = "inventory \"hosts.ini\" format ansible address driver_info.ipmi_address resolve;";
    let Statement::Inventory(spec, _) = parse_one(text) else {
        panic!("an inventory statement")
    };
    assert_eq!(spec.format, Some(InventoryFormat::Ansible));
    let key = spec.address.expect("a key");
    assert_eq!(key.name, "driver_info.ipmi_address");
    assert_eq!(
        &text[key.span.start as usize..key.span.end as usize],
        "driver_info.ipmi_address"
    );
    assert!(spec.resolve);
    let Statement::Inventory(spec, _) = parse_one("inventory \"h\" resolve;") else {
        panic!("an inventory statement")
    };
    assert_eq!(
        (spec.format, spec.address, spec.resolve),
        (None, None, true)
    );
    // The words are not reserved.
    assert!(!is_keyword("address") && !is_keyword("resolve"));
}

#[test]
fn format_is_not_a_keyword() {
    assert!(!is_keyword("format"));
    let statements = parse_ok(
        "host format = 10.0.0.1;\nservice format.web = tcp 443;\nallow format -> 10.0.0.2 : format.web;\ninventory \"x.yaml\" format native;",
    );
    assert_eq!(statements.len(), 4);
    let Statement::Define(definition) = &statements[0] else {
        panic!("not a definition: {:?}", statements[0]);
    };
    assert_eq!(definition.name.name, "format");
}

#[test]
fn unknown_inventory_format_is_an_invalid_value() {
    let text = "inventory \"hosts.yaml\" format Ansible;\ninventory \"x.yaml\" format inventory;\n";
    let (statements, found) = parse_bad(text);
    assert!(statements.is_empty(), "{statements:?}");
    assert_eq!(
        found,
        [
            (
                Code::InvalidValue,
                "1:31".to_string(),
                "unknown inventory format `Ansible`".to_string()
            ),
            (
                Code::InvalidValue,
                "2:27".to_string(),
                "unknown inventory format `inventory`".to_string()
            ),
        ]
    );
    let (_, diagnostics) = parse(FileId(0), text);
    assert_eq!(
        diagnostics[0].help.as_deref(),
        Some("did you mean `ansible`? the inventory formats are `native`, `ansible`, `netbox`, `csv`, `metal3`, `openshift`, `ironic`, `tripleo` and `warewulf`")
    );
    assert_eq!(
        diagnostics[1].help.as_deref(),
        Some("the inventory formats are `native`, `ansible`, `netbox`, `csv`, `metal3`, `openshift`, `ironic`, `tripleo` and `warewulf`")
    );
    for (written, meant) in [("json", "netbox"), ("YAML", "native"), ("netbx", "netbox")] {
        let (_, diagnostics) = parse(FileId(0), &format!("inventory \"x\" format {written};"));
        assert_eq!(
            diagnostics[0].help.as_deref(),
            Some(format!("did you mean `{meant}`? the inventory formats are `native`, `ansible`, `netbox`, `csv`, `metal3`, `openshift`, `ironic`, `tripleo` and `warewulf`").as_str()),
            "{written}"
        );
    }
}

#[test]
fn inventory_format_without_the_word_format() {
    let (_, found) = parse_bad("inventory \"hosts.yaml\" ansible;");
    assert_eq!(
        found,
        [(
            Code::SyntaxError,
            "1:24".to_string(),
            "expected `;`, `address`, `format` or `resolve`, found `ansible`".to_string()
        )]
    );
    let (_, diagnostics) = parse(FileId(0), "inventory \"hosts.yaml\" ansible;");
    assert_eq!(
        diagnostics[0].help.as_deref(),
        Some("an inventory statement reads `inventory \"PATH\" [format NAME] [address KEY] [resolve];`")
    );
}

#[test]
fn every_definition_kind() {
    for (keyword, kind) in [
        ("host", DefKind::Host),
        ("network", DefKind::Network),
        ("group", DefKind::Group),
        ("bmc", DefKind::Bmc),
    ] {
        let text = format!("{keyword} x-1.a_b = jump, internal, bmcs;");
        let expected = Statement::Define(Definition {
            kind,
            name: ident(&text, "x-1.a_b"),
            value: AddrExpr {
                include: vec![
                    term(TermKind::Name("jump".into()), at(&text, "jump")),
                    term(TermKind::Internal, at(&text, "internal")),
                    term(TermKind::Bmcs, at(&text, "bmcs")),
                ],
                except: vec![],
                span: at(&text, "jump, internal, bmcs"),
            },
            span: whole(&text),
        });
        assert_eq!(parse_one(&text), expected, "{text}");
    }
}

#[test]
fn inventory_selector() {
    let text = "bmc rack-a = inventory(site = \"ams1\", rack != \"b\"), inventory();";
    let value = definition_value(&parse_one(text)).clone();
    assert_eq!(value.include.len(), 2);
    assert_eq!(
        value.include[0],
        term(
            TermKind::Selector(vec![
                Condition {
                    label: ident(text, "site"),
                    negated: false,
                    value: string(text, "\"ams1\"", "ams1"),
                },
                Condition {
                    label: Ident {
                        name: "rack".into(),
                        span: nth_at(text, "rack", 1),
                    },
                    negated: true,
                    value: string(text, "\"b\"", "b"),
                },
            ]),
            at(text, "inventory(site = \"ams1\", rack != \"b\")"),
        )
    );
    assert_eq!(
        value.include[1],
        term(TermKind::Selector(vec![]), at(text, "inventory()"))
    );
}

#[test]
fn service_definition_splits_port_lists_from_items() {
    let text = "service kvm = tcp 80, 443, udp 623, 5900-5901, icmp, any, ssh;";
    let expected = Statement::Service(ServiceDef {
        name: ident(text, "kvm"),
        items: vec![
            ServiceItem {
                kind: ServiceKind::Ports {
                    proto: TCP,
                    ranges: vec![(80, 80, at(text, "80")), (443, 443, at(text, "443"))],
                },
                span: at(text, "tcp 80, 443"),
            },
            ServiceItem {
                kind: ServiceKind::Ports {
                    proto: UDP,
                    ranges: vec![
                        (623, 623, at(text, "623")),
                        (5900, 5901, at(text, "5900-5901")),
                    ],
                },
                span: at(text, "udp 623, 5900-5901"),
            },
            ServiceItem {
                kind: ServiceKind::Icmp,
                span: at(text, "icmp"),
            },
            ServiceItem {
                kind: ServiceKind::Any,
                span: at(text, "any"),
            },
            ServiceItem {
                kind: ServiceKind::Name("ssh".into()),
                span: at(text, "ssh"),
            },
        ],
        span: whole(text),
    });
    assert_eq!(parse_one(text), expected);
}

#[test]
fn rule_with_every_attribute() {
    let text = "allow admins -> rack-a : redfish, tcp 22 log until 2027-03-31 \
                waive BW207 \"reviewed\" waive BW206 \"legacy\" \"admins manage rack A\";";
    let expected = Statement::Rule(Rule {
        action: Action::Allow,
        src: AddrExpr {
            include: vec![term(TermKind::Name("admins".into()), at(text, "admins"))],
            except: vec![],
            span: at(text, "admins"),
        },
        dst: AddrExpr {
            include: vec![term(TermKind::Name("rack-a".into()), at(text, "rack-a"))],
            except: vec![],
            span: at(text, "rack-a"),
        },
        services: Some(vec![
            ServiceItem {
                kind: ServiceKind::Name("redfish".into()),
                span: at(text, "redfish"),
            },
            ServiceItem {
                kind: ServiceKind::Ports {
                    proto: TCP,
                    ranges: vec![(22, 22, at(text, "22"))],
                },
                span: at(text, "tcp 22"),
            },
        ]),
        log: true,
        until: Some((
            Date {
                year: 2027,
                month: 3,
                day: 31,
            },
            at(text, "until 2027-03-31"),
        )),
        waivers: vec![
            Waiver {
                code: ident(text, "BW207"),
                services: vec![],
                reason: string(text, "\"reviewed\"", "reviewed"),
                span: at(text, "waive BW207 \"reviewed\""),
            },
            Waiver {
                code: ident(text, "BW206"),
                services: vec![],
                reason: string(text, "\"legacy\"", "legacy"),
                span: at(text, "waive BW206 \"legacy\""),
            },
        ],
        description: Some(string(
            text,
            "\"admins manage rack A\"",
            "admins manage rack A",
        )),
        span: whole(text),
    });
    assert_eq!(parse_one(text), expected);
}

#[test]
fn deny_rule_without_services() {
    let text = "deny any -> bmcs;";
    match parse_one(text) {
        Statement::Rule(rule) => {
            assert_eq!(rule.action, Action::Deny);
            assert_eq!(rule.src.include[0].kind, TermKind::Any);
            assert_eq!(rule.dst.include[0].kind, TermKind::Bmcs);
            assert_eq!(rule.services, None);
            assert!(!rule.log && rule.until.is_none() && rule.waivers.is_empty());
            assert_eq!(rule.description, None);
        }
        other => panic!("not a rule: {other:?}"),
    }
}

#[test]
fn expectation_statement() {
    let text = "expect deny internet -> bmcs : any \"no exposure\";";
    let expected = Statement::Expect(Expectation {
        kind: ExpectKind::Deny,
        src: AddrExpr {
            include: vec![term(TermKind::Internet, at(text, "internet"))],
            except: vec![],
            span: at(text, "internet"),
        },
        dst: AddrExpr {
            include: vec![term(TermKind::Bmcs, at(text, "bmcs"))],
            except: vec![],
            span: at(text, "bmcs"),
        },
        services: Some(vec![ServiceItem {
            kind: ServiceKind::Any,
            span: nth_at(text, "any", 0),
        }]),
        description: Some(string(text, "\"no exposure\"", "no exposure")),
        span: whole(text),
    });
    assert_eq!(parse_one(text), expected);
    match parse_one("expect allow jump -> lab-bmc;") {
        Statement::Expect(e) => {
            assert_eq!(e.kind, ExpectKind::Allow);
            assert_eq!(e.services, None);
            assert_eq!(e.description, None);
        }
        other => panic!("not an expectation: {other:?}"),
    }
    match parse_one("expect unreachable internet -> lab-bmc : ipmi;") {
        Statement::Expect(e) => assert_eq!(e.kind, ExpectKind::Unreachable),
        other => panic!("not an expectation: {other:?}"),
    }
}

#[test]
fn string_escapes() {
    let text = r#"include "a \"quoted\" name \\ here";"#;
    match parse_one(text) {
        Statement::Include(path, _) => assert_eq!(path.value, r#"a "quoted" name \ here"#),
        other => panic!("not an include: {other:?}"),
    }
}

#[test]
fn ipv6_literals() {
    let text = "network n = fd00:10:1::13, ::1, fd00::/8, ::, 64:ff9b::10.0.0.1, 2001:db8::/32, fe80::1/128;";
    assert_eq!(
        net_terms(definition_value(&parse_one(text))),
        [
            NetLiteral::V6 {
                lo: v6("fd00:10:1::13"),
                hi: v6("fd00:10:1::13"),
            },
            NetLiteral::V6 { lo: 1, hi: 1 },
            NetLiteral::V6 {
                lo: v6("fd00::"),
                hi: v6("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            },
            NetLiteral::V6 { lo: 0, hi: 0 },
            NetLiteral::V6 {
                lo: v6("64:ff9b::10.0.0.1"),
                hi: v6("64:ff9b::10.0.0.1"),
            },
            NetLiteral::V6 {
                lo: v6("2001:db8::"),
                hi: v6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
            },
            NetLiteral::V6 {
                lo: v6("fe80::1"),
                hi: v6("fe80::1"),
            },
        ]
    );
}

#[test]
fn ipv4_literals_and_ranges() {
    let text = "network n = 10.1.2.3, 10.1.0.0/16, 0.0.0.0/0, 10.1.2.10-10.1.2.99, fd00::1-fd00::ff, 10.9.9.9-10.9.9.9;";
    assert_eq!(
        net_terms(definition_value(&parse_one(text))),
        [
            NetLiteral::V4 {
                lo: v4("10.1.2.3"),
                hi: v4("10.1.2.3"),
            },
            NetLiteral::V4 {
                lo: v4("10.1.0.0"),
                hi: v4("10.1.255.255"),
            },
            NetLiteral::V4 {
                lo: 0,
                hi: u32::MAX,
            },
            NetLiteral::V4 {
                lo: v4("10.1.2.10"),
                hi: v4("10.1.2.99"),
            },
            NetLiteral::V6 {
                lo: v6("fd00::1"),
                hi: v6("fd00::ff"),
            },
            NetLiteral::V4 {
                lo: v4("10.9.9.9"),
                hi: v4("10.9.9.9"),
            },
        ]
    );
    let value = definition_value(&parse_one(text)).clone();
    assert_eq!(value.include[3].span, at(text, "10.1.2.10-10.1.2.99"));
}

#[test]
fn names_next_to_colons_are_not_addresses() {
    // `rack:` and `fade:` could start an IPv6 literal; with one colon they do not.
    for text in [
        "allow jump -> rack: ssh;",
        "allow jump -> fade: ssh;",
        "allow jump -> rack:ssh;",
    ] {
        match parse_one(text) {
            Statement::Rule(rule) => {
                assert!(
                    matches!(&rule.dst.include[0].kind, TermKind::Name(_)),
                    "{text}"
                );
                assert_eq!(
                    rule.services.map(|s| s[0].kind.clone()),
                    Some(ServiceKind::Name("ssh".into())),
                    "{text}"
                );
            }
            other => panic!("not a rule: {other:?}"),
        }
    }
}

#[test]
fn keywords_are_rejected_as_names() {
    for keyword in KEYWORDS {
        for text in [
            format!("host {keyword} = 10.0.0.1;"),
            format!("service {keyword} = tcp 22;"),
        ] {
            let (statements, diagnostics) = parse_bad(&text);
            assert!(statements.is_empty(), "{text}");
            assert_eq!(diagnostics.len(), 1, "{text}: {diagnostics:?}");
            let (code, location, message) = &diagnostics[0];
            assert_eq!(*code, Code::SyntaxError, "{text}");
            let column = text.find(' ').map_or(0, |i| i + 2);
            assert_eq!(*location, format!("1:{column}"), "{text}");
            assert_eq!(
                *message,
                format!("`{keyword}` is a keyword and cannot be used as a name"),
                "{text}"
            );
        }
    }
    // Names that merely start with a keyword are fine.
    let statements = parse_ok(
        "host hosts = 10.0.0.1; host allowed = 10.0.0.2; host bmc1 = 10.0.0.3; group internal-net = hosts, allowed, bmc1;",
    );
    assert_eq!(statements.len(), 4);
}

#[test]
fn keyword_where_an_address_belongs() {
    let (_, diagnostics) = parse_bad("allow jump -> bmc : ssh;");
    assert_eq!(
        diagnostics,
        [(
            Code::SyntaxError,
            "1:15".to_string(),
            "`bmc` is a keyword and cannot be used as a name".to_string()
        )]
    );
}

#[test]
fn missing_semicolon_is_reported_where_it_belongs_and_both_statements_parse() {
    let text = "host a = 10.0.0.1   # the first\nhost b = 10.0.0.2;\nallow a -> b : ssh;\n";
    let (statements, diagnostics) = parse_bad(text);
    assert_eq!(
        diagnostics,
        [(
            Code::SyntaxError,
            "1:18".to_string(),
            "missing `;` before `host`".to_string()
        )]
    );
    assert_eq!(statements.len(), 3);
    match &statements[0] {
        Statement::Define(d) => assert_eq!(d.name.name, "a"),
        other => panic!("not a definition: {other:?}"),
    }
}

#[test]
fn a_statement_read_without_its_semicolon_ends_where_the_file_ends() {
    // Parsed as if the `;` were there, but no span may point at it.
    let text = "host a = 10.0.0.1;\ninternal a";
    let (statements, diagnostics) = parse_bad(text);
    assert_eq!(
        diagnostics,
        [(
            Code::SyntaxError,
            "2:11".to_string(),
            "missing `;` at the end of the statement".to_string()
        )]
    );
    match &statements[..] {
        [_, Statement::Internal(expr, span)] => {
            assert_eq!(*span, Span::new(FileId(0), 19, text.len()));
            assert_eq!(expr.span, Span::new(FileId(0), text.len() - 1, text.len()));
        }
        other => panic!("not a definition and an `internal`: {other:?}"),
    }
}

#[test]
fn missing_semicolons_in_a_row() {
    let text = "host a = 10.0.0.1\nhost b = 10.0.0.2\nhost c = 10.0.0.3\n";
    let (statements, diagnostics) = parse_bad(text);
    let locations: Vec<&str> = diagnostics.iter().map(|d| d.1.as_str()).collect();
    assert_eq!(locations, ["1:18", "2:18", "3:18"]);
    assert_eq!(statements.len(), 3);
}

#[test]
fn a_statement_may_continue_on_a_line_that_starts_with_a_keyword() {
    let text = "group g = a,\n  internal,\n  bmcs\n  except\n  inventory(rack = \"b\");\nexpect\n  allow a -> b;\n";
    assert_eq!(parse_ok(text).len(), 2);
}

#[test]
fn broken_statement_without_semicolon_does_not_hide_the_next() {
    let text = "allow a b : ssh\nallow a -> c : https;\ndeny any rack;\n";
    let (statements, diagnostics) = parse_bad(text);
    let locations: Vec<&str> = diagnostics.iter().map(|d| d.1.as_str()).collect();
    assert_eq!(locations, ["1:9", "3:10"]);
    assert_eq!(statements.len(), 1);
}

#[test]
fn unterminated_string_is_reported_at_its_quote() {
    let text = "allow a -> b : https \"admins;\nallow c -> d : ssh \"fine\";\n";
    let (statements, diagnostics) = parse_bad(text);
    assert_eq!(
        diagnostics,
        [(
            Code::SyntaxError,
            "1:22".to_string(),
            "unterminated string".to_string()
        )]
    );
    assert_eq!(statements.len(), 1);
    let (_, diagnostics) = parse_bad("include \"a.wall");
    assert_eq!(diagnostics[0].1, "1:9");
}

#[test]
fn semicolons_in_strings_and_comments_do_not_end_statements() {
    let text = "allow a -> b : https \"x; y\"; # c; d\nallow a -> b # e; f\n  : ssh;";
    assert_eq!(parse_ok(text).len(), 2);
    let chunks: Vec<(usize, usize)> = statement_chunks(text)
        .iter()
        .map(|c| (c.start, c.end))
        .collect();
    assert_eq!(chunks.len(), 2);
    assert_eq!(
        &text[chunks[0].0..chunks[0].1],
        "allow a -> b : https \"x; y\";"
    );
}

#[test]
fn every_broken_statement_is_reported() {
    let text = "host a = ;\nhost b = 10.0.0.256;\nallow a -> b : tcp 0;\nallow a -> b : tcp 1-70000;\nservice s = tcp 9-8;\n\
                network n = 10.1.2.3/16;\nnetwork m = 10.0.0.0/33;\nnetwork r = 10.0.0.9-10.0.0.1;\nnetwork x = 10.0.0.1-::1;\n\
                allow a -> b until 2026-02-30;\nallow a -> b waive BW999 \"why\";\nallow a -> b log log;\n";
    let (statements, diagnostics) = parse_bad(text);
    // Each statement is kept without its bad part, so its name stays defined.
    assert_eq!(statements.len(), 12, "{statements:?}");
    let found: Vec<(Code, &str)> = diagnostics
        .iter()
        .map(|(code, location, _)| (*code, location.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (Code::SyntaxError, "1:10"),
            (Code::InvalidValue, "2:10"),
            (Code::InvalidValue, "3:20"),
            (Code::InvalidValue, "4:22"),
            (Code::InvalidValue, "5:17"),
            (Code::InvalidValue, "6:13"),
            (Code::InvalidValue, "7:22"),
            (Code::InvalidValue, "8:13"),
            (Code::InvalidValue, "9:13"),
            (Code::InvalidValue, "10:20"),
            (Code::InvalidValue, "11:20"),
            (Code::SyntaxError, "12:18"),
        ]
    );
}

#[test]
fn host_bits_help_names_the_network() {
    let mut sources = crate::source::SourceMap::default();
    let text = "network n = 10.1.2.3/16, fd00::1:0/96;";
    let file = sources.add("t.wall".into(), text.into());
    let (_, diagnostics) = parse(file, text);
    let helps: Vec<Option<&str>> = diagnostics.iter().map(|d| d.help.as_deref()).collect();
    assert_eq!(
        helps,
        [
            Some("did you mean `10.1.0.0/16`?"),
            Some("did you mean `fd00::/96`?")
        ]
    );
}

#[test]
fn malformed_addresses_are_invalid_values_not_syntax_errors() {
    for (text, column) in [
        ("host h = 1.2.3;", 10),
        ("host h = 1.2.3.4.5;", 10),
        ("host h = 010.0.0.1;", 10),
        ("host h = fd00:zz::1;", 10),
        ("host h = fd00::12345;", 10),
        ("host h = 1::2::3;", 10),
    ] {
        let (_, diagnostics) = parse_bad(text);
        assert_eq!(
            diagnostics
                .iter()
                .map(|d| (d.0, d.1.as_str()))
                .collect::<Vec<_>>(),
            [(Code::InvalidValue, format!("1:{column}").as_str())],
            "{text}"
        );
    }
}

#[test]
fn dates_must_exist() {
    assert!(Date::parse("2028-02-29").is_some());
    assert!(Date::parse("2000-02-29").is_some());
    assert!(Date::parse("2026-02-29").is_none());
    assert!(Date::parse("1900-02-29").is_none());
    assert!(Date::parse("2026-04-31").is_none());
    assert!(Date::parse("2026-13-01").is_none());
    assert!(Date::parse("2026-00-10").is_none());
    assert!(Date::parse("2026-01-00").is_none());
}

#[test]
fn empty_and_comment_only_input_parses_to_nothing() {
    assert!(parse_ok("").is_empty());
    assert!(parse_ok("# only a comment\n\n   \n# another; with a semicolon\n").is_empty());
}

#[test]
fn garbage_never_panics() {
    for text in [
        "\"",
        ";",
        "\\",
        "allow",
        "allow a ->",
        "host a = 10.0.0.1/",
        "host a = ::/",
        "inventory(",
        "é;ü\"\n\"",
        "allow a -> b : tcp 99999999999999999999;",
        "network n = 1.2.3.4/99999999999999999999;",
        "allow a -> b until 9999-99-99;",
        "host a = 10.0.0.1\u{a0}host b = 10.0.0.2;",
        "host a = 10.0.0.1\n\u{1F600}host b;",
    ] {
        let (_, diagnostics) = parse(FileId(0), text);
        assert!(!diagnostics.is_empty(), "{text:?}");
    }
}

#[test]
fn a_definition_with_a_bad_value_still_defines_its_name() {
    let text = "host ntp1 = 10.0.0.256, 10.0.0.123;\nservice kvm = tcp 0, 5900;\n";
    let (statements, diagnostics) = parse_bad(text);
    assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    match &statements[..] {
        [Statement::Define(host), Statement::Service(service)] => {
            assert_eq!(host.name.name, "ntp1");
            assert_eq!(
                net_terms(&host.value),
                [NetLiteral::V4 {
                    lo: v4("10.0.0.123"),
                    hi: v4("10.0.0.123"),
                }]
            );
            assert_eq!(service.name.name, "kvm");
            assert_eq!(
                service.items[0].kind,
                ServiceKind::Ports {
                    proto: TCP,
                    ranges: vec![(5900, 5900, at(text, "5900"))],
                }
            );
        }
        other => panic!("unexpected statements: {other:?}"),
    }
}

#[test]
fn a_definition_that_does_not_parse_still_defines_its_name() {
    let text = "network lab = 10.99.0.0/16 10.98.0.0/16;\nservice kvm = tcp x;\nbmc b = \"unterminated;\nhost allow = 10.0.0.1;\n";
    let (statements, diagnostics) = parse_bad(text);
    assert_eq!(diagnostics.len(), 4, "{diagnostics:?}");
    let names: Vec<(&str, Option<DefKind>)> = statements
        .iter()
        .map(|s| match s {
            Statement::Define(d) => {
                assert!(d.value.include.is_empty() && d.value.except.is_empty());
                (d.name.name.as_str(), Some(d.kind))
            }
            Statement::Service(s) => {
                assert!(s.items.is_empty());
                (s.name.name.as_str(), None)
            }
            other => panic!("unexpected statement: {other:?}"),
        })
        .collect();
    // A keyword is no name, so `host allow` defines nothing.
    assert_eq!(
        names,
        [
            ("lab", Some(DefKind::Network)),
            ("kvm", None),
            ("b", Some(DefKind::Bmc))
        ]
    );
}

#[test]
fn windows_line_endings() {
    let text = include_str!("../../examples/ams1/ams1.wall").replace('\n', "\r\n");
    assert_eq!(parse_ok(&text).len(), 18);
    let (statements, diagnostics) = parse_bad("host a = 10.0.0.1\r\nhost b = 10.0.0.2;\r\n");
    assert_eq!(
        diagnostics,
        [(
            Code::SyntaxError,
            "1:18".to_string(),
            "missing `;` before `host`".to_string()
        )]
    );
    assert_eq!(statements.len(), 2);
}

#[test]
fn unterminated_string_with_a_semicolon_inside_ends_with_its_line() {
    let text = "allow a -> b : https \"open 9;00-17;00\nallow c -> d : ssh;\ndeny e -> f : https \"no quote\n  log;\n";
    let (statements, diagnostics) = parse_bad(text);
    let locations: Vec<(&str, &str)> = diagnostics
        .iter()
        .map(|d| (d.1.as_str(), d.2.as_str()))
        .collect();
    assert_eq!(
        locations,
        [
            ("1:22", "unterminated string"),
            ("3:21", "unterminated string")
        ]
    );
    assert_eq!(statements.len(), 1);
}

/// The tokens of `text` as (text, part) pairs, statement by statement.
fn token_parts(text: &str) -> Vec<(StatementKind, Vec<(&str, Part)>)> {
    statement_tokens(text)
        .expect("the text parses")
        .into_iter()
        .map(|s| {
            let tokens = s
                .tokens
                .iter()
                .map(|t| (&text[t.start..t.end], t.part))
                .collect();
            (s.kind, tokens)
        })
        .collect()
}

#[test]
fn tokens_carry_the_part_of_their_statement() {
    use Part::*;
    let text = "host h = 10.0.0.1;\nallow h, 10.0.0.0/8 -> inventory(rack != \"a\") : tcp 80, 5900-5901\n  log until 2027-03-31 waive BW206 \"ok\" \"why\";\nexpect deny any -> h \"never\";";
    assert_eq!(
        token_parts(text),
        [
            (
                StatementKind::Definition,
                vec![
                    ("host", Keyword),
                    ("h", Name),
                    ("=", Equals),
                    ("10.0.0.1", Value),
                    (";", End)
                ]
            ),
            (
                StatementKind::Rule,
                vec![
                    ("allow", Action),
                    ("h", Source),
                    (",", Source),
                    ("10.0.0.0/8", Source),
                    ("->", Arrow),
                    ("inventory", Destination),
                    ("(", Destination),
                    ("rack", Destination),
                    ("!=", Destination),
                    ("\"a\"", Destination),
                    (")", Destination),
                    (":", Services),
                    ("tcp", Services),
                    ("80", Services),
                    (",", Services),
                    ("5900-5901", Services),
                    ("log", Attribute(0)),
                    ("until", Attribute(1)),
                    ("2027-03-31", Attribute(1)),
                    ("waive", Attribute(2)),
                    ("BW206", Attribute(2)),
                    ("\"ok\"", Attribute(2)),
                    ("\"why\"", Attribute(3)),
                    (";", End)
                ]
            ),
            (
                StatementKind::Expectation,
                vec![
                    ("expect", Keyword),
                    ("deny", Action),
                    ("any", Source),
                    ("->", Arrow),
                    ("h", Destination),
                    ("\"never\"", Attribute(0)),
                    (";", End)
                ]
            ),
        ]
    );
}

#[test]
fn tokens_split_ranges_and_keep_strings_whole() {
    let text = "network n = 10.0.0.1 - # from\n 10.0.0.9, fd00::1-fd00::9;\ninclude \"a \\\"b\\\" # c.wall\" ;";
    let statements = statement_tokens(text).expect("the text parses");
    let kinds: Vec<Vec<(&str, TokenKind)>> = statements
        .iter()
        .map(|s| {
            s.tokens
                .iter()
                .map(|t| (&text[t.start..t.end], t.kind))
                .collect()
        })
        .collect();
    use TokenKind::*;
    assert_eq!(
        kinds,
        [
            vec![
                ("network", Word),
                ("n", Word),
                ("=", Word),
                ("10.0.0.1", Word),
                ("-", RangeDash),
                ("10.0.0.9", Word),
                (",", Comma),
                ("fd00::1", Word),
                ("-", RangeDash),
                ("fd00::9", Word),
                (";", Semicolon)
            ],
            vec![
                ("include", Word),
                ("\"a \\\"b\\\" # c.wall\"", Word),
                (";", Semicolon)
            ],
        ]
    );
}

#[test]
fn tokens_are_refused_for_text_that_does_not_parse() {
    assert!(statement_tokens("allow a b;").is_none());
    assert!(statement_tokens("include \"open;\n").is_none());
    assert!(statement_tokens("host a = 10.0.0.1").is_none());
    assert_eq!(statement_tokens("# only a comment\n"), Some(Vec::new()));
}

#[test]
fn a_waiver_may_name_the_services_it_waives() {
    let text = "allow a -> b : vnc, http waive BW206(vnc, http) \"console\";";
    let Statement::Rule(rule) = parse_one(text) else {
        panic!("not a rule");
    };
    let names: Vec<&str> = rule.waivers[0]
        .services
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["vnc", "http"]);
    assert_eq!(rule.waivers[0].services[0].span, nth_at(text, "vnc", 1));
    assert_eq!(
        rule.waivers[0].span,
        at(text, "waive BW206(vnc, http) \"console\"")
    );

    // Only codes whose findings name services take a list.
    let (_, diagnostics) = parse_bad("allow a -> b : ssh waive BW201(ssh) \"why\";");
    assert_eq!(
        diagnostics,
        [(
            Code::InvalidValue,
            "1:31".to_string(),
            "BW201 findings name no services, so a waiver of it names none".to_string()
        )]
    );
}

/// pest parses by recursive descent: a rule that can reach itself would
/// let nesting in the input deepen the stack. No rule of the grammar reaches
/// itself, so the depth of a parse is bounded by the grammar, whatever the
/// input (a statement of 100,000 terms is a repetition, not a recursion).
#[test]
fn no_grammar_rule_reaches_itself() {
    let grammar = include_str!("../../grammar/bmcwall.pest");
    let code: String = grammar
        .lines()
        .map(|line| match line.trim_start().starts_with("//") {
            true => "",
            false => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    // Every `name = modifier? { body }`, with the names the body refers to.
    let mut rules: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut rest = code.as_str();
    while let Some(eq) = rest.find(" = ") {
        let name = rest[..eq]
            .split_whitespace()
            .last()
            .unwrap_or("")
            .to_string();
        let open = eq + rest[eq..].find('{').expect("a rule body");
        let mut depth = 0;
        let mut close = open;
        let mut in_string = false;
        let mut chars = rest[open..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' if in_string => {
                    chars.next();
                }
                '"' => in_string = !in_string,
                '{' if !in_string => depth += 1,
                '}' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let body = &rest[open + 1..close];
        let mut refs = Vec::new();
        let mut word = String::new();
        let mut in_string = false;
        let mut escaped = false;
        for c in body.chars().chain(std::iter::once(' ')) {
            if in_string {
                in_string = escaped || c != '"';
                escaped = !escaped && c == '\\';
                continue;
            }
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            if !word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit()) {
                refs.push(std::mem::take(&mut word));
            }
            word.clear();
            in_string = c == '"';
        }
        rules.insert(name, refs);
        rest = &rest[close + 1..];
    }
    assert!(rules.len() > 50, "read {} rules", rules.len());
    assert!(rules["addrs"].contains(&"term_list".to_string()));
    for start in rules.keys() {
        let mut stack: Vec<&String> = rules[start].iter().collect();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(name) = stack.pop() {
            assert_ne!(name, start, "the grammar rule `{start}` reaches itself");
            if seen.insert(name) {
                stack.extend(rules.get(name).into_iter().flatten());
            }
        }
    }
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_text() {
    let text = "\u{feff}host a = 10.0.0.1;\nallow a -> a : ssh;\n";
    let (ast, diagnostics) = parse(FileId(0), text);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(ast.statements.len(), 2);
    let Statement::Define(definition) = &ast.statements[0] else {
        panic!("not a definition");
    };
    assert_eq!(definition.name.span, nth_at(text, "a", 0));
}

#[test]
fn an_ipv4_mapped_ipv6_address_is_an_error_naming_the_ipv4_form() {
    let (_, diagnostics) = parse_bad("host h = ::ffff:10.0.0.1;");
    assert_eq!(
        diagnostics,
        [(
            Code::InvalidValue,
            "1:10".to_string(),
            "`::ffff:10.0.0.1` is an IPv4-mapped IPv6 address".to_string()
        )]
    );
    let (_, diagnostics) = parse(FileId(0), "network n = ::ffff:10.0.0.0/104;");
    assert_eq!(
        diagnostics[0].help.as_deref(),
        Some("write the IPv4 address `10.0.0.0`: an IPv4 host's packets carry its IPv4 address, which a rule on `::ffff:10.0.0.0` never matches")
    );
}
