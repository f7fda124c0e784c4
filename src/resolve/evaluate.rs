//! Pass 2: every rule, expectation and definition to address and service
//! sets, each name evaluated once (memoised as `State::{InProgress, Done}`;
//! meeting `InProgress` is a cycle, BW007).

use super::names::{symbol_name, Collected, Entry, Resolver, State, Symbol};
use super::selectors::union_all;
use super::{default_internal, services};
use super::{NamedKind, NamedSet, Policy, PolicyExpectation, PolicyRule, Waiver};
use crate::addr::service::{self, ServiceSet};
use crate::addr::{AddrSet, IntervalSet};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::DefKind;
use crate::source::Span;
use crate::syntax::{
    self, AddrExpr, Definition, NetLiteral, ServiceItem, ServiceKind, Term, TermKind,
};
use std::collections::HashSet;

impl Resolver<'_> {
    /// Pass 2: evaluates everything pass 1 collected into the policy.
    pub(super) fn evaluate(mut self, collected: Collected) -> Policy {
        let Collected {
            scope,
            scope_span,
            gateways,
            watch,
            rules,
            expectations,
        } = collected;
        let unresolved_before = self.unresolved_uses;
        let internal = self.symbol(&Symbol::Internal);
        let bmcs = self.symbol(&Symbol::Bmcs);
        let gateways = self.gateways(&gateways, scope_span);
        let mut scope = match &scope {
            Some(expr) => self.addrs(expr),
            None => AddrSet::any(),
        };
        let unresolved_core = self.unresolved_uses > unresolved_before;
        let watches: Vec<(AddrSet, Span)> = watch
            .iter()
            .map(|(expr, span)| (self.addrs(expr), *span))
            .collect();
        let watched = AddrSet::union_of(watches.iter().map(|(set, _)| set));
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
            .map(|e| {
                let unresolved_before = self.unresolved_uses;
                let (src, dst) = (self.addrs(&e.src), self.addrs(&e.dst));
                let services = self.services(e.services.as_deref());
                PolicyExpectation {
                    kind: e.kind,
                    src,
                    dst,
                    services,
                    description: e.description.as_ref().map(|d| d.value.clone()),
                    span: e.span,
                    unresolved: self.unresolved_uses > unresolved_before,
                }
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
        let mut policy = Policy {
            internal,
            scope: AddrSet::empty(),
            bmcs,
            rules,
            expectations,
            definitions,
            inventory: self.inventory,
            inventories: self.inventories,
            unresolved_core,
            gateways,
            enforcement: Default::default(),
            watch: watched,
            watches,
        };
        if !policy.gateways.is_empty() {
            scope = policy.fleet_scope();
        }
        policy.scope = scope;
        policy
    }

    pub(super) fn rule(&mut self, rule: &syntax::Rule) -> PolicyRule {
        let unresolved_before = self.unresolved_uses;
        let src = self.addrs(&rule.src);
        let dst = self.addrs(&rule.dst);
        let services = self.services(rule.services.as_deref());
        let mut cleartext = Vec::new();
        self.cleartext(
            rule.services.as_deref().unwrap_or_default(),
            &mut HashSet::new(),
            &mut cleartext,
        );
        let waivers = rule
            .waivers
            .iter()
            .filter_map(|w| {
                for service in &w.services {
                    self.check_waived_service(service);
                }
                Some(Waiver {
                    code: Code::parse(&w.code.name)?,
                    services: w.services.iter().map(|s| s.name.clone()).collect(),
                    reason: w.reason.value.clone(),
                    span: w.span,
                })
            })
            .collect();
        let unresolved = self.unresolved_uses > unresolved_before;
        PolicyRule {
            unresolved,
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

    pub(super) fn addrs(&mut self, expr: &AddrExpr) -> AddrSet {
        let include = self.terms(&expr.include);
        if expr.except.is_empty() {
            include
        } else {
            include.difference(&self.terms(&expr.except))
        }
    }

    pub(super) fn terms(&mut self, terms: &[Term]) -> AddrSet {
        let sets: Vec<AddrSet> = terms.iter().map(|term| self.term(term)).collect();
        AddrSet::union_of(&sets)
    }

    pub(super) fn term(&mut self, term: &Term) -> AddrSet {
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
            TermKind::Selector(conditions) => {
                self.selection
                    .select(&self.inventory, conditions, term.span, self.diagnostics)
            }
            TermKind::Name(name) => match self.names.get(name).copied() {
                Some(Entry::Address(_)) => {
                    *self.uses.entry(name.clone()).or_default() += 1;
                    self.symbol(&Symbol::Name(name.clone()))
                }
                Some(Entry::Service(_)) => {
                    self.unresolved_name(
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
                        diagnostic = diagnostic.with_suggestion(suggestion);
                    }
                    self.unresolved_name(diagnostic);
                    AddrSet::empty()
                }
            },
        }
    }

    /// The value of a symbol, computed once. A symbol that depends on itself is
    /// reported (BW007) and counts as empty.
    ///
    /// The definitions a symbol depends on are evaluated first, depth first
    /// on an explicit stack rather than by recursion, so a chain of any
    /// length (or a long cycle) costs heap, never the thread's stack: when a
    /// symbol's value is computed, every symbol it names is done or, on a
    /// cycle, in progress.
    pub(super) fn symbol(&mut self, symbol: &Symbol) -> AddrSet {
        if !self.addr_state.contains_key(symbol) {
            self.evaluate_from(symbol);
        }
        match self.addr_state.get(symbol) {
            Some(State::Done(set)) => {
                if self.unresolved.contains(symbol) {
                    self.unresolved_uses += 1;
                }
                set.clone()
            }
            _ => {
                self.report_cycle(symbol_name(symbol));
                AddrSet::empty()
            }
        }
    }

    /// Evaluates `root` and everything it depends on that is not yet
    /// evaluated, dependencies first. On the stack, each symbol in progress
    /// with the dependencies it has still to visit; `eval_stack` holds the
    /// same symbols' names, as a recursive evaluation would.
    fn evaluate_from(&mut self, root: &Symbol) {
        let mut stack = vec![self.enter(root.clone())];
        while let Some((_, pending)) = stack.last_mut() {
            if let Some(next) = pending.pop() {
                if !self.addr_state.contains_key(&next) {
                    stack.push(self.enter(next));
                }
                continue;
            }
            if let Some((symbol, _)) = stack.pop() {
                self.finish(&symbol);
            }
        }
    }

    /// Marks `symbol` in progress; returns it with the symbols its value
    /// names, last to be visited first.
    fn enter(&mut self, symbol: Symbol) -> (Symbol, Vec<Symbol>) {
        self.addr_state.insert(symbol.clone(), State::InProgress);
        self.eval_stack.push(symbol_name(&symbol));
        let mut depends = self.depends_on(&symbol);
        depends.reverse();
        (symbol, depends)
    }

    /// The symbols `symbol`'s value names, in the order evaluation meets them.
    fn depends_on(&self, symbol: &Symbol) -> Vec<Symbol> {
        let of_expr = |expr: &AddrExpr, out: &mut Vec<Symbol>| {
            for term in expr.include.iter().chain(&expr.except) {
                match &term.kind {
                    TermKind::Internal | TermKind::Internet => out.push(Symbol::Internal),
                    TermKind::Bmcs => out.push(Symbol::Bmcs),
                    TermKind::Name(name) => {
                        if let Some(Entry::Address(_)) = self.names.get(name) {
                            out.push(Symbol::Name(name.clone()));
                        }
                    }
                    TermKind::Net(_) | TermKind::Any | TermKind::Selector(_) => {}
                }
            }
        };
        let mut out = Vec::new();
        match symbol {
            Symbol::Internal => {
                if let Some(expr) = &self.internal_expr {
                    of_expr(expr, &mut out);
                }
            }
            Symbol::Bmcs => out.extend(
                self.definitions
                    .iter()
                    .filter(|d| d.kind == DefKind::Bmc)
                    .map(|d| Symbol::Name(d.name.name.clone())),
            ),
            Symbol::Name(name) => {
                if let Some(Entry::Address(index)) = self.names.get(name) {
                    of_expr(&self.definitions[*index].value, &mut out);
                }
            }
        }
        out
    }

    /// Computes the value of `symbol`, in progress on top of `eval_stack`,
    /// whose dependencies are done (or in progress, on a cycle).
    fn finish(&mut self, symbol: &Symbol) {
        let unresolved_before = self.unresolved_uses;
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
        if self.unresolved_uses > unresolved_before {
            self.unresolved.insert(symbol.clone());
        }
        self.addr_state.insert(symbol.clone(), State::Done(set));
    }

    pub(super) fn check_host(&mut self, definition: &Definition) {
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

    /// Adds to `out` the cleartext items of the built-in services that
    /// `items` name, following service definitions (each at most once): one
    /// entry per built-in service with cleartext items, in the order first
    /// named. Definitions are followed on an explicit stack, so a chain of
    /// any length never deepens the thread's stack.
    pub(super) fn cleartext(
        &self,
        items: &[ServiceItem],
        seen: &mut HashSet<String>,
        out: &mut Vec<(String, ServiceSet)>,
    ) {
        let mut stack = vec![items.iter()];
        while let Some(pending) = stack.last_mut() {
            let Some(item) = pending.next() else {
                stack.pop();
                continue;
            };
            let ServiceKind::Name(name) = &item.kind else {
                continue;
            };
            if let Some(builtin) = services::builtin(name) {
                let clear: Vec<_> = builtin.iter().copied().filter(|i| i.cleartext).collect();
                if !clear.is_empty() && !out.iter().any(|(known, _)| known == name) {
                    out.push((name.clone(), services::to_set(&clear)));
                }
            } else if let Some(Entry::Service(index)) = self.names.get(name) {
                if seen.insert(name.clone()) {
                    stack.push(self.service_defs[*index].items.iter());
                }
            }
        }
    }

    /// A service a waiver names must be a built-in service, as the
    /// findings it waives name them (BW002 otherwise).
    fn check_waived_service(&mut self, service: &syntax::Ident) {
        let name = &service.name;
        if services::builtin(name).is_some() {
            return;
        }
        let mut diagnostic = Diagnostic::new(
            Code::UnknownName,
            format!("`{name}` is not a built-in service"),
            service.span,
            "not a built-in service",
        );
        let builtins = services::BUILTIN.iter().map(|(name, _)| *name);
        diagnostic.help = Some(match crate::diagnostic::closest(name, builtins) {
            Some(suggestion) => format!("did you mean `{suggestion}`?"),
            None => "a waiver names the built-in services its findings list (`vnc`, `http`, \
                     `idrac`, ...)"
                .into(),
        });
        self.diagnostics.push(diagnostic);
    }

    pub(super) fn services(&mut self, items: Option<&[ServiceItem]>) -> ServiceSet {
        let Some(items) = items else {
            return service::any();
        };
        items.iter().fold(ServiceSet::empty(), |acc, item| {
            let set = self.service_item(item);
            acc.union(&set)
        })
    }

    pub(super) fn service_item(&mut self, item: &ServiceItem) -> ServiceSet {
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
                        self.unresolved_name(
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
                            diagnostic = diagnostic.with_suggestion(suggestion);
                        }
                        self.unresolved_name(diagnostic);
                        ServiceSet::empty()
                    }
                }
            }
        }
    }

    /// The value of a service definition, computed once, as [`Self::symbol`]
    /// computes an address set's: dependencies first, on an explicit stack.
    pub(super) fn service_symbol(&mut self, name: &str) -> ServiceSet {
        if !self.service_state.contains_key(name) {
            self.evaluate_service_from(name);
        }
        match self.service_state.get(name) {
            Some(State::Done(set)) => {
                if self.unresolved_services.contains(name) {
                    self.unresolved_uses += 1;
                }
                set.clone()
            }
            _ => {
                self.report_cycle(name.to_string());
                ServiceSet::empty()
            }
        }
    }

    /// Evaluates the service definition `root` and the ones it names that are
    /// not yet evaluated, dependencies first.
    fn evaluate_service_from(&mut self, root: &str) {
        let mut stack = vec![self.enter_service(root.to_string())];
        while let Some((_, pending)) = stack.last_mut() {
            if let Some(next) = pending.pop() {
                if !self.service_state.contains_key(&next) {
                    stack.push(self.enter_service(next));
                }
                continue;
            }
            if let Some((name, _)) = stack.pop() {
                self.finish_service(&name);
            }
        }
    }

    /// Marks the service definition `name` in progress; returns it with the
    /// service definitions it names, last to be visited first.
    fn enter_service(&mut self, name: String) -> (String, Vec<String>) {
        self.service_state.insert(name.clone(), State::InProgress);
        self.eval_stack.push(name.clone());
        let mut depends: Vec<String> = match self.names.get(&name) {
            Some(Entry::Service(index)) => self.service_defs[*index]
                .items
                .iter()
                .filter_map(|item| match &item.kind {
                    ServiceKind::Name(named)
                        if services::builtin(named).is_none()
                            && matches!(self.names.get(named), Some(Entry::Service(_))) =>
                    {
                        Some(named.clone())
                    }
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        depends.reverse();
        (name, depends)
    }

    /// Computes the service definition `name`, in progress on top of
    /// `eval_stack`.
    fn finish_service(&mut self, name: &str) {
        let unresolved_before = self.unresolved_uses;
        let set = match self.names.get(name).copied() {
            Some(Entry::Service(index)) => {
                let items = self.service_defs[index].items.clone();
                self.services(Some(&items))
            }
            _ => ServiceSet::empty(),
        };
        self.eval_stack.pop();
        if self.unresolved_uses > unresolved_before {
            self.unresolved_services.insert(name.to_string());
        }
        self.service_state
            .insert(name.to_string(), State::Done(set));
    }

    /// Reports a name that stands for nothing here (BW002): it counts as
    /// empty, and the statements that use it are marked unresolved.
    fn unresolved_name(&mut self, diagnostic: Diagnostic) {
        self.unresolved_uses += 1;
        self.diagnostics.push(diagnostic);
    }
}
