//! The typed syntax tree of one `.wall` file. Values are already checked
//! (addresses parse, prefixes have no host bits, ports and dates are real), names
//! are not yet resolved.

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DefKind {
    Host,
    Network,
    Group,
    Bmc,
}

impl DefKind {
    pub fn keyword(self) -> &'static str {
        match self {
            DefKind::Host => "host",
            DefKind::Network => "network",
            DefKind::Group => "group",
            DefKind::Bmc => "bmc",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Deny,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
        }
    }
}

/// A calendar date, compared as `(year, month, day)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD`, accepting only real calendar dates.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let date = Date {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        let leap = (date.year.is_multiple_of(4) && !date.year.is_multiple_of(100))
            || date.year.is_multiple_of(400);
        let days = match date.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (date.year >= 1 && (1..=days).contains(&date.day)).then_some(date)
    }

    /// The civil date of a count of days since 1970-01-01 (proleptic Gregorian).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: year as u16,
            month: month as u8,
            day: day as u8,
        }
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i64 {
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
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
}

impl InventoryFormat {
    pub const ALL: [InventoryFormat; 3] = [
        InventoryFormat::Native,
        InventoryFormat::Ansible,
        InventoryFormat::Netbox,
    ];

    /// The name written after `format`.
    pub fn name(self) -> &'static str {
        match self {
            InventoryFormat::Native => "native",
            InventoryFormat::Ansible => "ansible",
            InventoryFormat::Netbox => "netbox",
        }
    }

    pub fn parse(name: &str) -> Option<InventoryFormat> {
        Self::ALL.into_iter().find(|format| format.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    pub code: Ident,
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
    pub action: Action,
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Statement {
    Internal(AddrExpr, Span),
    Scope(AddrExpr, Span),
    Include(StrLit, Span),
    /// `inventory "path" [format NAME];`
    Inventory(StrLit, InventoryFormat, Span),
    Define(Definition),
    Service(ServiceDef),
    Rule(Rule),
    Expect(Expectation),
}

/// One parsed file: the statements that parsed, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ast {
    pub statements: Vec<Statement>,
}
