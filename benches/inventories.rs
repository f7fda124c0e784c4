//! Criterion benchmarks of reading inventories: 10,000 BMCs as bmcwall's
//! own YAML, as an Ansible INI inventory and as a NetBox devices export
//! (every page's devices in one `results`, each device as NetBox 4 writes it,
//! nested objects and all). Each is read by `resolve::load` of a policy that
//! loads it and selects from it, so the figures are what `check` spends on
//! the inventory. docs/performance.md has the figures.
//!
//! ```sh
//! cargo bench --bench inventories
//! BMCWALL_BENCH_HOSTS=1000 cargo bench --bench inventories -- netbox
//! ```
//!
//! `BMCWALL_BENCH_HOSTS` (default 10000) is how many BMCs each holds.
//!
//! The bench runs with the binary's allocator (mimalloc, `src/main.rs`), so
//! the figures are what `bmcwall check` spends: reading an inventory is
//! mostly making and freeing small values, and the system allocator takes
//! about twice as long for the largest files.

use bmcwall::model::Date;
use bmcwall::resolve::{self, Options};
use bmcwall::source::SourceMap;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::fmt::Write;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The address of BMC `i`: 10.X.Y.Z, one per BMC.
fn address(i: usize) -> String {
    format!("10.{}.{}.{}", 100 + (i >> 16), (i >> 8) & 255, i & 255)
}

/// What every format says of BMC `i`: its rack (40 to a rack) and vendor.
fn rack(i: usize) -> usize {
    i / 40
}

fn vendor(i: usize) -> &'static str {
    ["dell", "hpe", "supermicro"][i % 3]
}

fn native(hosts: usize) -> String {
    let mut out = String::from("bmcs:\n");
    for i in 0..hosts {
        let _ = write!(
            out,
            "  - name: n{i:05}\n    address: {}\n    site: ams1\n    rack: r{:03}\n    vendor: {}\n",
            address(i),
            rack(i),
            vendor(i)
        );
    }
    out
}

/// One group per rack, its hosts with their BMC address and vendor inline,
/// the racks children of the site's group, and the site in its `:vars`.
fn ini(hosts: usize) -> String {
    let mut out = String::new();
    for i in 0..hosts {
        if i % 40 == 0 {
            let _ = writeln!(out, "\n[r{:03}]", rack(i));
        }
        let _ = writeln!(
            out,
            "n{i:05} bmc_address={} vendor={} ansible_host=192.168.{}.{}",
            address(i),
            vendor(i),
            (i >> 8) & 255,
            i & 255
        );
    }
    out.push_str("\n[ams1:children]\n");
    for r in 0..=rack(hosts.saturating_sub(1)) {
        let _ = writeln!(out, "r{r:03}");
    }
    out.push_str("\n[ams1:vars]\nsite=ams1\n");
    out
}

/// A devices export as `GET /api/dcim/devices/?limit=0` gives it.
fn netbox(hosts: usize) -> String {
    let mut out = format!("{{\"count\":{hosts},\"next\":null,\"previous\":null,\"results\":[");
    for i in 0..hosts {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"id\":{i},\"url\":\"https://netbox.example.com/api/dcim/devices/{i}/\",\"display\":\"n{i:05}\",\"name\":\"n{i:05}\",\
             \"device_type\":{{\"id\":3,\"manufacturer\":{{\"id\":1,\"name\":\"{v}\",\"slug\":\"{v}\"}},\"model\":\"R760\",\"slug\":\"r760\"}},\
             \"role\":{{\"id\":2,\"name\":\"Compute\",\"slug\":\"compute\"}},\"tenant\":null,\"platform\":null,\"serial\":\"SN{i:05}\",\
             \"site\":{{\"id\":1,\"name\":\"AMS1\",\"slug\":\"ams1\"}},\"rack\":{{\"id\":{r},\"name\":\"r{r:03}\"}},\"position\":{p},\
             \"status\":{{\"value\":\"active\",\"label\":\"Active\"}},\"primary_ip\":null,\"primary_ip4\":null,\"primary_ip6\":null,\
             \"oob_ip\":{{\"id\":{i},\"family\":{{\"value\":4,\"label\":\"IPv4\"}},\"address\":\"{a}/16\"}},\
             \"tags\":[{{\"id\":1,\"name\":\"Prod\",\"slug\":\"prod\",\"color\":\"4caf50\"}}],\
             \"custom_fields\":{{\"warranty_end\":null}},\"created\":\"2026-01-05T10:00:00Z\",\"last_updated\":\"2026-06-01T12:00:00Z\"}}",
            v = vendor(i),
            r = rack(i),
            p = i % 40 + 1,
            a = address(i),
        );
    }
    out.push_str("]}\n");
    out
}

/// Writes the inventory and a policy that loads it and selects one rack
/// (`rack` is the label of a rack, `group` for the INI inventory's
/// groups); returns the policy.
fn write(dir: &Path, name: &str, inventory: &str, rack_label: &str) -> PathBuf {
    std::fs::write(dir.join(name), inventory).expect("write the inventory");
    let policy = dir.join(format!("{name}.wall"));
    let text = format!(
        "internal 10.0.0.0/8;\ninventory \"{name}\";\nhost jump = 10.1.0.5;\nbmc r001 = inventory({rack_label} = \"r001\");\nallow jump -> r001 : https;\nallow jump -> bmcs : ipmi;\n"
    );
    std::fs::write(&policy, text).expect("write the policy");
    policy
}

fn inventories(c: &mut Criterion) {
    let hosts: usize = std::env::var("BMCWALL_BENCH_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cases = [
        (
            "native",
            write(dir.path(), "bmcs.yaml", &native(hosts), "rack"),
        ),
        (
            "ansible_ini",
            write(dir.path(), "hosts.ini", &ini(hosts), "group"),
        ),
        (
            "netbox",
            write(dir.path(), "devices.json", &netbox(hosts), "rack"),
        ),
    ];
    let options = Options::new(Date::parse("2026-11-21").expect("date"));
    let mut group = c.benchmark_group("inventory");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    for (format, policy) in &cases {
        // Every format gives the same BMCs.
        let mut sources = SourceMap::default();
        let (loaded, diagnostics) = resolve::load(policy, &mut sources, &options);
        let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages, Vec::<&str>::new(), "{format}");
        assert_eq!(loaded.inventory.len(), hosts, "{format}");
        group.bench_with_input(BenchmarkId::new(*format, hosts), policy, |b, policy| {
            b.iter(|| {
                let mut sources = SourceMap::default();
                black_box(resolve::load(policy, &mut sources, &options))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, inventories);
criterion_main!(benches);
