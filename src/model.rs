//! The vocabulary every stage shares about a policy: what a rule does, what kind
//! of name a definition makes, and the calendar dates `until` compares. It sits
//! under the syntax tree, the resolved policy, the analysis and the output, so
//! none of them has to import another stage for it.

/// The longest name a definition may have, in bytes (names are ASCII). The
/// nftables sets of the rules layout are named after definitions with a
/// suffix of at most seven characters (`_protos`), and nft takes 255.
pub const NAME_MAX: usize = 240;

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

/// What an `expect` statement asserts about the flows it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpectKind {
    /// Every flow is allowed.
    Allow,
    /// No flow is allowed.
    Deny,
    /// No flow is allowed, and no path through hosts the source reaches
    /// leads to the destination.
    Unreachable,
}

impl ExpectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectKind::Allow => "allow",
            ExpectKind::Deny => "deny",
            ExpectKind::Unreachable => "unreachable",
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

    /// The first second of the day (UTC), since 1970-01-01.
    pub fn start_second(self) -> i64 {
        self.days_since_epoch() * 86_400
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

/// A time as RFC 3339 in UTC, `2026-12-04T20:31:05Z`, of seconds since 1970.
pub fn utc_text(seconds: i64) -> String {
    let date = Date::from_days_since_epoch(seconds.div_euclid(86_400));
    let second = seconds.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        second / 3600,
        second / 60 % 60,
        second % 60
    )
}

/// Seconds since 1970 of `YYYY-MM-DD` and `HH:MM:SS` joined by `separator`,
/// a time of day in UTC: `utc_seconds("2026-12-04T20:31:05", 'T')`.
pub fn utc_seconds(text: &str, separator: char) -> Option<i64> {
    let (date, time) = text.split_once(separator)?;
    let date = Date::parse(date)?;
    let mut parts = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    let valid = parts.next().is_none() && h < 24 && m < 60 && s < 60;
    valid.then(|| date.start_second() + h * 3600 + m * 60 + s)
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}
