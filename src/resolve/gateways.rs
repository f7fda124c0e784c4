//! Gateways: `gateway` declarations resolved into [`Gateway`]s (pass 1
//! checks their items, pass 2 evaluates their addresses), and each
//! gateway's own policy ([`Policy::for_gateway`]): the whole policy's
//! decision restricted to the flows that gateway governs.
//!
//! A forward gateway governs the flows with source or destination in its
//! scope; a host gateway the flows to or from its own addresses. Both are
//! "source or destination in a set", so a fleet governs together the flows
//! with source or destination in the union of those sets: the fleet's
//! `scope`, which the checks read as the single gateway's.

use super::names::Resolver;
use super::{Enforcement, Gateway, Pairing, Policy, PolicyRule, Sync};
use crate::addr::service;
use crate::addr::{restrict_box, AddrSet, IntervalSet};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::Action;
use crate::source::Span;
use crate::syntax::{GatewayDecl, GatewayItemKind};
use std::net::IpAddr;

/// The multicast groups of VRRP (RFC 5798) and of conntrackd's default
/// configuration, and conntrackd's port.
const VRRP_GROUP_V4: u32 = 0xE000_0012; // 224.0.0.18
const VRRP_GROUP_V6: u128 = 0xFF02_0000_0000_0000_0000_0000_0000_0012; // ff02::12
const CONNTRACKD_GROUP_V4: u32 = 0xE100_0032; // 225.0.0.50
const CONNTRACKD_PORT: u16 = 3780;
const VRRP_PROTOCOL: u8 = 112;

impl Resolver<'_> {
    /// Pass 1: reports a gateway's repeated items (BW011); a name declared
    /// twice is reported once (BW003) and its second declaration dropped.
    pub(super) fn collect_gateway(&mut self, decl: GatewayDecl, gateways: &mut Vec<GatewayDecl>) {
        if let Some(first) = gateways.iter().find(|g| g.name.name == decl.name.name) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateDefinition,
                    format!("gateway `{}` is declared more than once", decl.name.name),
                    decl.name.span,
                    "declared again here",
                )
                .with_related(first.name.span, "first declared here")
                .with_help("a gateway is declared once across all files; rename one of them"),
            );
            return;
        }
        let mut seen: Vec<(&'static str, Span)> = Vec::new();
        for item in &decl.items {
            let word = match item.kind {
                GatewayItemKind::Scope(_) => "scope",
                GatewayItemKind::Pair(_) => "pair",
                GatewayItemKind::Mode { .. } => "mode",
                GatewayItemKind::Sync { .. } => "sync",
            };
            if let Some(&(_, first)) = seen.iter().find(|(w, _)| *w == word) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::GatewayError,
                        format!("gateway `{}` has `{word}` twice", decl.name.name),
                        item.span,
                        format!("second `{word}`"),
                    )
                    .with_related(first, "first here")
                    .with_help(format!(
                        "a gateway has at most one `{word}`: write its values in one, separated by commas"
                    )),
                );
            } else {
                seen.push((word, item.span));
            }
        }
        gateways.push(decl);
    }

    /// Pass 2: the gateways, their addresses evaluated and pairs joined. A
    /// top-level `scope` (`scope`) with gateways is an error (BW011).
    pub(super) fn gateways(&mut self, decls: &[GatewayDecl], scope: Option<Span>) -> Vec<Gateway> {
        if let (Some(scope), Some(first)) = (scope, decls.first()) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::GatewayError,
                    "a `scope` statement together with `gateway` declarations",
                    scope,
                    "top-level `scope`",
                )
                .with_related(first.name.span, "a gateway is declared here")
                .with_help(
                    "with gateways, each says what it governs: move this scope into a \
                     gateway's braces (`gateway NAME = ADDRS { scope ...; }`)",
                ),
            );
        }
        let mut gateways: Vec<Gateway> = decls.iter().map(|decl| self.gateway(decl)).collect();
        // Pairs: a member names a gateway that exists and is no member itself.
        let names: Vec<(String, bool)> = gateways
            .iter()
            .map(|g| (g.name.clone(), g.pair.is_some()))
            .collect();
        for gateway in &mut gateways {
            if let Some(pair) = &mut gateway.pair {
                pair.index = names
                    .iter()
                    .position(|(name, member)| *name == pair.peer && !member);
            }
        }
        for index in 0..gateways.len() {
            if let Some(peer) = gateways[index].pair.as_ref().and_then(|p| p.index) {
                let (scope, enforcement) =
                    (gateways[peer].scope.clone(), gateways[peer].enforcement);
                gateways[index].scope = scope;
                gateways[index].enforcement = enforcement;
            }
        }
        gateways
    }

    fn gateway(&mut self, decl: &GatewayDecl) -> Gateway {
        let unresolved_before = self.unresolved_uses;
        let addrs = self.addrs(&decl.addrs);
        // A name that stands for nothing is reported already (BW002).
        if addrs.is_empty() && self.unresolved_uses == unresolved_before {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::GatewayError,
                    format!("gateway `{}` has no address", decl.name.name),
                    decl.addrs.span,
                    "no address",
                )
                .with_help("write the gateway's own addresses after `=`"),
            );
        }
        let mut gateway = Gateway {
            name: decl.name.name.clone(),
            name_span: decl.name.span,
            span: decl.span,
            addrs,
            scope: AddrSet::any(),
            enforcement: Enforcement::default(),
            sync: Sync::default(),
            pair: None,
            scope_item: None,
            mode_item: None,
            sync_item: None,
        };
        for item in &decl.items {
            match &item.kind {
                GatewayItemKind::Scope(expr) if gateway.scope_item.is_none() => {
                    gateway.scope = self.addrs(expr);
                    gateway.scope_item = Some(item.span);
                }
                GatewayItemKind::Pair(peer) if gateway.pair.is_none() => {
                    gateway.pair = Some(Pairing {
                        peer: peer.name.clone(),
                        span: peer.span,
                        index: None,
                    });
                }
                &GatewayItemKind::Mode { forward, host } if gateway.mode_item.is_none() => {
                    gateway.enforcement = Enforcement { forward, host };
                    gateway.mode_item = Some(item.span);
                }
                &GatewayItemKind::Sync { vrrp, conntrackd } if gateway.sync_item.is_none() => {
                    gateway.sync = Sync { vrrp, conntrackd };
                    gateway.sync_item = Some(item.span);
                }
                _ => {}
            }
        }
        gateway
    }
}

