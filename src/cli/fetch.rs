//! `bmcwall inventory netbox`: every page of NetBox's `/api/dcim/devices/`
//! (with filters), fetched with a timeout per request and retries, written
//! as one export (`{"count", "next": null, "previous": null, "results"}`)
//! whose devices are in the order of their `id`, so that the same NetBox
//! gives the same file, to commit or to use in CI. The token is read from
//! an environment variable, sent only to the origin of `--url`, and never
//! printed.

use super::args::NetboxArgs;
use super::write;
use super::Exit;
use serde_json::Value;
use std::io::{Read, Write as _};
use std::time::Duration;

/// A page larger than this is refused: an export of devices is data, not a
/// stream without end.
const MAX_PAGE_BYTES: u64 = 512 * 1024 * 1024;

/// Why the export could not be fetched.
#[derive(Debug)]
pub(crate) enum FetchError {
    /// The token's variable is not set or empty.
    NoToken(String),
    /// `--url` is not an http or https URL.
    BadUrl(String),
    /// A request failed every time it was tried.
    Unreachable {
        url: String,
        tries: u32,
        error: String,
    },
    /// NetBox answered with an error status that a retry does not change.
    Status {
        url: String,
        status: u16,
        body: String,
    },
    /// The answer is not a page of devices.
    NotAPage { url: String, problem: String },
    /// `next` points somewhere the token must not go.
    ForeignNext { url: String, next: String },
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::NoToken(var) => write!(f, "the environment variable {var} holding the NetBox API token is not set"),
            FetchError::BadUrl(url) => write!(f, "`{url}` is not an http:// or https:// URL of a NetBox"),
            FetchError::Unreachable { url, tries, error } => {
                write!(f, "cannot fetch {url} ({tries} tries): {error}")
            }
            FetchError::Status { url, status, body } => {
                write!(f, "NetBox answered {url} with status {status}")?;
                if !body.is_empty() {
                    write!(f, ": {body}")?;
                }
                Ok(())
            }
            FetchError::NotAPage { url, problem } => {
                write!(f, "{url} is not a page of NetBox devices: {problem}")
            }
            FetchError::ForeignNext { url, next } => write!(
                f,
                "the page {url} points at {next} as its next page, outside {}; the token is not sent there",
                origin(url).unwrap_or_default()
            ),
        }
    }
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (end > 0).then(|| &url[..url.len() - rest.len() + end])
}

/// `%`-encodes a query component.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The URL of the first page: the filters in the order given, then the
/// page size.
pub(crate) fn first_page(base: &str, filters: &[(String, String)], limit: u32) -> String {
    let mut url = format!("{}/api/dcim/devices/?", base.trim_end_matches('/'));
    for (key, value) in filters {
        url.push_str(&format!("{}={}&", encode(key), encode(value)));
    }
    url.push_str(&format!("limit={limit}"));
    url
}

/// How pages are fetched.
pub(crate) struct Fetcher {
    agent: ureq::Agent,
    token: String,
    origin: String,
    retries: u32,
    backoff: Duration,
}

impl Fetcher {
    /// A status that may be gone on the next try: the server is busy or
    /// restarting.
    fn transient(status: u16) -> bool {
        matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
    }

