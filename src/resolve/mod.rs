//! Resolution: parsed files to one [`Policy`].
//!
//! Reads included files and inventories (the only file I/O outside the CLI),
//! resolves every name to an address or service set, and reports BW002-BW008.
//! Invariant: resolution always returns a policy; when it reported an error the
//! policy is incomplete and must not be analysed or compiled.

mod ahead;
pub mod inventory;
pub mod policy;
pub mod services;

pub use policy::*;

use crate::addr::service::{self, ServiceSet};
use crate::addr::{AddrSet, IntervalSet};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Date, DefKind};
use crate::source::{normalize, FileId, SourceMap, Span};
use crate::syntax::{
    self, AddrExpr, Condition, Definition, Ident, InventoryFormat, NetLiteral, ServiceDef,
    ServiceItem, ServiceKind, Statement, StrLit, Term, TermKind,
};
use ahead::Ahead;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The default `internal` space when a policy declares none.
pub const DEFAULT_INTERNAL: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
    "fe80::/10",
];

pub struct Options {
    /// The date `until` is compared with.
    pub today: Date,
}

/// A statement with the file it came from, after includes are spliced in.
struct Located {
    statement: Statement,
    dir: PathBuf,
}

/// Reads `path` (and everything it includes) and resolves it.
pub fn load(path: &Path, sources: &mut SourceMap, options: &Options) -> (Policy, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut statements = Vec::new();
    let mut ahead = Ahead::new();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let file = sources.add(normalize(path), text);
            let mut stack = vec![Reading {
                key: canonical(path),
                shown: normalize(path),
                included_at: None,
            }];
            read_file(
                file,
                path,
                sources,
                &mut stack,
                &mut ahead,
                &mut statements,
                &mut diagnostics,
            );
        }
        Err(error) => {
            let file = sources.add(normalize(path), String::new());
            diagnostics.push(Diagnostic::new(
                Code::IncludeError,
                format!("cannot read {}: {}", path.display(), error_text(&error)),
                Span::new(file, 0, 0),
                "file not readable",
            ));
        }
    }
    let policy = Resolver::new(sources, &mut diagnostics, options).resolve(statements, &mut ahead);
    (policy, diagnostics)
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
}

fn error_text(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::InvalidData => "not UTF-8 text".into(),
        _ => error.to_string(),
    }
}

/// A file being read, outermost first: where the chain of includes stands.
struct Reading {
    /// The canonical path, to recognise the file again.
    key: PathBuf,
    /// The path as shown in diagnostics.
    shown: PathBuf,
    /// The `include` that brought the file in; `None` for the top file.
    included_at: Option<Span>,
}

fn read_file(
    file: FileId,
    path: &Path,
    sources: &mut SourceMap,
    stack: &mut Vec<Reading>,
    ahead: &mut Ahead,
    out: &mut Vec<Located>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (ast, parse_diagnostics) =
        syntax::parse_watching(file, &sources.file(file).text, &mut |statement| {
            if let Statement::Inventory(path, format, _) = statement {
                ahead.ask(dir.join(&path.value), *format);
            }
        });
    diagnostics.extend(parse_diagnostics);
    for statement in ast.statements {
        if let Statement::Include(target, _) = &statement {
            let included = dir.join(&target.value);
            let key = canonical(&included);
            if let Some(pos) = stack.iter().position(|r| r.key == key) {
                let chain: Vec<String> = stack[pos..]
                    .iter()
                    .map(|r| r.shown.display().to_string())
                    .chain(std::iter::once(normalize(&included).display().to_string()))
                    .collect();
                let mut diagnostic = Diagnostic::new(
                    Code::IncludeError,
                    format!("include cycle: {}", chain.join(" -> ")),
                    target.span,
                    "includes a file that is already being read",
                )
                .with_help(
                    "definitions are global across files, so a file never needs to include a file that includes it; remove one of these includes",
                );
                for reading in &stack[pos + 1..] {
                    if let Some(span) = reading.included_at {
                        diagnostic = diagnostic.with_related(
                            span,
                            format!("`{}` is included here", reading.shown.display()),
                        );
                    }
                }
                diagnostics.push(diagnostic);
                continue;
            }
            match std::fs::read_to_string(&included) {
                Ok(text) => {
                    let child = sources.add(normalize(&included), text);
                    stack.push(Reading {
                        key,
                        shown: normalize(&included),
                        included_at: Some(target.span),
                    });
                    read_file(child, &included, sources, stack, ahead, out, diagnostics);
                    stack.pop();
                }
                Err(error) => diagnostics.push(
                    Diagnostic::new(
                        Code::IncludeError,
                        format!("cannot include `{}`: {}", target.value, error_text(&error)),
                        target.span,
                        format!("{} not readable", normalize(&included).display()),
                    )
                    .with_help("include paths are relative to the including file"),
                ),
            }
            continue;
        }
        out.push(Located {
            statement,
            dir: dir.clone(),
        });
    }
}