impl Policy {
    /// The gateway whose table gateway `index` has: its peer when it is a
    /// valid pair member, else itself.
    pub fn target_of(&self, index: usize) -> usize {
        self.gateways[index]
            .pair
            .as_ref()
            .and_then(|p| p.index)
            .unwrap_or(index)
    }

    /// The gateways with the table of target `target`: it and its members.
    pub fn members_of(&self, target: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.gateways.len()).filter(move |&i| self.target_of(i) == target)
    }

    /// The index of the gateway named `name`.
    pub fn gateway_named(&self, name: &str) -> Option<usize> {
        self.gateways.iter().position(|g| g.name == name)
    }

    /// The addresses whose flows (with source or destination among them)
    /// the table of gateway `index` governs: its scope in `mode forward`,
    /// and the addresses of its pair's members in `mode host`.
    pub fn governed_by(&self, index: usize) -> AddrSet {
        let target = self.target_of(index);
        let gateway = &self.gateways[target];
        let mut governed = AddrSet::empty();
        if gateway.enforcement.forward {
            governed = governed.union(&gateway.scope);
        }
        if gateway.enforcement.host {
            for member in self.members_of(target) {
                governed = governed.union(&self.gateways[member].addrs);
            }
        }
        governed
    }

    /// The gateways whose table governs the flow from `src` to `dst`: the
    /// gateways it crosses, as far as the policy says.
    pub fn gateways_on(&self, src: IpAddr, dst: IpAddr) -> Vec<usize> {
        let holds = |set: &AddrSet, ip: IpAddr| match ip {
            IpAddr::V4(a) => set.v4.contains(u32::from(a)),
            IpAddr::V6(a) => set.v6.contains(u128::from(a)),
        };
        (0..self.gateways.len())
            .filter(|&index| {
                let governed = self.governed_by(index);
                holds(&governed, src) || holds(&governed, dst)
            })
            .collect()
    }

    /// What the fleet governs together: flows with source or destination
    /// in the union of what each gateway governs.
    pub fn fleet_scope(&self) -> AddrSet {
        (0..self.gateways.len()).fold(AddrSet::empty(), |all, i| all.union(&self.governed_by(i)))
    }

    /// The policy of gateway `index`'s table: scope what it governs, mode
    /// its mode, every rule restricted to the flows it governs (so that the
    /// table holds only what can match them; a rule with none matches
    /// nothing), no expectations; with `mode host` and `sync`, first the
    /// rules that allow its pair's state sync. For every flow it governs it
    /// decides as the whole policy does.
    pub fn for_gateway(&self, index: usize) -> Policy {
        let target = self.target_of(index);
        let gateway = &self.gateways[target];
        let governed = self.governed_by(index);
        let mut rules = Vec::new();
        if gateway.enforcement.host {
            rules.extend(self.sync_rules(target));
        }
        rules.extend(self.rules.iter().map(|rule| {
            let mut rule = rule.clone();
            restrict_box(&mut rule.src.v4, &mut rule.dst.v4, &governed.v4);
            restrict_box(&mut rule.src.v6, &mut rule.dst.v6, &governed.v6);
            rule
        }));
        Policy {
            internal: self.internal.clone(),
            scope: governed,
            bmcs: self.bmcs.clone(),
            rules,
            expectations: Vec::new(),
            definitions: self.definitions.clone(),
            inventory: Vec::new(),
            inventories: self.inventories.clone(),
            unresolved_core: self.unresolved_core,
            gateways: vec![self.gateways[target].clone()],
            enforcement: gateway.enforcement,
            // What is unknown on the watched networks is the fleet's: the
            // other gateways are known devices too.
            watch: self.unknown_watched(),
            watches: Vec::new(),
        }
    }

    /// The rules that allow the state sync of target `target`'s pair: VRRP
    /// and conntrackd between its members' addresses (and to their
    /// multicast groups), nothing wider.
    fn sync_rules(&self, target: usize) -> Vec<PolicyRule> {
        let gateway = &self.gateways[target];
        let members: Vec<&Gateway> = self.members_of(target).map(|i| &self.gateways[i]).collect();
        let Some(span) = members.iter().find_map(|m| m.sync_item) else {
            return Vec::new();
        };
        let sync = members.iter().fold(Sync::default(), |all, m| Sync {
            vrrp: all.vrrp || m.sync.vrrp,
            conntrackd: all.conntrackd || m.sync.conntrackd,
        });
        let addrs = members
            .iter()
            .fold(AddrSet::empty(), |all, m| all.union(&m.addrs));
        let group = |v4: Option<u32>, v6: Option<u128>| AddrSet {
            v4: v4.map_or_else(IntervalSet::default, |a| IntervalSet::interval(a, a)),
            v6: v6.map_or_else(IntervalSet::default, |a| IntervalSet::interval(a, a)),
        };
        let mut rules = Vec::new();
        let mut add = |what: &str, dst: AddrSet, services| {
            rules.push(PolicyRule {
                unresolved: false,
                action: Action::Allow,
                src: addrs.clone(),
                dst: addrs.union(&dst),
                services,
                cleartext: Vec::new(),
                log: false,
                until: None,
                expired: false,
                description: Some(format!("state sync of {} ({what})", gateway.name)),
                waivers: Vec::new(),
                span,
                src_span: span,
                dst_span: span,
                services_span: None,
            })
        };
        if sync.vrrp {
            add(
                "vrrp",
                group(Some(VRRP_GROUP_V4), Some(VRRP_GROUP_V6)),
                service::protocol(VRRP_PROTOCOL),
            );
        }
        if sync.conntrackd {
            add(
                "conntrackd",
                group(Some(CONNTRACKD_GROUP_V4), None),
                service::ports(service::UDP, CONNTRACKD_PORT, CONNTRACKD_PORT),
            );
        }
        rules
    }
}
