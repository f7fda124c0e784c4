//! Names: pass 1 collects definitions into one namespace for addresses and
//! services (BW003), `internal`, `scope`, and the inventories; pass 2
//! evaluates the policy (`evaluate.rs`). Cycles (BW007) and "did you mean"
//! for unknown names (BW002) are reported from here.

use super::ahead::Ahead;
use super::cache::{Across, Placed};
use super::files::error_text;
use super::includes::Located;
use super::inventory::Request;
use super::selectors::Selection;
use super::{inventory, services, Cache, Options};
use super::{InventoryEntry, InventorySummary, Policy};
use crate::addr::service::ServiceSet;
use crate::addr::AddrSet;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{normalize, FileId, SourceMap, Span};
use crate::syntax::{
    AddrExpr, Definition, Expectation, GatewayDecl, Ident, InventorySpec, Rule, ServiceDef,
    Statement,
};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// How many members of a definition cycle its BW007 names and labels.
const MAX_CYCLE_SHOWN: usize = 8;

/// What a name in the single namespace stands for.
#[derive(Clone, Copy, Debug)]
pub(super) enum Entry {
    Address(usize),
    Service(usize),
}

/// Something whose value is computed once, with cycle detection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Symbol {
    Name(String),
    Internal,
    Bmcs,
}

/// What pass 1 hands to pass 2 besides the namespace.
pub(super) struct Collected {
    pub scope: Option<AddrExpr>,
    /// Where the top-level `scope` is.
    pub scope_span: Option<Span>,
    pub gateways: Vec<GatewayDecl>,
    /// The `watch` statements' addresses and spans, in order.
    pub watch: Vec<(AddrExpr, Span)>,
    pub rules: Vec<Rule>,
    pub expectations: Vec<Expectation>,
}

pub(super) enum State<T> {
    InProgress,
    Done(T),
}

