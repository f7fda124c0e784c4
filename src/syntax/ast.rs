//! The typed syntax tree of one `.wall` file. Values are already checked
//! (addresses parse, prefixes have no host bits, ports and dates are real), names
//! are not yet resolved.

use crate::model::{Action, Date, DefKind, ExpectKind};
use crate::source::Span;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// A literal address set term: one interval in one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetLiteral {
    V4 { lo: u32, hi: u32 },
    V6 { lo: u128, hi: u128 },
}

impl NetLiteral {
    /// True for a single address (`10.0.0.1`, or a `/32` or `/128`).
    pub fn is_single(&self) -> bool {
        match *self {
            NetLiteral::V4 { lo, hi } => lo == hi,
            NetLiteral::V6 { lo, hi } => lo == hi,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub label: Ident,
    pub negated: bool,
    pub value: StrLit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TermKind {
    Net(NetLiteral),
    Name(String),
    Any,
    Internet,
    Internal,
    Bmcs,
    Selector(Vec<Condition>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub kind: TermKind,
    pub span: Span,
}

/// `TERM, TERM except TERM, TERM`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrExpr {
    pub include: Vec<Term>,
    pub except: Vec<Term>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// TCP or UDP with port ranges; the span of each range is kept.
    Ports {
        proto: u8,
        ranges: Vec<(u16, u16, Span)>,
    },
    Icmp,
    Any,
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceItem {
    pub kind: ServiceKind,
    pub span: Span,
}

/// `inventory "path" [format NAME] [address KEY] [resolve];`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventorySpec {
    pub path: StrLit,
    /// `None`: the format is detected from the file.
    pub format: Option<InventoryFormat>,
    /// The variable or field (a dotted path) that holds each BMC's address.
    pub address: Option<Ident>,
    /// Host names are resolved to addresses at compile time.
    pub resolve: bool,
}

/// The format of an inventory file, named by `format NAME` after its path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum InventoryFormat {
    /// bmcwall's own YAML: a `bmcs` list of entries.
    #[default]
    Native,
    /// The YAML form of an Ansible inventory.
    Ansible,
    /// A NetBox devices export (`GET /api/dcim/devices/`), JSON.
    Netbox,
    /// A CSV file with a header row.
    Csv,
    /// metal3 `BareMetalHost` manifests, multi-document YAML.
    Metal3,
    /// An OpenShift `install-config.yaml` (`platform.baremetal.hosts`).
    Openshift,
    /// Ironic or Bifrost node files (`driver_info`).
    Ironic,
    /// A TripleO `instackenv.json` (`nodes[].pm_addr`).
    Tripleo,
    /// A Warewulf `nodes.conf` (`ipmi.ipaddr`).
    Warewulf,
}

impl InventoryFormat {
    pub const ALL: [InventoryFormat; 9] = [
        InventoryFormat::Native,
        InventoryFormat::Ansible,
        InventoryFormat::Netbox,
        InventoryFormat::Csv,
        InventoryFormat::Metal3,
        InventoryFormat::Openshift,
        InventoryFormat::Ironic,
        InventoryFormat::Tripleo,
        InventoryFormat::Warewulf,
    ];

    /// The name written after `format`.
    pub fn name(self) -> &'static str {
        match self {
            InventoryFormat::Native => "native",
            InventoryFormat::Ansible => "ansible",
            InventoryFormat::Netbox => "netbox",
            InventoryFormat::Csv => "csv",
            InventoryFormat::Metal3 => "metal3",
            InventoryFormat::Openshift => "openshift",
            InventoryFormat::Ironic => "ironic",
            InventoryFormat::Tripleo => "tripleo",
            InventoryFormat::Warewulf => "warewulf",
        }
    }

    pub fn parse(name: &str) -> Option<InventoryFormat> {
        Self::ALL.into_iter().find(|format| format.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    pub code: Ident,
    /// `waive BW206(vnc, http)`: the services named; empty when none are.
    pub services: Vec<Ident>,
    pub reason: StrLit,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub src: AddrExpr,
    pub dst: AddrExpr,
    /// `None` when the rule has no `: SERVICES` (every protocol).
    pub services: Option<Vec<ServiceItem>>,
    pub log: bool,
    pub until: Option<(Date, Span)>,
    pub waivers: Vec<Waiver>,
    pub description: Option<StrLit>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub kind: ExpectKind,
    pub src: AddrExpr,
    pub dst: AddrExpr,
    pub services: Option<Vec<ServiceItem>>,
    pub description: Option<StrLit>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub kind: DefKind,
    pub name: Ident,
    pub value: AddrExpr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDef {
    pub name: Ident,
    pub items: Vec<ServiceItem>,
    pub span: Span,
}

/// `gateway NAME = ADDRS;` or `gateway NAME = ADDRS { ITEM; ... }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayDecl {
    pub name: Ident,
    /// The gateway's own addresses.
    pub addrs: AddrExpr,
    pub items: Vec<GatewayItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayItem {
    pub kind: GatewayItemKind,
    pub span: Span,
}

/// One item in a gateway's braces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayItemKind {
    /// `scope ADDRS;`: the flows with source or destination here.
    Scope(AddrExpr),
    /// `pair NAME;`: an HA peer of gateway NAME, with its table.
    Pair(Ident),
    /// `mode forward;`, `mode host;` or `mode forward, host;`.
    Mode { forward: bool, host: bool },
    /// `sync vrrp;`, `sync conntrackd;` or both.
    Sync { vrrp: bool, conntrackd: bool },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Statement {
    Internal(AddrExpr, Span),
    Scope(AddrExpr, Span),
    /// `watch ADDRS;`: management networks whose unknown devices are recorded.
    Watch(AddrExpr, Span),
    Include(StrLit, Span),
    /// `inventory "path" [format NAME] [address KEY] [resolve];`
    Inventory(InventorySpec, Span),
    Define(Definition),
    Service(ServiceDef),
    Rule(Rule),
    Expect(Expectation),
    Gateway(GatewayDecl),
}

/// One parsed file: the statements that parsed, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ast {
    pub statements: Vec<Statement>,
}
