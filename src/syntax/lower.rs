//! Lowering of pest pairs to the typed [`Ast`](super::Ast), checking values.

use super::ast::*;
use super::grammar::Rule as R;
use crate::addr::{service, v4_prefix, v6_prefix};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Action, Date, DefKind, ExpectKind, NAME_MAX};
use crate::source::{FileId, Span};
use pest::iterators::Pair;
use std::net::{Ipv4Addr, Ipv6Addr};

pub(super) struct Lowering<'d> {
    file: FileId,
    offset: usize,
    /// Where the statement's text ends in the file: a statement parsed with a
    /// `;` added for one that is missing has no `;` to point at.
    limit: usize,
    diagnostics: &'d mut Vec<Diagnostic>,
}

/// An address literal before it becomes an interval.
enum Ip {
    V4(u32),
    V6(u128),
}

impl<'d> Lowering<'d> {
    pub(super) fn new(
        file: FileId,
        offset: usize,
        limit: usize,
        diagnostics: &'d mut Vec<Diagnostic>,
    ) -> Self {
        Self {
            file,
            offset,
            limit,
            diagnostics,
        }
    }

    /// The span of a pair, without the whitespace and comments pest lets a
    /// non-atomic rule end with (`admins ` in `allow admins -> ...`), nor a
    /// `;` that is not in the file.
    fn span(&self, pair: &Pair<R>) -> Span {
        let s = pair.as_span();
        let end = super::scan::content_end(pair.as_str(), 0, pair.as_str().len());
        let start = (self.offset + s.start()).min(self.limit);
        Span::new(
            self.file,
            start,
            (self.offset + s.start() + end).min(self.limit),
        )
    }

    fn invalid(&mut self, span: Span, message: String, label: &str, help: Option<String>) {
        let mut diagnostic = Diagnostic::new(Code::InvalidValue, message, span, label);
        diagnostic.help = help;
        self.diagnostics.push(diagnostic);
    }