pub(super) struct Resolver<'a> {
    pub(super) sources: &'a mut SourceMap,
    pub(super) diagnostics: &'a mut Vec<Diagnostic>,
    pub(super) options: &'a Options,
    pub(super) definitions: Vec<Definition>,
    pub(super) service_defs: Vec<ServiceDef>,
    pub(super) names: HashMap<String, Entry>,
    pub(super) internal_expr: Option<AddrExpr>,
    pub(super) internal_span: Option<Span>,
    pub(super) inventory: Vec<InventoryEntry>,
    pub(super) inventories: Vec<InventorySummary>,
    /// The inventory's selectors, which index it on the first one.
    pub(super) selection: Selection,
    pub(super) addr_state: HashMap<Symbol, State<AddrSet>>,
    pub(super) service_state: HashMap<String, State<ServiceSet>>,
    /// Definitions being evaluated, innermost last, for cycle messages.
    pub(super) eval_stack: Vec<String>,
    pub(super) reported_cycles: HashSet<Vec<String>>,
    pub(super) uses: HashMap<String, usize>,
    /// How many uses of an undefined or misplaced name (BW002, counted as
    /// empty) evaluation has met, directly or through a definition: what
    /// tells a statement that depends on one.
    pub(super) unresolved_uses: usize,
    /// The symbols and services whose value depends on such a name.
    pub(super) unresolved: HashSet<Symbol>,
    pub(super) unresolved_services: HashSet<String>,
    /// Where each inventory's files were placed, while every inventory so
    /// far is one a cache keeps (`None` after one that is not).
    pub(super) placed: Option<Vec<Placed>>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(
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
            inventories: Vec::new(),
            selection: Selection::default(),
            addr_state: HashMap::new(),
            service_state: HashMap::new(),
            eval_stack: Vec::new(),
            reported_cycles: HashSet::new(),
            uses: HashMap::new(),
            unresolved_uses: 0,
            unresolved: HashSet::new(),
            unresolved_services: HashSet::new(),
            placed: Some(Vec::new()),
        }
    }

    /// Resolves the statements of a policy, its includes spliced in.
    pub(super) fn resolve(mut self, statements: Vec<Located>, ahead: &mut Ahead) -> Policy {
        let collected = self.collect(statements, ahead);
        self.evaluate(collected)
    }

    /// Pass 1: collects definitions and takes the inventories read ahead.
    fn collect(&mut self, statements: Vec<Located>, ahead: &mut Ahead) -> Collected {
        let mut scope_expr: Option<(AddrExpr, Span)> = None;
        let mut internal_span: Option<Span> = None;
        let mut rules = Vec::new();
        let mut expectations = Vec::new();
        let mut gateways = Vec::new();
        let mut watch = Vec::new();
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
                Statement::Watch(expr, span) => watch.push((expr, span)),
                Statement::Inventory(spec, _) => {
                    self.inventory(&dir.join(&spec.path.value), &spec, ahead)
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
                Statement::Gateway(decl) => self.collect_gateway(decl, &mut gateways),
                Statement::Include(..) => {}
            }
        }
        self.check_across(ahead.cache());

        Collected {
            scope_span: scope_expr.as_ref().map(|&(_, span)| span),
            scope: scope_expr.map(|(expr, _)| expr),
            gateways,
            watch,
            rules,
            expectations,
        }
    }

    /// Registers a name; reports and returns false when it is taken.
    pub(super) fn declare(&mut self, name: &Ident) -> bool {
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

    /// The checks across every inventory (names and addresses used twice,
    /// look-alike text), and the selectors' index: what `cache` kept for
    /// the same inventories placed in the same files, or found now (and
    /// kept).
    fn check_across(&mut self, cache: Option<&Cache>) {
        let placed = cache.zip(self.placed.take());
        if let Some(kept) = placed.as_ref().and_then(|(c, placed)| c.across(placed)) {
            self.diagnostics.extend(kept.diagnostics);
            self.selection = Selection::sharing(kept.index);
            return;
        }
        let mut found = Vec::new();
        inventory::check_unique(&self.inventory, &mut found);
        inventory::check_confusable(&self.inventory, &mut found);
        self.diagnostics.extend(found.iter().cloned());
        if let Some((cache, placed)) = placed {
            let across = Across {
                diagnostics: found,
                index: self.selection.index(),
            };
            cache.keep_across(placed, across);
        }
    }

    /// Adds the inventory at `full` (`path` as written) to the source map and
    /// its entries to the inventory.
    pub(super) fn inventory(&mut self, full: &Path, spec: &InventorySpec, ahead: &mut Ahead) {
        let path = &spec.path;
        match ahead.take(full, &Request::of(spec)) {
            Ok(parsed) => {
                let kept = parsed.kept;
                let first = self.sources.files().count();
                let (entries, summary, empty) = parsed.place(self.sources, self.diagnostics);
                let files = self.sources.files().count() - first;
                match (kept, &mut self.placed) {
                    (Some(kept), Some(placed)) => placed.push((kept, first as u32, files as u32)),
                    _ => self.placed = None,
                }
                if let Some(empty) = empty {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::EmptyInventory,
                            empty.message,
                            path.span,
                            format!("no BMC in {}", summary.path.display()),
                        )
                        .with_help(empty.help),
                    );
                }
                self.inventory.extend(entries);
                self.inventories.push(summary);
            }
            Err(error) => {
                self.placed = None;
                self.diagnostics.push(
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
                )
            }
        }
    }

    /// The closest defined name of the right kind, for "did you mean".
    pub(super) fn closest(&self, name: &str, want_service: bool) -> Option<String> {
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

    pub(super) fn report_cycle(&mut self, name: String) {
        let Some(start) = self.eval_stack.iter().position(|n| *n == name) else {
            return;
        };
        let members: Vec<String> = self.eval_stack[start..].to_vec();
        let mut key = members.clone();
        key.sort();
        if !self.reported_cycles.insert(key) {
            return;
        }
        // A long cycle is named by its first members and the name it comes
        // back to, and labelled at those members: its message and labels stay
        // a few lines however long it is.
        let shown = members.len().min(MAX_CYCLE_SHOWN);
        let mut chain: Vec<String> = members[..shown].iter().map(|n| format!("`{n}`")).collect();
        if members.len() > shown {
            chain.push(format!("... ({} more)", members.len() - shown));
        }
        chain.push(format!("`{name}`"));
        let chain = chain.join(" -> ");
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
        // Every other member shown, `internal` included (its span is its
        // statement).
        for member in members[..shown].iter().filter(|m| **m != primary) {
            let member_span = self.definition_span(member);
            diagnostic = diagnostic.with_related(member_span, refers_to(member));
        }
        self.diagnostics.push(diagnostic);
    }

    pub(super) fn definition_span(&self, name: &str) -> Span {
        match self.names.get(name) {
            Some(Entry::Address(i)) => self.definitions[*i].name.span,
            Some(Entry::Service(i)) => self.service_defs[*i].name.span,
            None => self.internal_span.unwrap_or(Span::new(FileId(0), 0, 0)),
        }
    }
}

pub(super) fn symbol_name(symbol: &Symbol) -> String {
    match symbol {
        Symbol::Name(name) => name.clone(),
        Symbol::Internal => "internal".into(),
        Symbol::Bmcs => "bmcs".into(),
    }
}
