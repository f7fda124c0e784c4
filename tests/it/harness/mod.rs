//! Kernel test harness: a source, a gateway and a destination network namespace
//! joined by veth links. A ruleset is loaded into the gateway only; probe
//! packets are crafted in the source namespace (raw sockets, any source
//! address) and their arrival is recorded by an nft set in the destination
//! namespace. Everything is removed when the [`Lab`] is dropped, also when a
//! test fails. Nothing runs in the root namespace.

pub mod fleet;
pub mod random;
pub mod verify;

use bmcwall::addr::service::{self, ServicePoint};
use bmcwall::analysis::{Family, Flow};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT_LAB: AtomicU32 = AtomicU32::new(0);

/// MAC addresses of the four veth ends, fixed so neighbours can be static.
const MAC_SRC: &str = "02:42:00:00:01:01";
const MAC_GW_SRC: &str = "02:42:00:00:01:02";
const MAC_GW_DST: &str = "02:42:00:00:02:01";
const MAC_DST: &str = "02:42:00:00:02:02";

/// Fails the test with a clear message when kernel tests cannot run here.
pub fn require_kernel() {
    let root = unsafe { libc::geteuid() } == 0;
    let nft = Command::new("nft").arg("--version").output().is_ok();
    let ip = Command::new("ip").arg("-V").output().is_ok();
    assert!(
        root && nft && ip,
        "kernel tests need root, `nft` and `ip` (root: {root}, nft: {nft}, ip: {ip}); \
         .ci/run installs them; set BMCWALL_SKIP_KERNEL_TESTS=1 to skip on a machine without them"
    );
}

/// True when the caller asked to skip kernel tests explicitly.
pub fn skipped() -> bool {
    if std::env::var_os("BMCWALL_SKIP_KERNEL_TESTS").is_some() {
        eprintln!("kernel test skipped: BMCWALL_SKIP_KERNEL_TESTS is set");
        return true;
    }
    require_kernel();
    false
}