    /// Lowers one statement. An invalid value is reported and left out (an
    /// address term, a port, an `until`), and the rest of the statement is
    /// kept, so that a name whose definition holds a typo is still defined
    /// and its uses raise no second error. The input is invalid either way.
    pub(super) fn statement(&mut self, pair: Pair<R>) -> Option<Statement> {
        let span = self.span(&pair);
        let kind = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_punctuation(p.as_rule()));
        let statement = match kind {
            R::internal_stmt => {
                inner.next();
                Statement::Internal(self.addrs(inner.next()?), span)
            }
            R::scope_stmt => {
                inner.next();
                Statement::Scope(self.addrs(inner.next()?), span)
            }
            R::watch_stmt => {
                inner.next();
                Statement::Watch(self.addrs(inner.next()?), span)
            }
            R::include_stmt => {
                inner.next();
                Statement::Include(self.string(inner.next()?), span)
            }
            R::inventory_stmt => {
                inner.next();
                let path = self.string(inner.next()?);
                let mut spec = InventorySpec {
                    path,
                    format: None,
                    address: None,
                    resolve: false,
                };
                for part in inner {
                    match part.as_rule() {
                        R::format_name => spec.format = Some(self.inventory_format(part)?),
                        R::address_key => spec.address = Some(self.ident(part)),
                        R::kw_resolve => spec.resolve = true,
                        _ => {}
                    }
                }
                Statement::Inventory(spec, span)
            }
            R::definition => {
                let kind = match inner.next()?.into_inner().next()?.as_rule() {
                    R::def_host => DefKind::Host,
                    R::def_network => DefKind::Network,
                    R::def_group => DefKind::Group,
                    _ => DefKind::Bmc,
                };
                let name = self.ident(inner.next()?);
                let value = self.addrs(inner.next()?);
                Statement::Define(Definition {
                    kind,
                    name,
                    value,
                    span,
                })
            }
            R::service_def => {
                inner.next();
                let name = self.ident(inner.next()?);
                let items = self.services(inner.next()?);
                Statement::Service(ServiceDef { name, items, span })
            }
            R::rule => self.rule(inner, span)?,
            R::gateway_stmt => {
                inner.next();
                let name = self.ident(inner.next()?);
                let addrs = self.addrs(inner.next()?);
                let items = inner.filter_map(|item| self.gateway_item(item)).collect();
                Statement::Gateway(GatewayDecl {
                    name,
                    addrs,
                    items,
                    span,
                })
            }
            R::expectation => {
                inner.next();
                let kind = expect_kind(inner.next()?);
                let src = self.addrs(inner.next()?);
                inner.next(); // arrow
                let dst = self.addrs(inner.next()?);
                let mut services = None;
                let mut description = None;
                for part in inner {
                    match part.as_rule() {
                        R::services => services = Some(self.services(part)),
                        R::string => description = Some(self.string(part)),
                        _ => {}
                    }
                }
                Statement::Expect(Expectation {
                    kind,
                    src,
                    dst,
                    services,
                    description,
                    span,
                })
            }
            _ => return None,
        };
        Some(statement)
    }

    fn rule<'i>(
        &mut self,
        mut inner: impl Iterator<Item = Pair<'i, R>>,
        span: Span,
    ) -> Option<Statement> {
        let action = action(inner.next()?);
        let src = self.addrs(inner.next()?);
        inner.next(); // arrow
        let dst = self.addrs(inner.next()?);
        let mut rule = Rule {
            action,
            src,
            dst,
            services: None,
            log: false,
            until: None,
            waivers: Vec::new(),
            description: None,
            span,
        };
        let mut seen_log: Option<Span> = None;
        for part in inner {
            let part_span = self.span(&part);
            match part.as_rule() {
                R::services => rule.services = Some(self.services(part)),
                R::kw_log => {
                    if let Some(first) = seen_log {
                        self.duplicate_attribute("`log`", part_span, first);
                    }
                    seen_log = Some(part_span);
                    rule.log = true;
                }
                R::until_attr => {
                    let date_pair = part.into_inner().nth(1)?;
                    let date_span = self.span(&date_pair);
                    if let Some((_, first)) = rule.until {
                        self.duplicate_attribute("`until`", part_span, first);
                    }
                    match Date::parse(date_pair.as_str()) {
                        Some(date) => rule.until = Some((date, part_span)),
                        None => self.invalid(
                            date_span,
                            format!("`{}` is not a calendar date", date_pair.as_str()),
                            "not a real date",
                            Some("dates are YYYY-MM-DD, e.g. 2027-03-31".into()),
                        ),
                    }
                }
                R::waive_attr => {
                    let mut parts = part.into_inner();
                    parts.next();
                    let code_pair = parts.next()?;
                    let code = self.ident(code_pair);
                    let mut next = parts.next()?;
                    let mut services = Vec::new();
                    let mut services_span = None;
                    if next.as_rule() == R::waived_services {
                        services_span = Some(self.span(&next));
                        services = next
                            .into_inner()
                            .filter(|p| p.as_rule() == R::name)
                            .map(|p| self.ident(p))
                            .collect();
                        next = parts.next()?;
                    }
                    let reason = self.string(next);
                    let parsed = Code::parse(&code.name);
                    if parsed.is_none() {
                        self.invalid(
                            code.span,
                            format!("`{}` is not a bmcwall code", code.name),
                            "unknown code",
                            Some("`bmcwall lints` lists the codes".into()),
                        );
                    } else if let (Some(code), Some(span)) =
                        (parsed.filter(|c| !c.lists_services()), services_span)
                    {
                        self.invalid(
                            span,
                            format!(
                                "{code} findings name no services, so a waiver of it names none"
                            ),
                            "services of a waiver",
                            Some(format!("write `waive {code} \"reason\"`")),
                        );
                    } else if reason.value.trim().is_empty() {
                        self.invalid(
                            reason.span,
                            "a waiver needs a reason".into(),
                            "empty reason",
                            Some("say why the finding is acceptable".into()),
                        );
                    }
                    rule.waivers.push(Waiver {
                        code,
                        services,
                        reason,
                        span: part_span,
                    });
                }
                R::string => {
                    let text = self.string(part);
                    if let Some(first) = &rule.description {
                        let first = first.span;
                        self.duplicate_attribute("description", text.span, first);
                    }
                    rule.description = Some(text);
                }
                _ => {}
            }
        }
        Some(Statement::Rule(rule))
    }

    /// The format named after `format`; an unknown name is reported (BW006)
    /// and the statement is left out.
    fn inventory_format(&mut self, pair: Pair<R>) -> Option<InventoryFormat> {
        let name = pair.as_str();
        if let Some(format) = InventoryFormat::parse(name) {
            return Some(format);
        }
        let known: Vec<String> = InventoryFormat::ALL
            .iter()
            .map(|f| format!("`{}`", f.name()))
            .collect();
        let listing = format!(
            "the inventory formats are {} and {}",
            known[..known.len() - 1].join(", "),
            known[known.len() - 1]
        );
        let lower = name.to_ascii_lowercase();
        // The file's language is a likely guess: NetBox exports are JSON.
        let by_language = match lower.as_str() {
            "json" => Some(InventoryFormat::Netbox.name()),
            "yaml" | "yml" => Some(InventoryFormat::Native.name()),
            _ => None,
        };
        let closest = by_language.or_else(|| {
            crate::diagnostic::closest(&lower, InventoryFormat::ALL.iter().map(|f| f.name()))
        });
        let help = match closest {
            Some(suggestion) => format!("did you mean `{suggestion}`? {listing}"),
            None => listing,
        };
        let span = self.span(&pair);
        self.invalid(
            span,
            format!("unknown inventory format `{name}`"),
            "not an inventory format",
            Some(help),
        );
        None
    }

    fn duplicate_attribute(&mut self, what: &str, span: Span, first: Span) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::SyntaxError,
                format!("a rule takes at most one {what}"),
                span,
                format!("second {what}"),
            )
            .with_related(first, "first given here")
            .with_help("remove one of them"),
        );
    }

    /// A name being defined. One longer than [`NAME_MAX`] is reported and
    /// still defined, so its uses raise no second error.
    /// One item in a gateway's braces.
    fn gateway_item(&mut self, pair: Pair<R>) -> Option<GatewayItem> {
        let span = self.span(&pair);
        let which = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_punctuation(p.as_rule()));
        inner.next(); // the item's word
        let words = |inner: &mut dyn Iterator<Item = Pair<R>>| -> Vec<R> {
            inner
                .filter_map(|w| w.into_inner().next().map(|k| k.as_rule()))
                .collect()
        };
        let kind = match which {
            R::gateway_scope => GatewayItemKind::Scope(self.addrs(inner.next()?)),
            R::gateway_pair => GatewayItemKind::Pair(self.ident(inner.next()?)),
            R::gateway_mode => {
                let words = words(&mut inner);
                GatewayItemKind::Mode {
                    forward: words.contains(&R::kw_forward),
                    host: words.contains(&R::def_host),
                }
            }
            R::gateway_sync => {
                let words = words(&mut inner);
                GatewayItemKind::Sync {
                    vrrp: words.contains(&R::kw_vrrp),
                    conntrackd: words.contains(&R::kw_conntrackd),
                }
            }
            _ => return None,
        };
        Some(GatewayItem { kind, span })
    }

    fn ident(&mut self, pair: Pair<R>) -> Ident {
        let ident = Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        };
        if ident.name.len() > NAME_MAX {
            self.invalid(
                ident.span,
                format!(
                    "the name `{}…` is {} characters long; names are at most {NAME_MAX}",
                    &ident.name[..24],
                    ident.name.len()
                ),
                "too long for nftables",
                Some(format!(
                    "nftables allows 255 characters in a set name, and the sets of the \
                     rules layout are named after definitions (`NAME_protos`): shorten it \
                     to {NAME_MAX} characters or fewer"
                )),
            );
        }
        ident
    }

    fn string(&self, pair: Pair<R>) -> StrLit {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(escaped) = chars.next() {
                    value.push(escaped);
                }
            } else {
                value.push(c);
            }
        }
        StrLit { value, span }
    }

    fn addrs(&mut self, pair: Pair<R>) -> AddrExpr {
        let span = self.span(&pair);
        let mut lists = pair.into_inner().filter(|p| p.as_rule() == R::term_list);
        let include = lists.next().map(|l| self.terms(l)).unwrap_or_default();
        let except = lists.next().map(|l| self.terms(l)).unwrap_or_default();
        AddrExpr {
            include,
            except,
            span,
        }
    }

    fn terms(&mut self, pair: Pair<R>) -> Vec<Term> {
        pair.into_inner()
            .filter(|p| p.as_rule() != R::comma)
            .filter_map(|p| self.term(p))
            .collect()
    }

    fn term(&mut self, pair: Pair<R>) -> Option<Term> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            R::kw_any => TermKind::Any,
            R::kw_internet => TermKind::Internet,
            R::kw_internal => TermKind::Internal,
            R::kw_bmcs => TermKind::Bmcs,
            R::name => TermKind::Name(pair.as_str().to_string()),
            R::selector => {
                let conditions = pair
                    .into_inner()
                    .filter(|p| p.as_rule() == R::condition)
                    .filter_map(|c| {
                        let mut parts = c.into_inner();
                        let label = self.ident(parts.next()?);
                        let negated = parts.next()?.as_rule() == R::op_ne;
                        let value = self.string(parts.next()?);
                        Some(Condition {
                            label,
                            negated,
                            value,
                        })
                    })
                    .collect();
                TermKind::Selector(conditions)
            }
            R::address => {
                let ip_pair = pair.into_inner().next()?;
                TermKind::Net(match self.ip(&ip_pair)? {
                    Ip::V4(a) => NetLiteral::V4 { lo: a, hi: a },
                    Ip::V6(a) => NetLiteral::V6 { lo: a, hi: a },
                })
            }
            R::prefix => TermKind::Net(self.prefix(pair, span)?),
            R::range => {
                let mut parts = pair.into_inner();
                let (first, last) = (parts.next()?, parts.next()?);
                let (a, b) = (self.ip(&first), self.ip(&last));
                let net = match (a?, b?) {
                    (Ip::V4(lo), Ip::V4(hi)) if lo <= hi => NetLiteral::V4 { lo, hi },
                    (Ip::V6(lo), Ip::V6(hi)) if lo <= hi => NetLiteral::V6 { lo, hi },
                    (Ip::V4(_), Ip::V4(_)) | (Ip::V6(_), Ip::V6(_)) => {
                        self.invalid(
                            span,
                            format!("range `{}` ends before it starts", span_text(&first, &last)),
                            "first address is greater than the last",
                            Some(format!(
                                "write it as `{}-{}`",
                                last.as_str(),
                                first.as_str()
                            )),
                        );
                        return None;
                    }
                    _ => {
                        self.invalid(
                            span,
                            format!("range `{}` mixes IPv4 and IPv6", span_text(&first, &last)),
                            "both ends must be IPv4 or both IPv6",
                            Some(
                                "write an IPv4 range and an IPv6 range as two terms: `A-B, C-D`"
                                    .into(),
                            ),
                        );
                        return None;
                    }
                };
                TermKind::Net(net)
            }
            _ => return None,
        };
        Some(Term { kind, span })
    }

    fn ip(&mut self, pair: &Pair<R>) -> Option<Ip> {
        let text = pair.as_str();
        let span = self.span(pair);
        match pair.as_rule() {
            R::ipv4 => match text.parse::<Ipv4Addr>() {
                Ok(a) => Some(Ip::V4(u32::from(a))),
                Err(_) => {
                    self.invalid(
                        span,
                        format!("`{text}` is not a valid IPv4 address"),
                        "invalid IPv4 address",
                        Some(ipv4_help(text).into()),
                    );
                    None
                }
            },
            _ => match text.parse::<Ipv6Addr>() {
                Ok(a) => match a.to_ipv4_mapped() {
                    // Packets between IPv4 hosts carry IPv4 addresses: a rule
                    // on the mapped form would never match them.
                    Some(v4) => {
                        self.invalid(
                            span,
                            format!("`{text}` is an IPv4-mapped IPv6 address"),
                            "IPv4-mapped IPv6 address",
                            Some(format!(
                                "write the IPv4 address `{v4}`: an IPv4 host's packets carry its IPv4 address, which a rule on `{text}` never matches"
                            )),
                        );
                        None
                    }
                    None => Some(Ip::V6(u128::from(a))),
                },
                Err(_) => {
                    self.invalid(
                        span,
                        format!("`{text}` is not a valid IPv6 address"),
                        "invalid IPv6 address",
                        Some(
                            "an IPv6 address is up to eight groups of 1-4 hex digits, with at most one `::`"
                                .into(),
                        ),
                    );
                    None
                }
            },
        }
    }

    fn prefix(&mut self, pair: Pair<R>, span: Span) -> Option<NetLiteral> {
        let mut parts = pair.into_inner();
        let ip_pair = parts.next()?;
        let len_pair = parts.next()?;
        let ip = self.ip(&ip_pair)?;
        let max = match ip {
            Ip::V4(_) => 32,
            Ip::V6(_) => 128,
        };
        let len: u8 = match len_pair.as_str().parse::<u32>() {
            Ok(n) if n <= max => n as u8,
            _ => {
                let len_span = self.span(&len_pair);
                self.invalid(
                    len_span,
                    format!("prefix length `{}` is out of range", len_pair.as_str()),
                    &format!("must be 0-{max}"),
                    None,
                );
                return None;
            }
        };
        let net = match ip {
            Ip::V4(a) => v4_prefix(a, len).map(|(lo, hi)| NetLiteral::V4 { lo, hi }),
            Ip::V6(a) => v6_prefix(a, len).map(|(lo, hi)| NetLiteral::V6 { lo, hi }),
        };
        if net.is_none() {
            let network = match ip {
                Ip::V4(a) => {
                    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                    format!("{}/{len}", Ipv4Addr::from(a & mask))
                }
                Ip::V6(a) => {
                    let mask = if len == 0 {
                        0
                    } else {
                        u128::MAX << (128 - len)
                    };
                    format!("{}/{len}", Ipv6Addr::from(a & mask))
                }
            };
            self.invalid(
                span,
                format!(
                    "prefix `{}` has host bits set",
                    span_text_one(&ip_pair, &len_pair)
                ),
                "host bits set",
                Some(format!("did you mean `{network}`?")),
            );
            if let Some(last) = self.diagnostics.last_mut() {
                last.fix = Some(network);
            }
        }
        net
    }

    fn services(&mut self, pair: Pair<R>) -> Vec<ServiceItem> {
        let mut items = Vec::new();
        for item in pair.into_inner().filter(|p| p.as_rule() != R::comma) {
            let span = self.span(&item);
            let kind = match item.as_rule() {
                R::kw_icmp => ServiceKind::Icmp,
                R::kw_any => ServiceKind::Any,
                R::name => ServiceKind::Name(item.as_str().to_string()),
                R::svc_ports => {
                    let mut parts = item.into_inner().filter(|p| p.as_rule() != R::comma);
                    let Some(proto_pair) = parts.next() else {
                        continue;
                    };
                    let proto = if proto_pair.as_rule() == R::proto_tcp {
                        service::TCP
                    } else {
                        service::UDP
                    };
                    let ranges = parts.filter_map(|p| self.port(p)).collect();
                    ServiceKind::Ports { proto, ranges }
                }
                _ => continue,
            };
            items.push(ServiceItem { kind, span });
        }
        items
    }

    fn port(&mut self, pair: Pair<R>) -> Option<(u16, u16, Span)> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next()?;
        let numbers: Vec<Pair<R>> = if inner.as_rule() == R::port_range {
            inner.into_inner().collect()
        } else {
            vec![inner]
        };
        let mut values = Vec::new();
        for number in &numbers {
            match number.as_str().parse::<u32>() {
                Ok(n) if (1..=65535).contains(&n) => values.push(n as u16),
                _ => {
                    let number_span = self.span(number);
                    self.invalid(
                        number_span,
                        format!("port `{}` is out of range", number.as_str()),
                        "ports are 1-65535",
                        None,
                    );
                    return None;
                }
            }
        }
        let (lo, hi) = (values[0], *values.last()?);
        if lo > hi {
            self.invalid(
                span,
                format!("port range `{lo}-{hi}` ends before it starts"),
                "first port is greater than the last",
                Some(format!("write it as `{hi}-{lo}`")),
            );
            return None;
        }
        Some((lo, hi, span))
    }
}