    /// One page, tried up to `1 + retries` times.
    fn page(&self, url: &str) -> Result<Value, FetchError> {
        let mut last = String::new();
        let tries = self.retries + 1;
        for attempt in 0..tries {
            if attempt > 0 {
                std::thread::sleep(self.backoff * 2u32.saturating_pow(attempt - 1));
            }
            let request = self
                .agent
                .get(url)
                .set("Authorization", &format!("Token {}", self.token))
                .set("Accept", "application/json");
            match request.call() {
                Ok(response) => {
                    let mut body = String::new();
                    match response
                        .into_reader()
                        .take(MAX_PAGE_BYTES)
                        .read_to_string(&mut body)
                    {
                        Ok(_) => {
                            return serde_json::from_str(&body).map_err(|e| FetchError::NotAPage {
                                url: url.to_string(),
                                problem: format!("not JSON ({e})"),
                            })
                        }
                        Err(error) => last = error.to_string(),
                    }
                }
                Err(ureq::Error::Status(status, response)) if !Self::transient(status) => {
                    let body = response.into_string().unwrap_or_default();
                    return Err(FetchError::Status {
                        url: url.to_string(),
                        status,
                        body: error_detail(&body),
                    });
                }
                Err(ureq::Error::Status(status, _)) => last = format!("status {status}"),
                Err(ureq::Error::Transport(error)) => last = error.to_string(),
            }
        }
        Err(FetchError::Unreachable {
            url: url.to_string(),
            tries,
            error: last,
        })
    }

    /// Every device of every page, from `url` on, in the order of `id`.
    pub(crate) fn devices(&self, mut url: String) -> Result<Vec<Value>, FetchError> {
        let mut devices = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            if !seen.insert(url.clone()) {
                return Err(FetchError::NotAPage {
                    url,
                    problem: "`next` points at a page already fetched".into(),
                });
            }
            let page = self.page(&url)?;
            let Some(results) = page.get("results").and_then(Value::as_array) else {
                return Err(FetchError::NotAPage {
                    url,
                    problem: "it has no `results` array".into(),
                });
            };
            devices.extend(results.iter().cloned());
            match page.get("next") {
                Some(Value::String(next)) => {
                    if origin(next) != Some(self.origin.as_str()) {
                        return Err(FetchError::ForeignNext {
                            url,
                            next: next.clone(),
                        });
                    }
                    url = next.clone();
                }
                _ => break,
            }
        }
        devices.sort_by_key(|device| device.get("id").and_then(Value::as_u64).unwrap_or(u64::MAX));
        Ok(devices)
    }
}

/// What NetBox's error page says (`{"detail": "Invalid token."}`), or the
/// first line of the body, shortened.
fn error_detail(body: &str) -> String {
    let detail = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.lines().next().unwrap_or("").trim().to_string());
    detail.chars().take(200).collect()
}

/// The export of `devices`, as NetBox's page of all of them.
pub(crate) fn export(devices: Vec<Value>) -> String {
    let document = serde_json::json!({
        "count": devices.len(),
        "next": null,
        "previous": null,
        "results": devices,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn fetch(args: &NetboxArgs) -> Result<String, FetchError> {
    let token = std::env::var(&args.token_env)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| FetchError::NoToken(args.token_env.clone()))?;
    let origin = origin(&args.url)
        .ok_or_else(|| FetchError::BadUrl(args.url.clone()))?
        .to_string();
    let timeout = Duration::from_secs_f64(args.timeout);
    let fetcher = Fetcher {
        agent: ureq::AgentBuilder::new()
            .timeout_connect(timeout)
            .timeout(timeout)
            .redirects(0)
            .build(),
        token: token.trim().to_string(),
        origin,
        retries: args.retries,
        backoff: Duration::from_millis(500),
    };
    let devices = fetcher.devices(first_page(&args.url, &args.filter, args.page_size))?;
    Ok(export(devices))
}

/// Runs `bmcwall inventory netbox`.
pub(crate) fn run(args: NetboxArgs) -> Exit {
    let text = match fetch(&args) {
        Ok(text) => text,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "bmcwall: {error}");
            // A wrong command line is bad usage; the rest, NetBox not giving
            // the export.
            return match error {
                FetchError::BadUrl(_) => Exit::Invalid,
                _ => Exit::Refused,
            };
        }
    };
    let count = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["count"].as_u64())
        .unwrap_or(0);
    match write::output(&args.output, text.as_bytes()) {
        Ok(()) => {
            let _ = writeln!(
                std::io::stderr(),
                "bmcwall: wrote {count} devices to {}",
                args.output.display()
            );
            Exit::Success
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "bmcwall: {error}");
            Exit::Invalid
        }
    }
}