fn run(args: &[&str]) -> Result<String, String> {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn must(args: &[&str]) -> String {
    run(args).unwrap_or_else(|e| panic!("{e}"))
}

/// `nft -f -` with `ruleset` inside namespace `ns`.
fn load_in(ns: &str, ruleset: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(ruleset.as_bytes())
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// One network namespace of a test's own, deleted on drop (also on panic),
/// with a state directory of its own for `apply` (`BMCWALL_RUN_DIR`), so
/// tests never share a lock or leave state on the host.
pub struct Namespace {
    pub name: String,
    pub run_dir: tempfile::TempDir,
}

impl Namespace {
    pub fn new() -> Namespace {
        let name = format!(
            "bwt{}x{}n",
            std::process::id(),
            NEXT_LAB.fetch_add(1, Ordering::SeqCst)
        );
        must(&["ip", "netns", "add", &name]);
        let run_dir = tempfile::Builder::new()
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .expect("a state directory");
        let namespace = Namespace { name, run_dir };
        must(&["ip", "-n", &namespace.name, "link", "set", "lo", "up"]);
        namespace
    }

    /// Runs nft with `args` inside the namespace.
    pub fn nft(&self, args: &[&str]) -> Result<String, String> {
        let mut all = vec!["ip", "netns", "exec", &self.name, "nft"];
        all.extend_from_slice(args);
        run(&all)
    }

    /// Loads nft text (`nft -f -`) inside the namespace.
    pub fn load(&self, ruleset: &str) -> Result<(), String> {
        load_in(&self.name, ruleset)
    }

    /// `BMCWALL_RUN_DIR` for the namespace's state directory.
    pub fn run_env(&self) -> (&'static str, &str) {
        (
            "BMCWALL_RUN_DIR",
            self.run_dir
                .path()
                .to_str()
                .expect("a UTF-8 temporary path"),
        )
    }
}

impl Default for Namespace {
    fn default() -> Self {
        Namespace::new()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = run(&["ip", "netns", "del", &self.name]);
    }
}

/// Three namespaces: `src` -> `gw` -> `dst`.
pub struct Lab {
    pub src: String,
    pub gw: String,
    pub dst: String,
    created: Vec<String>,
}

impl Lab {
    pub fn new() -> Lab {
        let id = format!(
            "bwt{}x{}",
            std::process::id(),
            NEXT_LAB.fetch_add(1, Ordering::SeqCst)
        );
        let mut lab = Lab {
            src: format!("{id}s"),
            gw: format!("{id}g"),
            dst: format!("{id}d"),
            created: Vec::new(),
        };
        for ns in [lab.src.clone(), lab.gw.clone(), lab.dst.clone()] {
            must(&["ip", "netns", "add", &ns]);
            lab.created.push(ns.clone());
            must(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
            lab.sysctl(
                &ns,
                &[
                    "net.ipv6.conf.all.accept_dad=0",
                    "net.ipv6.conf.default.accept_dad=0",
                ],
            );
        }
        let (s, g, d) = (lab.src.clone(), lab.gw.clone(), lab.dst.clone());
        must(&[
            "ip", "-n", &g, "link", "add", "gs", "address", MAC_GW_SRC, "type", "veth", "peer",
            "name", "sg", "address", MAC_SRC, "netns", &s,
        ]);
        must(&[
            "ip", "-n", &g, "link", "add", "gd", "address", MAC_GW_DST, "type", "veth", "peer",
            "name", "dg", "address", MAC_DST, "netns", &d,
        ]);
        lab.sysctl(
            &g,
            &[
                "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.default.rp_filter=0",
                "net.ipv4.conf.gs.rp_filter=0",
                "net.ipv4.conf.gd.rp_filter=0",
            ],
        );
        for (ns, dev, v4, v6) in [
            (&s, "sg", "169.254.1.1/30", "fe80::1/64"),
            (&g, "gs", "169.254.1.2/30", "fe80::2/64"),
            (&g, "gd", "169.254.2.1/30", "fe80::1/64"),
            (&d, "dg", "169.254.2.2/30", "fe80::2/64"),
        ] {
            must(&["ip", "-n", ns, "addr", "add", v4, "dev", dev]);
            must(&["ip", "-n", ns, "-6", "addr", "add", v6, "dev", dev, "nodad"]);
            must(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        // Static neighbours: no resolution delay, no queue overflow.
        for (ns, dev, addr, mac) in [
            (&s, "sg", "169.254.1.2", MAC_GW_SRC),
            (&s, "sg", "fe80::2", MAC_GW_SRC),
            (&g, "gd", "169.254.2.2", MAC_DST),
            (&g, "gd", "fe80::2", MAC_DST),
        ] {
            must(&[
                "ip",
                "-n",
                ns,
                "neigh",
                "replace",
                addr,
                "lladdr",
                mac,
                "dev",
                dev,
                "nud",
                "permanent",
            ]);
        }
        must(&[
            "ip",
            "-n",
            &s,
            "route",
            "add",
            "default",
            "via",
            "169.254.1.2",
            "dev",
            "sg",
        ]);
        must(&[
            "ip", "-n", &s, "-6", "route", "add", "default", "via", "fe80::2", "dev", "sg",
        ]);
        must(&[
            "ip",
            "-n",
            &g,
            "route",
            "add",
            "default",
            "via",
            "169.254.2.2",
            "dev",
            "gd",
        ]);
        must(&[
            "ip", "-n", &g, "-6", "route", "add", "default", "via", "fe80::2", "dev", "gd",
        ]);
        // The route back to every source is the source side: the table's
        // reverse-path check (`fib saddr . iif oif missing drop`) looks the
        // source up with the packet's output interface as input interface,
        // which this rule sends to table 100.
        for family in ["-4", "-6"] {
            must(&[
                "ip", "-n", &g, family, "rule", "add", "iif", "gd", "lookup", "100", "pref", "100",
            ]);
        }
        lab.route_back(&["default"]);
        lab.nft_stdin(&d, RECORDER)
            .unwrap_or_else(|e| panic!("recorder: {e}"));
        lab
    }

    /// Makes the source side the route back to `prefixes` only (`default`
    /// for every source, both families): a probe from another source fails
    /// the reverse-path check, as a spoofed one would.
    pub fn route_back(&self, prefixes: &[&str]) {
        for family in ["-4", "-6"] {
            // An empty table has nothing to flush, which is no failure.
            let _ = run(&[
                "ip", "-n", &self.gw, family, "route", "flush", "table", "100",
            ]);
        }
        for prefix in prefixes {
            let v6 = prefix.contains(':');
            let routes: Vec<(&str, &str)> = match *prefix {
                "default" => vec![("-4", "169.254.1.1"), ("-6", "fe80::1")],
                _ if v6 => vec![("-6", "fe80::1")],
                _ => vec![("-4", "169.254.1.1")],
            };
            for (family, via) in routes {
                must(&[
                    "ip", "-n", &self.gw, family, "route", "add", prefix, "via", via, "dev", "gs",
                    "table", "100",
                ]);
            }
        }
    }

    fn sysctl(&self, ns: &str, settings: &[&str]) {
        for setting in settings {
            must(&["ip", "netns", "exec", ns, "sysctl", "-qw", setting]);
        }
    }

    fn nft_stdin(&self, ns: &str, ruleset: &str) -> Result<(), String> {
        load_in(ns, ruleset)
    }

    /// Loads a ruleset file into the gateway namespace.
    pub fn load(&self, path: &Path, json: bool) -> Result<(), String> {
        let file = path.to_string_lossy();
        let mut args = vec!["ip", "netns", "exec", &self.gw, "nft"];
        if json {
            args.push("-j");
        }
        args.extend(["-f", &file]);
        run(&args).map(|_| ())
    }

    /// `nft -j list table inet NAME` in the gateway namespace.
    pub fn list_table_json(&self, table: &str) -> Result<String, String> {
        run(&[
            "ip", "netns", "exec", &self.gw, "nft", "-j", "list", "table", "inet", table,
        ])
    }

    /// Sends every probe from the source namespace and returns those that
    /// arrived in the destination namespace (other traffic the destination
    /// sees, such as the gateway's own multicast listener reports, is
    /// ignored).
    ///
    /// Each probe must be the first packet of its connection, as the table
    /// sees it: the gateway's connection tracking is flushed first, source
    /// ports never equal a destination port of the same batch, and a
    /// port-less flow whose reverse is also probed goes in a later batch
    /// (else it would be the reply of an accepted flow, and `established`).
    pub fn probe(&self, flows: &[Flow]) -> BTreeSet<Flow> {
        let mut seen = BTreeSet::new();
        for batch in independent_batches(flows) {
            seen.extend(self.probe_batch(&batch));
        }
        seen
    }

    fn probe_batch(&self, flows: &[Flow]) -> BTreeSet<Flow> {
        self.nft_stdin(&self.dst, RECORDER_FLUSH)
            .unwrap_or_else(|e| panic!("clearing the record: {e}"));
        let gw = self.gw.clone();
        std::thread::spawn(move || flush_conntrack_in(&gw))
            .join()
            .expect("conntrack thread")
            .unwrap_or_else(|e| panic!("flushing connection tracking: {e}"));
        let ports = source_ports(flows);
        let packets: Vec<(Family, Vec<u8>, u128)> = flows
            .iter()
            .zip(ports)
            .map(|(f, port)| (f.family, craft(f, port), f.dst))
            .collect();
        let ns = self.src.clone();
        std::thread::spawn(move || send_in(&ns, &packets))
            .join()
            .expect("sender thread")
            .unwrap_or_else(|e| panic!("sending probes: {e}"));
        // Packets cross two veth links within microseconds; a record that has
        // not changed for a settling interval is complete.
        let settle = std::time::Duration::from_millis(25);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let mut seen: Option<BTreeSet<Flow>> = None;
        let seen = loop {
            std::thread::sleep(settle);
            let json = must(&[
                "ip", "netns", "exec", &self.dst, "nft", "-j", "-p", "list", "table", "inet",
                "probe",
            ]);
            let now: BTreeSet<Flow> = parse_seen(&json).into_iter().collect();
            if seen.as_ref() == Some(&now) || std::time::Instant::now() > deadline {
                break now;
            }
            seen = Some(now);
        };
        let sent: BTreeSet<Flow> = flows.iter().copied().collect();
        seen.intersection(&sent).copied().collect()
    }
}

/// Splits probes so that no batch holds a port-less flow and its reverse.
fn independent_batches(flows: &[Flow]) -> Vec<Vec<Flow>> {
    let mut batches: Vec<(BTreeSet<Flow>, Vec<Flow>)> = Vec::new();
    for flow in flows {
        let reverse = Flow {
            src: flow.dst,
            dst: flow.src,
            ..*flow
        };
        let portless = flow.service.port.is_none();
        match batches
            .iter_mut()
            .find(|(members, _)| !portless || !members.contains(&reverse))
        {
            Some((members, batch)) => {
                members.insert(*flow);
                batch.push(*flow);
            }
            None => batches.push((BTreeSet::from([*flow]), vec![*flow])),
        }
    }
    batches.into_iter().map(|(_, batch)| batch).collect()
}

/// A distinct source port (ICMP echo sequence number) for each probe, never
/// one of the batch's destination ports, so that no probe is the reply of
/// another.
fn source_ports(flows: &[Flow]) -> Vec<u16> {
    let taken: BTreeSet<u16> = flows.iter().filter_map(|f| f.service.port).collect();
    let mut free = (1024..=u16::MAX).filter(|p| !taken.contains(p));
    flows
        .iter()
        .map(|_| free.next().expect("more ports than probes"))
        .collect()
}

/// Enters network namespace `ns` on this thread.
fn enter(ns: &str) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let handle = std::fs::File::open(format!("/var/run/netns/{ns}")).map_err(|e| e.to_string())?;
    // SAFETY: setns affects only the calling thread, which the callers spawn
    // for this purpose and end afterwards.
    if unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(format!("setns: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Deletes every connection-tracking entry of namespace `ns`, as
/// `conntrack -F` does: one ctnetlink delete request without a tuple.
fn flush_conntrack_in(ns: &str) -> Result<(), String> {
    enter(ns)?;
    // SAFETY: plain socket(2) call; the descriptor is closed below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_NETFILTER,
        )
    };
    if fd < 0 {
        return Err(format!(
            "netlink socket: {}",
            std::io::Error::last_os_error()
        ));
    }
    const NFNL_SUBSYS_CTNETLINK: u16 = 1;
    const IPCTNL_MSG_CT_DELETE: u16 = 2;
    let mut request = Vec::with_capacity(20);
    request.extend_from_slice(&20u32.to_ne_bytes()); // nlmsg_len
    request.extend_from_slice(&((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE).to_ne_bytes());
    request.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16).to_ne_bytes());
    request.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    request.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
    request.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]); // nfgenmsg: every family
    let mut reply = [0u8; 256];
    // SAFETY: the buffers outlive the calls and their lengths are passed.
    let result = unsafe {
        if libc::send(fd, request.as_ptr().cast(), request.len(), 0) < 0 {
            Err(format!("netlink send: {}", std::io::Error::last_os_error()))
        } else {
            let n = libc::recv(fd, reply.as_mut_ptr().cast(), reply.len(), 0);
            if n < 20 {
                Err(format!("netlink recv: {}", std::io::Error::last_os_error()))
            } else {
                // An NLMSG_ERROR message whose error code is 0 acknowledges;
                // ENOENT says there was nothing to delete.
                let kind = u16::from_ne_bytes([reply[4], reply[5]]);
                let code = i32::from_ne_bytes([reply[16], reply[17], reply[18], reply[19]]);
                if kind == libc::NLMSG_ERROR as u16 && (code == 0 || code == -libc::ENOENT) {
                    Ok(())
                } else {
                    Err(format!(
                        "conntrack flush refused: type {kind}, error {code}"
                    ))
                }
            }
        }
    };
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    result
}

impl Default for Lab {
    fn default() -> Self {
        Lab::new()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.created.drain(..) {
            let _ = run(&["ip", "netns", "del", &ns]);
        }
    }
}

/// The destination namespace records what arrives and drops it.
const RECORDER: &str = "table inet probe {
	set ports_v4 { type ipv4_addr . ipv4_addr . inet_proto . inet_service; flags dynamic; size 262144; }
	set proto_v4 { type ipv4_addr . ipv4_addr . inet_proto; flags dynamic; size 262144; }
	set ports_v6 { type ipv6_addr . ipv6_addr . inet_proto . inet_service; flags dynamic; size 262144; }
	set proto_v6 { type ipv6_addr . ipv6_addr . inet_proto; flags dynamic; size 262144; }
	chain prerouting {
		type filter hook prerouting priority raw; policy drop;
		meta l4proto { tcp, udp } add @ports_v4 { ip saddr . ip daddr . meta l4proto . th dport }
		meta l4proto != { tcp, udp } add @proto_v4 { ip saddr . ip daddr . meta l4proto }
		meta l4proto { tcp, udp } add @ports_v6 { ip6 saddr . ip6 daddr . meta l4proto . th dport }
		meta l4proto != { tcp, udp } add @proto_v6 { ip6 saddr . ip6 daddr . meta l4proto }
	}
}
";

const RECORDER_FLUSH: &str = "flush set inet probe ports_v4
flush set inet probe proto_v4
flush set inet probe ports_v6
flush set inet probe proto_v6
";

fn parse_seen(json: &str) -> Vec<Flow> {
    let value: serde_json::Value = serde_json::from_str(json).expect("nft JSON");
    let mut out = Vec::new();
    let objects = value["nftables"].as_array().cloned().unwrap_or_default();
    for object in objects {
        let Some(elements) = object["set"]["elem"].as_array() else {
            continue;
        };
        for element in elements {
            let element = if element.get("elem").is_some() {
                &element["elem"]["val"]
            } else {
                element
            };
            let parts = element["concat"].as_array().expect("concatenated element");
            let addr = |v: &serde_json::Value| {
                v.as_str()
                    .and_then(|s| s.parse::<IpAddr>().ok())
                    .expect("address")
            };
            let proto = parts[2].as_u64().expect("numeric protocol") as u8;
            let port = parts.get(3).map(|p| p.as_u64().expect("port") as u16);
            let flow = Flow::new(
                addr(&parts[0]),
                addr(&parts[1]),
                ServicePoint { proto, port },
            )
            .expect("same family");
            out.push(flow);
        }
    }
    out
}

/// Sends raw IP packets (header included) from namespace `ns`.
fn send_in(ns: &str, packets: &[(Family, Vec<u8>, u128)]) -> Result<(), String> {
    enter(ns)?;
    let open = |domain| {
        // SAFETY: plain socket(2) call; the descriptor is closed below.
        let fd = unsafe { libc::socket(domain, libc::SOCK_RAW, libc::IPPROTO_RAW) };
        if fd < 0 {
            Err(format!("raw socket: {}", std::io::Error::last_os_error()))
        } else {
            Ok(fd)
        }
    };
    let (fd4, fd6) = (open(libc::AF_INET)?, open(libc::AF_INET6)?);
    let mut result = Ok(());
    for (i, (family, packet, dst)) in packets.iter().enumerate() {
        // SAFETY: the sockaddr structs are fully initialised and outlive the call.
        let sent = unsafe {
            match family {
                Family::V4 => {
                    let mut addr: libc::sockaddr_in = std::mem::zeroed();
                    addr.sin_family = libc::AF_INET as libc::sa_family_t;
                    addr.sin_addr.s_addr = (*dst as u32).to_be();
                    libc::sendto(
                        fd4,
                        packet.as_ptr().cast(),
                        packet.len(),
                        0,
                        (&addr as *const libc::sockaddr_in).cast(),
                        std::mem::size_of::<libc::sockaddr_in>() as u32,
                    )
                }
                Family::V6 => {
                    let mut addr: libc::sockaddr_in6 = std::mem::zeroed();
                    addr.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    addr.sin6_addr.s6_addr = dst.to_be_bytes();
                    libc::sendto(
                        fd6,
                        packet.as_ptr().cast(),
                        packet.len(),
                        0,
                        (&addr as *const libc::sockaddr_in6).cast(),
                        std::mem::size_of::<libc::sockaddr_in6>() as u32,
                    )
                }
            }
        };
        // EPERM: the namespace's own table dropped it in `output` (a host in
        // `mode host`); that is the verdict a probe looks for, not a failure.
        let error = std::io::Error::last_os_error();
        if sent < 0 && error.raw_os_error() != Some(libc::EPERM) {
            result = Err(format!("sendto: {error}"));
            break;
        }
        // Pace the burst so no per-CPU backlog queue overflows.
        if i % 50 == 49 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    // SAFETY: closing descriptors this function opened.
    unsafe {
        libc::close(fd4);
        libc::close(fd6);
    }
    result
}

fn checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in chunks {
        let mut iter = chunk.chunks(2);
        for pair in &mut iter {
            let word = if pair.len() == 2 {
                u16::from_be_bytes([pair[0], pair[1]])
            } else {
                u16::from(pair[0]) << 8
            };
            sum += u32::from(word);
        }
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// A complete IP packet for `flow`: TCP SYN, UDP datagram, ICMP or ICMPv6 echo
/// request, or a small payload of another protocol.
pub fn craft(flow: &Flow, source_port: u16) -> Vec<u8> {
    let proto = flow.service.proto;
    let port = flow.service.port.unwrap_or(0);
    let mut l4 = match proto {
        service::TCP => {
            let mut h = vec![0u8; 20];
            h[0..2].copy_from_slice(&source_port.to_be_bytes());
            h[2..4].copy_from_slice(&port.to_be_bytes());
            h[4..8].copy_from_slice(&(u32::from(source_port) * 7919).to_be_bytes());
            h[12] = 5 << 4;
            h[13] = 0x02; // SYN
            h[14..16].copy_from_slice(&65535u16.to_be_bytes());
            h
        }
        service::UDP => {
            let mut h = vec![0u8; 12];
            h[0..2].copy_from_slice(&source_port.to_be_bytes());
            h[2..4].copy_from_slice(&port.to_be_bytes());
            h[4..6].copy_from_slice(&12u16.to_be_bytes());
            h[8..12].copy_from_slice(b"bmcw");
            h
        }
        service::ICMP => {
            let mut h = vec![8, 0, 0, 0, 0, 1, 0, 1];
            h[6..8].copy_from_slice(&source_port.to_be_bytes());
            h
        }
        service::ICMPV6 => {
            let mut h = vec![128, 0, 0, 0, 0, 1, 0, 1];
            h[6..8].copy_from_slice(&source_port.to_be_bytes());
            h
        }
        _ => b"bmcwall!".to_vec(),
    };
    let csum_at = match proto {
        service::TCP => Some(16),
        service::UDP => Some(6),
        service::ICMP | service::ICMPV6 => Some(2),
        _ => None,
    };
    let length = l4.len() as u16;
    match flow.family {
        Family::V4 => {
            let (src, dst) = (
                (flow.src as u32).to_be_bytes(),
                (flow.dst as u32).to_be_bytes(),
            );
            if let Some(at) = csum_at {
                let pseudo: Vec<u8> =
                    [&src[..], &dst[..], &[0, proto], &length.to_be_bytes()].concat();
                let sum = if proto == service::ICMP {
                    checksum(&[&l4])
                } else {
                    checksum(&[&pseudo, &l4])
                };
                l4[at..at + 2].copy_from_slice(&sum.to_be_bytes());
            }
            let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
            ip[2..4].copy_from_slice(&(20 + length).to_be_bytes());
            ip.extend_from_slice(&src);
            ip.extend_from_slice(&dst);
            let sum = checksum(&[&ip]);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
            ip.extend_from_slice(&l4);
            ip
        }
        Family::V6 => {
            let (src, dst) = (flow.src.to_be_bytes(), flow.dst.to_be_bytes());
            if let Some(at) = csum_at {
                let pseudo: Vec<u8> = [
                    &src[..],
                    &dst[..],
                    &u32::from(length).to_be_bytes(),
                    &[0, 0, 0, proto],
                ]
                .concat();
                let sum = checksum(&[&pseudo, &l4]);
                l4[at..at + 2].copy_from_slice(&sum.to_be_bytes());
            }
            let mut ip = vec![0x60, 0, 0, 0];
            ip.extend_from_slice(&length.to_be_bytes());
            ip.extend_from_slice(&[proto, 64]);
            ip.extend_from_slice(&src);
            ip.extend_from_slice(&dst);
            ip.extend_from_slice(&l4);
            ip
        }
    }
}

/// A protocol a probe can carry in place of a whole range of them.
fn plain_protocol(lo: u8, hi: u8, family: Family) -> Option<u8> {
    let icmp = if family == Family::V4 {
        service::ICMP
    } else {
        service::ICMPV6
    };
    [icmp, 253, 254, 99]
        .into_iter()
        .chain(lo..=hi)
        .find(|p| (lo..=hi).contains(p) && random::sendable_protocol(*p, family))
}

/// Service points of a service class that a probe can carry in `family`:
/// the lowest and highest port of each TCP/UDP range, one plain protocol for
/// each range of port-less protocols.
pub fn probe_services(class: &service::ServiceSet, family: Family) -> Vec<ServicePoint> {
    let mut out = Vec::new();
    for piece in service::pieces(class) {
        match piece {
            service::ServicePiece::Ports { proto, lo, hi } => {
                let lo = lo.max(1);
                if lo <= hi {
                    out.push(ServicePoint {
                        proto,
                        port: Some(lo),
                    });
                    if hi != lo {
                        out.push(ServicePoint {
                            proto,
                            port: Some(hi),
                        });
                    }
                }
            }
            service::ServicePiece::Protocols { lo, hi } => {
                if let Some(proto) = plain_protocol(lo, hi, family) {
                    out.push(ServicePoint { proto, port: None });
                }
            }
        }
    }
    out
}

/// Addresses never used as probes: the lab's own link networks and ranges the
/// kernel will not forward.
pub fn probe_address_v4(set: &bmcwall::addr::IntervalSet<u32>) -> Vec<u32> {
    use bmcwall::analysis::flow::Address;
    let usable = set.difference(&u32::special());
    let mut out = Vec::new();
    for &(lo, hi) in usable.intervals().iter().take(2) {
        out.push(lo);
        if hi != lo {
            out.push(hi);
        }
    }
    out.retain(|a| *a != u32::from(Ipv4Addr::BROADCAST));
    out
}

pub fn probe_address_v6(set: &bmcwall::addr::IntervalSet<u128>) -> Vec<u128> {
    use bmcwall::analysis::flow::Address;
    let usable = set.difference(&u128::special());
    let mut out = Vec::new();
    for &(lo, hi) in usable.intervals().iter().take(2) {
        out.push(lo);
        if hi != lo {
            out.push(hi);
        }
    }
    out.retain(|a| *a != u128::from(Ipv6Addr::UNSPECIFIED));
    out
}