/// Why an IPv4 literal does not parse, as advice.
fn ipv4_help(text: &str) -> &'static str {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        "an IPv4 address has four parts, e.g. `10.1.2.3`"
    } else if parts
        .iter()
        .any(|p| p.parse::<u32>().map_or(true, |n| n > 255))
    {
        "each of the four parts is 0-255"
    } else {
        "write the parts without leading zeros"
    }
}

fn action(pair: Pair<R>) -> Action {
    match pair.into_inner().next().map(|p| p.as_rule()) {
        Some(R::kw_deny) => Action::Deny,
        _ => Action::Allow,
    }
}

fn expect_kind(pair: Pair<R>) -> ExpectKind {
    match pair.into_inner().next().map(|p| p.as_rule()) {
        Some(R::kw_deny) => ExpectKind::Deny,
        Some(R::kw_unreachable) => ExpectKind::Unreachable,
        _ => ExpectKind::Allow,
    }
}

fn is_punctuation(kind: R) -> bool {
    matches!(
        kind,
        R::semi | R::comma | R::colon | R::equals | R::lparen | R::rparen | R::lbrace | R::rbrace
    )
}

fn span_text(first: &Pair<R>, last: &Pair<R>) -> String {
    format!("{}-{}", first.as_str(), last.as_str())
}

fn span_text_one(ip: &Pair<R>, len: &Pair<R>) -> String {
    format!("{}/{}", ip.as_str(), len.as_str())
}