/// What a name in the single namespace stands for.
#[derive(Clone, Copy, Debug)]
enum Entry {
    Address(usize),
    Service(usize),
}

/// Something whose value is computed once, with cycle detection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Symbol {
    Name(String),
    Internal,
    Bmcs,
}

enum State<T> {
    InProgress,
    Done(T),
}

struct Resolver<'a> {
    sources: &'a mut SourceMap,
    diagnostics: &'a mut Vec<Diagnostic>,
    options: &'a Options,
    definitions: Vec<Definition>,
    service_defs: Vec<ServiceDef>,
    names: HashMap<String, Entry>,
    internal_expr: Option<AddrExpr>,
    internal_span: Option<Span>,
    inventory: Vec<InventoryEntry>,
    /// Entry indices by label and value (`name` included), built on the
    /// first selector: a selector then reads the entries it names instead of
    /// testing every entry.
    label_index: Option<LabelIndex>,
    addr_state: HashMap<Symbol, State<AddrSet>>,
    service_state: HashMap<String, State<ServiceSet>>,
    /// Definitions being evaluated, innermost last, for cycle messages.
    eval_stack: Vec<String>,
    reported_cycles: HashSet<Vec<String>>,
    uses: HashMap<String, usize>,
}

impl<'a> Resolver<'a> {
    fn new(
        sources: &'a mut SourceMap,
        diagnostics: &'a mut Vec<Diagnostic>,
        options: &'a Options,
    ) -> Self {
        Self {
            sources,
            diagnostics,
            options,
            definitions: Vec::new(),
            service_defs: Vec::new(),
            names: HashMap::new(),
            internal_expr: None,
            internal_span: None,
            inventory: Vec::new(),
            label_index: None,
            addr_state: HashMap::new(),
            service_state: HashMap::new(),
            eval_stack: Vec::new(),
            reported_cycles: HashSet::new(),
            uses: HashMap::new(),
        }
    }

    fn resolve(mut self, statements: Vec<Located>, ahead: &mut Ahead) -> Policy {
        let mut scope_expr: Option<(AddrExpr, Span)> = None;
        let mut internal_span: Option<Span> = None;
        let mut rules = Vec::new();
        let mut expectations = Vec::new();
        // Pass 1: collect definitions and take the inventories read ahead.
        for Located { statement, dir } in statements {
            match statement {
                Statement::Internal(expr, span) => {
                    if let Some(first) = internal_span {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::DuplicateDefinition,
                                "`internal` is declared more than once",
                                span,
                                "second `internal`",
                            )
                            .with_related(first, "first declared here")
                            .with_help("a policy has at most one `internal`, across all files"),
                        );
                    } else {
                        internal_span = Some(span);
                        self.internal_span = Some(span);
                        self.internal_expr = Some(expr);
                    }
                }
                Statement::Scope(expr, span) => {
                    if let Some((_, first)) = &scope_expr {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::DuplicateDefinition,
                                "`scope` is declared more than once",
                                span,
                                "second `scope`",
                            )
                            .with_related(*first, "first declared here")
                            .with_help("a policy has at most one `scope`, across all files"),
                        );
                    } else {
                        scope_expr = Some((expr, span));
                    }
                }
                Statement::Inventory(path, format, _) => {
                    self.inventory(&dir.join(&path.value), &path, format, ahead)
                }
                Statement::Define(definition) => {
                    if self.declare(&definition.name) {
                        self.names.insert(
                            definition.name.name.clone(),
                            Entry::Address(self.definitions.len()),
                        );
                        self.definitions.push(definition);
                    }
                }
                Statement::Service(definition) => {
                    if self.declare(&definition.name) {
                        self.names.insert(
                            definition.name.name.clone(),
                            Entry::Service(self.service_defs.len()),
                        );
                        self.service_defs.push(definition);
                    }
                }
                Statement::Rule(rule) => rules.push(rule),
                Statement::Expect(expectation) => expectations.push(expectation),
                Statement::Include(..) => {}
            }
        }
        inventory::check_unique(&self.inventory, self.diagnostics);

        // Pass 2: evaluate.
        let internal = self.symbol(&Symbol::Internal);
        let bmcs = self.symbol(&Symbol::Bmcs);
        let scope = match &scope_expr {
            Some((expr, _)) => self.addrs(expr),
            None => AddrSet::any(),
        };
        let mut definitions = Vec::new();
        for index in 0..self.definitions.len() {
            let name = self.definitions[index].name.name.clone();
            let set = self.symbol(&Symbol::Name(name));
            let definition = &self.definitions[index];
            definitions.push((
                definition.name.clone(),
                NamedKind::Address(definition.kind, set),
                definition.span,
            ));
        }
        for index in 0..self.service_defs.len() {
            let name = self.service_defs[index].name.name.clone();
            let set = self.service_symbol(&name);
            let definition = &self.service_defs[index];
            definitions.push((
                definition.name.clone(),
                NamedKind::Service(set),
                definition.span,
            ));
        }
        let rules: Vec<PolicyRule> = rules.iter().map(|rule| self.rule(rule)).collect();
        let expectations = expectations
            .iter()
            .map(|e| PolicyExpectation {
                action: e.action,
                src: self.addrs(&e.src),
                dst: self.addrs(&e.dst),
                services: self.services(e.services.as_deref()),
                description: e.description.as_ref().map(|d| d.value.clone()),
                span: e.span,
            })
            .collect();
        let definitions = definitions
            .into_iter()
            .map(|(ident, kind, span)| NamedSet {
                uses: self.uses.get(&ident.name).copied().unwrap_or(0),
                name: ident.name,
                kind,
                span,
                name_span: ident.span,
            })
            .collect();
        Policy {
            internal,
            scope,
            bmcs,
            rules,
            expectations,
            definitions,
            inventory: self.inventory,
        }
    }

    /// Registers a name; reports and returns false when it is taken.
    fn declare(&mut self, name: &Ident) -> bool {
        if services::builtin(&name.name).is_some() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateDefinition,
                    format!(
                        "`{}` is a built-in service and cannot be redefined",
                        name.name
                    ),
                    name.span,
                    "built-in name",
                )
                .with_help(format!("choose another name, e.g. `my-{}`", name.name)),
            );
            return false;
        }
        if let Some(entry) = self.names.get(&name.name) {
            let first = match *entry {
                Entry::Address(i) => self.definitions[i].name.span,
                Entry::Service(i) => self.service_defs[i].name.span,
            };
            self.diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateDefinition,
                    format!("`{}` is defined more than once", name.name),
                    name.span,
                    "defined again here",
                )
                .with_related(first, "first defined here")
                .with_help("a name is defined once across all files; rename one of them"),
            );
            return false;
        }
        true
    }

    /// Adds the inventory at `full` (`path` as written) to the source map and
    /// its entries to the inventory.
    fn inventory(
        &mut self,
        full: &Path,
        path: &StrLit,
        format: InventoryFormat,
        ahead: &mut Ahead,
    ) {
        match ahead.take(full, format) {
            Ok(parsed) => {
                let entries = parsed.place(self.sources, self.diagnostics);
                self.inventory.extend(entries);
            }
            Err(error) => self.diagnostics.push(
                Diagnostic::new(
                    Code::InventoryError,
                    format!(
                        "cannot read inventory `{}`: {}",
                        path.value,
                        error_text(&error)
                    ),
                    path.span,
                    format!("{} not readable", normalize(full).display()),
                )
                .with_help("inventory paths are relative to the policy file"),
            ),
        }
    }

    fn rule(&mut self, rule: &syntax::Rule) -> PolicyRule {
        let src = self.addrs(&rule.src);
        let dst = self.addrs(&rule.dst);
        let services = self.services(rule.services.as_deref());
        let cleartext = self.cleartext(
            rule.services.as_deref().unwrap_or_default(),
            &mut Vec::new(),
        );
        let waivers = rule
            .waivers
            .iter()
            .filter_map(|w| {
                Some(Waiver {
                    code: Code::parse(&w.code.name)?,
                    reason: w.reason.value.clone(),
                    span: w.span,
                })
            })
            .collect();
        PolicyRule {
            action: rule.action,
            src,
            dst,
            services,
            cleartext,
            log: rule.log,
            until: rule.until,
            expired: rule
                .until
                .is_some_and(|(date, _)| date < self.options.today),
            description: rule.description.as_ref().map(|d| d.value.clone()),
            waivers,
            span: rule.span,
            src_span: rule.src.span,
            dst_span: rule.dst.span,
            services_span: rule
                .services
                .as_ref()
                .and_then(|items| Some(items.first()?.span.to(items.last()?.span))),
        }
    }

    fn addrs(&mut self, expr: &AddrExpr) -> AddrSet {
        let include = self.terms(&expr.include);
        if expr.except.is_empty() {
            include
        } else {
            include.difference(&self.terms(&expr.except))
        }
    }

    fn terms(&mut self, terms: &[Term]) -> AddrSet {
        let sets: Vec<AddrSet> = terms.iter().map(|term| self.term(term)).collect();
        AddrSet::union_of(&sets)
    }

    fn term(&mut self, term: &Term) -> AddrSet {
        match &term.kind {
            TermKind::Net(NetLiteral::V4 { lo, hi }) => AddrSet {
                v4: IntervalSet::interval(*lo, *hi),
                v6: IntervalSet::empty(),
            },
            TermKind::Net(NetLiteral::V6 { lo, hi }) => AddrSet {
                v4: IntervalSet::empty(),
                v6: IntervalSet::interval(*lo, *hi),
            },
            TermKind::Any => AddrSet::any(),
            TermKind::Internal => self.symbol(&Symbol::Internal),
            TermKind::Internet => self.symbol(&Symbol::Internal).complement(),
            TermKind::Bmcs => self.symbol(&Symbol::Bmcs),
            TermKind::Selector(conditions) => self.select(conditions, term.span),
            TermKind::Name(name) => match self.names.get(name).copied() {
                Some(Entry::Address(_)) => {
                    *self.uses.entry(name.clone()).or_default() += 1;
                    self.symbol(&Symbol::Name(name.clone()))
                }
                Some(Entry::Service(_)) => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::UnknownName,
                            format!("`{name}` is a service, not an address set"),
                            term.span,
                            "service used as an address",
                        )
                        .with_help("sources and destinations are hosts, networks, groups or bmcs; services go after `:`"),
                    );
                    AddrSet::empty()
                }
                None => {
                    let is_service = services::builtin(name).is_some();
                    let mut diagnostic = Diagnostic::new(
                        Code::UnknownName,
                        if is_service {
                            format!("`{name}` is a built-in service, not an address set")
                        } else {
                            format!("unknown name `{name}`")
                        },
                        term.span,
                        if is_service {
                            "service used as an address"
                        } else {
                            "not defined"
                        },
                    );
                    if is_service {
                        diagnostic = diagnostic.with_help(
                            "sources and destinations are hosts, networks, groups or bmcs; services go after `:`",
                        );
                    } else if let Some(suggestion) = self.closest(name, false) {
                        diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
                    }
                    self.diagnostics.push(diagnostic);
                    AddrSet::empty()
                }
            },
        }
    }

    /// The closest defined name of the right kind, for "did you mean".
    fn closest(&self, name: &str, want_service: bool) -> Option<String> {
        let mut candidates: Vec<&str> = self
            .names
            .iter()
            .filter(|(_, entry)| matches!(entry, Entry::Service(_)) == want_service)
            .map(|(n, _)| n.as_str())
            .collect();
        if want_service {
            candidates.extend(services::BUILTIN.iter().map(|(n, _)| *n));
        } else {
            candidates.extend(["any", "internet", "internal", "bmcs"]);
        }
        // Of equally close names the first in alphabetical order: the names
        // come from a map, and ties go to the candidate given last.
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        crate::diagnostic::closest(name, candidates).map(str::to_string)
    }

    fn select(&mut self, conditions: &[Condition], span: Span) -> AddrSet {
        let inventory = &self.inventory;
        let index = self
            .label_index
            .get_or_insert_with(|| label_index(inventory));
        // The entries every `label = value` condition names, if there is one
        // (the rarest list first, narrowed by the others); the `!=`
        // conditions are tested on those.
        let mut lists: Vec<&[usize]> = conditions
            .iter()
            .filter(|c| !c.negated)
            .map(|c| {
                index
                    .get(c.label.name.as_str())
                    .and_then(|values| values.get(c.value.value.as_str()))
                    .map_or(&[][..], Vec::as_slice)
            })
            .collect();
        lists.sort_by_key(|list| list.len());
        let excluded = |entry: &InventoryEntry| {
            conditions
                .iter()
                .any(|c| c.negated && entry.has_label(&c.label.name, &c.value.value))
        };
        let set = match lists.split_first() {
            Some((rarest, others)) => union_all(
                rarest
                    .iter()
                    .filter(|i| others.iter().all(|list| list.binary_search(i).is_ok()))
                    .map(|&i| &inventory[i])
                    .filter(|entry| !excluded(entry)),
            ),
            None => union_all(inventory.iter().filter(|entry| !excluded(entry))),
        };
        if set.is_empty() {
            let mut diagnostic = Diagnostic::new(
                Code::EmptySelector,
                "selector matches no inventory entry",
                span,
                "matches nothing",
            );
            diagnostic.help = Some(if self.inventory.is_empty() {
                "no inventory is loaded; add `inventory \"file.yaml\";`".into()
            } else {
                "check the labels and values against the inventory files".into()
            });
            self.diagnostics.push(diagnostic);
        }
        set
    }

    /// The value of a symbol, computed once. A symbol that depends on itself is
    /// reported (BW007) and counts as empty.
    fn symbol(&mut self, symbol: &Symbol) -> AddrSet {
        match self.addr_state.get(symbol) {
            Some(State::Done(set)) => return set.clone(),
            Some(State::InProgress) => {
                self.report_cycle(symbol_name(symbol));
                return AddrSet::empty();
            }
            None => {}
        }
        self.addr_state.insert(symbol.clone(), State::InProgress);
        self.eval_stack.push(symbol_name(symbol));
        let set = match symbol {
            Symbol::Internal => match self.internal_expr.clone() {
                Some(expr) => self.addrs(&expr),
                None => default_internal(),
            },
            Symbol::Bmcs => {
                let bmc_names: Vec<String> = self
                    .definitions
                    .iter()
                    .filter(|d| d.kind == DefKind::Bmc)
                    .map(|d| d.name.name.clone())
                    .collect();
                let mut sets = vec![union_all(self.inventory.iter())];
                for name in bmc_names {
                    sets.push(self.symbol(&Symbol::Name(name)));
                }
                AddrSet::union_of(&sets)
            }
            Symbol::Name(name) => match self.names.get(name).copied() {
                Some(Entry::Address(index)) => {
                    let definition = self.definitions[index].clone();
                    if definition.kind == DefKind::Host {
                        self.check_host(&definition);
                    }
                    self.addrs(&definition.value)
                }
                _ => AddrSet::empty(),
            },
        };
        self.eval_stack.pop();
        self.addr_state
            .insert(symbol.clone(), State::Done(set.clone()));
        set
    }

    fn check_host(&mut self, definition: &Definition) {
        let terms = definition
            .value
            .include
            .iter()
            .chain(&definition.value.except);
        for term in terms {
            let single = matches!(&term.kind, TermKind::Net(net) if net.is_single());
            if !single || !definition.value.except.is_empty() {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("host `{}` must list single addresses", definition.name.name),
                        term.span,
                        "not a single address",
                    )
                    .with_help("use `network` or `group` for address sets"),
                );
                return;
            }
        }
    }

    fn report_cycle(&mut self, name: String) {
        let Some(start) = self.eval_stack.iter().position(|n| *n == name) else {
            return;
        };
        let members: Vec<String> = self.eval_stack[start..].to_vec();
        let mut key = members.clone();
        key.sort();
        if !self.reported_cycles.insert(key) {
            return;
        }
        let chain = members
            .iter()
            .chain(std::iter::once(&name))
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" -> ");
        let primary = members
            .iter()
            .find(|m| self.names.contains_key(*m))
            .cloned()
            .unwrap_or_else(|| name.clone());
        // Each member refers to the next one; the last refers to the first.
        let refers_to = |member: &String| {
            let index = members.iter().position(|m| m == member).unwrap_or(0);
            let next = members.get(index + 1).unwrap_or(&name);
            format!("`{member}` refers to `{next}`")
        };
        let span = self.definition_span(&primary);
        let mut diagnostic = Diagnostic::new(
            Code::DefinitionCycle,
            format!("`{name}` is defined through itself: {chain}"),
            span,
            refers_to(&primary),
        )
        .with_help("break the cycle: define one of these names without referring to the others");
        // Every other member, `internal` included (its span is its statement).
        for member in members.iter().filter(|m| **m != primary) {
            let member_span = self.definition_span(member);
            diagnostic = diagnostic.with_related(member_span, refers_to(member));
        }
        self.diagnostics.push(diagnostic);
    }

    fn definition_span(&self, name: &str) -> Span {
        match self.names.get(name) {
            Some(Entry::Address(i)) => self.definitions[*i].name.span,
            Some(Entry::Service(i)) => self.service_defs[*i].name.span,
            None => self.internal_span.unwrap_or(Span::new(FileId(0), 0, 0)),
        }
    }

    /// The cleartext items of the built-in services that `items` name,
    /// following service definitions (each at most once).
    fn cleartext(&self, items: &[ServiceItem], seen: &mut Vec<String>) -> ServiceSet {
        let mut set = ServiceSet::empty();
        for item in items {
            let ServiceKind::Name(name) = &item.kind else {
                continue;
            };
            if let Some(builtin) = services::builtin(name) {
                let clear: Vec<_> = builtin.iter().copied().filter(|i| i.cleartext).collect();
                set = set.union(&services::to_set(&clear));
            } else if let Some(Entry::Service(index)) = self.names.get(name) {
                if !seen.contains(name) {
                    seen.push(name.clone());
                    set = set.union(&self.cleartext(&self.service_defs[*index].items, seen));
                }
            }
        }
        set
    }

    fn services(&mut self, items: Option<&[ServiceItem]>) -> ServiceSet {
        let Some(items) = items else {
            return service::any();
        };
        items.iter().fold(ServiceSet::empty(), |acc, item| {
            let set = self.service_item(item);
            acc.union(&set)
        })
    }

    fn service_item(&mut self, item: &ServiceItem) -> ServiceSet {
        match &item.kind {
            ServiceKind::Ports { proto, ranges } => ranges
                .iter()
                .fold(ServiceSet::empty(), |acc, &(lo, hi, _)| {
                    acc.union(&service::ports(*proto, lo, hi))
                }),
            ServiceKind::Icmp => service::icmp(),
            ServiceKind::Any => service::any(),
            ServiceKind::Name(name) => {
                if let Some(items) = services::builtin(name) {
                    return services::to_set(items);
                }
                match self.names.get(name).copied() {
                    Some(Entry::Service(_)) => {
                        *self.uses.entry(name.clone()).or_default() += 1;
                        self.service_symbol(name)
                    }
                    Some(Entry::Address(_)) => {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::UnknownName,
                                format!("`{name}` is an address set, not a service"),
                                item.span,
                                "address set used as a service",
                            )
                            .with_help("services are built-in names, `service` definitions, `tcp N`, `udp N`, `icmp` or `any`"),
                        );
                        ServiceSet::empty()
                    }
                    None => {
                        let mut diagnostic = Diagnostic::new(
                            Code::UnknownName,
                            format!("unknown service `{name}`"),
                            item.span,
                            "not defined",
                        );
                        if let Some(suggestion) = self.closest(name, true) {
                            diagnostic =
                                diagnostic.with_help(format!("did you mean `{suggestion}`?"));
                        }
                        self.diagnostics.push(diagnostic);
                        ServiceSet::empty()
                    }
                }
            }
        }
    }

    fn service_symbol(&mut self, name: &str) -> ServiceSet {
        match self.service_state.get(name) {
            Some(State::Done(set)) => return set.clone(),
            Some(State::InProgress) => {
                self.report_cycle(name.to_string());
                return ServiceSet::empty();
            }
            None => {}
        }
        self.service_state
            .insert(name.to_string(), State::InProgress);
        self.eval_stack.push(name.to_string());
        let set = match self.names.get(name).copied() {
            Some(Entry::Service(index)) => {
                let items = self.service_defs[index].items.clone();
                self.services(Some(&items))
            }
            _ => ServiceSet::empty(),
        };
        self.eval_stack.pop();
        self.service_state
            .insert(name.to_string(), State::Done(set.clone()));
        set
    }
}

fn symbol_name(symbol: &Symbol) -> String {
    match symbol {
        Symbol::Name(name) => name.clone(),
        Symbol::Internal => "internal".into(),
        Symbol::Bmcs => "bmcs".into(),
    }
}

/// Inventory entry indices by label, then value.
type LabelIndex = HashMap<String, HashMap<String, Vec<usize>>>;

fn label_index(inventory: &[InventoryEntry]) -> LabelIndex {
    let mut index = LabelIndex::new();
    for (i, entry) in inventory.iter().enumerate() {
        index
            .entry("name".to_string())
            .or_default()
            .entry(entry.name.clone())
            .or_default()
            .push(i);
        for (label, values) in &entry.labels {
            let by_value = index.entry(label.clone()).or_default();
            for value in values {
                by_value.entry(value.clone()).or_default().push(i);
            }
        }
    }
    index
}

/// The union of many entries' addresses, sorted once (folding `union` over
/// thousands of entries would copy the growing set each time).
fn union_all<'e>(entries: impl Iterator<Item = &'e InventoryEntry>) -> AddrSet {
    AddrSet::union_of(entries.map(|entry| &entry.addresses))
}

/// The built-in `internal` space (RFC 1918, CGNAT, ULA, link-local).
pub fn default_internal() -> AddrSet {
    let mut set = AddrSet::empty();
    for text in DEFAULT_INTERNAL {
        let (addr, len) = text.split_once('/').unwrap_or((text, "0"));
        let len: u8 = len.parse().unwrap_or(0);
        match addr.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => {
                if let Some((lo, hi)) = crate::addr::v4_prefix(u32::from(a), len) {
                    set.v4 = set.v4.union(&IntervalSet::interval(lo, hi));
                }
            }
            Ok(std::net::IpAddr::V6(a)) => {
                if let Some((lo, hi)) = crate::addr::v6_prefix(u128::from(a), len) {
                    set.v6 = set.v6.union(&IntervalSet::interval(lo, hi));
                }
            }
            Err(_) => {}
        }
    }
    set
}
