//! A fleet lab: several gateways in their own network namespaces, the sites
//! behind them, a core router between them, an outside (the NOC, the
//! internet and the shared servers) and a jump host, all joined by veth
//! links with static neighbours. Each site's LAN namespace stands for every
//! BMC of the site: it sends probes from any of their addresses and records
//! what arrives for them, as the outside does for its addresses and the jump
//! host for its own (after its input chain). Everything is removed on drop,
//! also when a test fails. Nothing runs in the root namespace.

use super::{craft, flush_conntrack_in, load_in, must, parse_seen, run, send_in, NEXT_LAB};
use super::{RECORDER, RECORDER_FLUSH};
use bmcwall::analysis::{Family, Flow};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

/// The jump host records what its input chain let in, after bmcwall's table.
const INPUT_RECORDER: &str = "table inet probe {
	set ports_v4 { type ipv4_addr . ipv4_addr . inet_proto . inet_service; flags dynamic; size 65536; }
	set proto_v4 { type ipv4_addr . ipv4_addr . inet_proto; flags dynamic; size 65536; }
	set ports_v6 { type ipv6_addr . ipv6_addr . inet_proto . inet_service; flags dynamic; size 65536; }
	set proto_v6 { type ipv6_addr . ipv6_addr . inet_proto; flags dynamic; size 65536; }
	chain input {
		type filter hook input priority 100; policy drop;
		meta l4proto { tcp, udp } add @ports_v4 { ip saddr . ip daddr . meta l4proto . th dport }
		meta l4proto != { tcp, udp } add @proto_v4 { ip saddr . ip daddr . meta l4proto }
		meta l4proto { tcp, udp } add @ports_v6 { ip6 saddr . ip6 daddr . meta l4proto . th dport }
		meta l4proto != { tcp, udp } add @proto_v6 { ip6 saddr . ip6 daddr . meta l4proto }
	}
}
";

/// A crafted probe: its family, its bytes and its destination.
type Packet = (Family, Vec<u8>, u128);

/// A namespace of the lab and the addresses it sends from and records for.
#[derive(Clone, Debug)]
pub struct Place {
    pub ns: String,
    /// IPv4 prefixes (address, length) that live here.
    pub prefixes: Vec<(u32, u8)>,
}

impl Place {
    fn holds(&self, address: u32) -> bool {
        self.prefixes
            .iter()
            .any(|&(net, len)| len == 0 || address >> (32 - len) == net >> (32 - len))
    }
}

/// A gateway of a site: the addresses of its ends of the links to the
/// site's LAN and to the core.
struct Member {
    lan_end: String,
    core_end: String,
}

/// The lab. Gateways by name, each with the namespace it runs in.
pub struct FleetLab {
    pub gateways: Vec<(String, String)>,
    /// Where sources and destinations live: the site LANs, the jump host and
    /// the outside (last: every address no other place holds).
    pub places: Vec<Place>,
    /// Each site's gateways (the first active) and its LAN's prefixes.
    sites: Vec<(Vec<Member>, Vec<String>)>,
    core: String,
    created: Vec<String>,
    links: u32,
}

fn ip(address: &str) -> u32 {
    u32::from(
        address
            .parse::<std::net::Ipv4Addr>()
            .expect("an IPv4 address"),
    )
}

impl FleetLab {
    /// Sites: (gateway names, the LAN's prefixes); a site with two gateway
    /// names is an HA pair, the first active. `jump`: the jump host's
    /// gateway name and address, attached to the core.
    pub fn new(sites: &[(&[&str], &[&str])], jump: (&str, &str)) -> FleetLab {
        let id = format!(
            "bwt{}x{}",
            std::process::id(),
            NEXT_LAB.fetch_add(1, Ordering::SeqCst)
        );
        let mut lab = FleetLab {
            gateways: Vec::new(),
            places: Vec::new(),
            sites: Vec::new(),
            core: format!("{id}c"),
            created: Vec::new(),
            links: 0,
        };
        let core = lab.core.clone();
        lab.namespace(&core, true);
        let outside = format!("{id}o");
        lab.namespace(&outside, false);
        let (core_side, outside_side) = lab.link(&core, &outside);
        must(&[
            "ip",
            "-n",
            &core,
            "route",
            "add",
            "default",
            "via",
            &outside_side,
            "dev",
            "co",
        ]);
        must(&[
            "ip", "-n", &outside, "route", "add", "default", "via", &core_side,
        ]);
        for (index, (gateways, prefixes)) in sites.iter().enumerate() {
            let lan = format!("{id}l{index}");
            lab.namespace(&lan, false);
            let mut members = Vec::new();
            for (member, name) in gateways.iter().enumerate() {
                let gw = format!("{id}g{index}{member}");
                lab.namespace(&gw, true);
                lab.gateways.push((name.to_string(), gw.clone()));
                let (gw_core, core_gw) = lab.link(&gw, &core);
                let (gw_lan, lan_gw) = lab.link(&gw, &lan);
                must(&["ip", "-n", &gw, "route", "add", "default", "via", &core_gw]);
                for prefix in *prefixes {
                    must(&["ip", "-n", &gw, "route", "add", prefix, "via", &lan_gw]);
                }
                members.push(Member {
                    lan_end: gw_lan,
                    core_end: gw_core,
                });
            }
            lab.places.push(Place {
                ns: lan,
                prefixes: prefixes.iter().map(|p| prefix(p)).collect(),
            });
            lab.sites
                .push((members, prefixes.iter().map(|p| p.to_string()).collect()));
            lab.fail_over(index, 0);
        }
        let (gateway, address) = jump;
        let jump_ns = format!("{id}j");
        lab.namespace(&jump_ns, false);
        let (jump_core, core_jump) = lab.link(&jump_ns, &core);
        must(&[
            "ip",
            "-n",
            &jump_ns,
            "addr",
            "add",
            &format!("{address}/32"),
            "dev",
            "lo",
        ]);
        must(&[
            "ip", "-n", &jump_ns, "route", "add", "default", "via", &core_jump, "src", address,
        ]);
        must(&[
            "ip",
            "-n",
            &core,
            "route",
            "add",
            &format!("{address}/32"),
            "via",
            &jump_core,
        ]);
        load_in(&jump_ns, INPUT_RECORDER).unwrap_or_else(|e| panic!("recorder: {e}"));
        lab.gateways.push((gateway.to_string(), jump_ns.clone()));
        lab.places.push(Place {
            ns: jump_ns,
            prefixes: vec![(ip(address), 32)],
        });
        for place in &lab.places[..lab.places.len() - 1] {
            load_in(&place.ns, RECORDER).unwrap_or_else(|e| panic!("recorder: {e}"));
        }
        load_in(&outside, RECORDER).unwrap_or_else(|e| panic!("recorder: {e}"));
        lab.places.push(Place {
            ns: outside,
            prefixes: vec![(0, 0)],
        });
        lab
    }

    fn namespace(&mut self, ns: &str, forwards: bool) {
        must(&["ip", "netns", "add", ns]);
        self.created.push(ns.to_string());
        must(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        let mut settings = vec![
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
        ];
        if forwards {
            settings.push("net.ipv4.ip_forward=1");
        }
        for setting in settings {
            must(&["ip", "netns", "exec", ns, "sysctl", "-qw", setting]);
        }
    }

    /// Joins `a` and `b` with a veth pair on a /30 of its own, with static
    /// neighbours; returns the addresses of the `a` and `b` ends. The `a`
    /// end of the core's link to the outside is named `co`.
    fn link(&mut self, a: &str, b: &str) -> (String, String) {
        let n = self.links;
        self.links += 1;
        let (dev_a, dev_b) = if n == 0 {
            ("co".to_string(), "oc".to_string())
        } else {
            (format!("v{n}a"), format!("v{n}b"))
        };
        let mac = |end: u32| format!("02:43:00:00:{:02x}:{:02x}", n + 1, end);
        must(&[
            "ip",
            "-n",
            a,
            "link",
            "add",
            &dev_a,
            "address",
            &mac(1),
            "type",
            "veth",
            "peer",
            "name",
            &dev_b,
            "address",
            &mac(2),
            "netns",
            b,
        ]);
        let base = 0xA9FE_0000u32 + 4 * (n + 1); // 169.254.x.y/30
        let (addr_a, addr_b) = (
            std::net::Ipv4Addr::from(base + 1).to_string(),
            std::net::Ipv4Addr::from(base + 2).to_string(),
        );
        for (ns, dev, addr) in [(a, &dev_a, &addr_a), (b, &dev_b, &addr_b)] {
            must(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/30"),
                "dev",
                dev,
            ]);
            must(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        for (ns, dev, addr, end) in [(a, &dev_a, &addr_b, 2), (b, &dev_b, &addr_a, 1)] {
            must(&[
                "ip",
                "-n",
                ns,
                "neigh",
                "replace",
                addr,
                "lladdr",
                &mac(end),
                "dev",
                dev,
                "nud",
                "permanent",
            ]);
        }
        (addr_a, addr_b)
    }

    /// Routes a site's traffic, both ways, through its gateway `member` (the
    /// first at the start): a failover when it is another.
    pub fn fail_over(&self, site: usize, member: usize) {
        let (members, prefixes) = &self.sites[site];
        let lan = &self.places[site].ns;
        let active = &members[member];
        must(&[
            "ip",
            "-n",
            lan,
            "route",
            "replace",
            "default",
            "via",
            &active.lan_end,
        ]);
        for prefix in prefixes {
            must(&[
                "ip",
                "-n",
                &self.core,
                "route",
                "replace",
                prefix,
                "via",
                &active.core_end,
            ]);
        }
    }

    /// The place an address lives: where a probe from it is sent and a probe
    /// to it is recorded.
    fn place_of(&self, address: u32) -> &Place {
        self.places
            .iter()
            .find(|p| p.holds(address))
            .expect("the outside holds every address")
    }

    /// Sends every probe from the place of its source and returns those that
    /// arrived at the place of their destination. Connection tracking is
    /// flushed everywhere first; probes are the first packets of their
    /// connections (distinct source ports, none a destination port).
    pub fn probe(&self, flows: &[Flow]) -> BTreeSet<Flow> {
        for place in &self.places {
            let _ = load_in(&place.ns, RECORDER_FLUSH);
        }
        for ns in self
            .gateways
            .iter()
            .map(|(_, ns)| ns)
            .chain(std::iter::once(&self.core))
        {
            let ns = ns.clone();
            std::thread::spawn(move || flush_conntrack_in(&ns))
                .join()
                .expect("conntrack thread")
                .unwrap_or_else(|e| panic!("flushing connection tracking: {e}"));
        }
        let taken: BTreeSet<u16> = flows.iter().filter_map(|f| f.service.port).collect();
        let mut ports = (20000..=u16::MAX).filter(|p| !taken.contains(p));
        let mut by_source: Vec<(String, Vec<Packet>)> = Vec::new();
        for flow in flows {
            assert_eq!(flow.family, Family::V4, "the fleet lab routes IPv4");
            let ns = self.place_of(flow.src as u32).ns.clone();
            let packet = (
                flow.family,
                craft(flow, ports.next().expect("a port")),
                flow.dst,
            );
            match by_source.iter_mut().find(|(n, _)| *n == ns) {
                Some((_, packets)) => packets.push(packet),
                None => by_source.push((ns, vec![packet])),
            }
        }
        for (ns, packets) in by_source {
            std::thread::spawn(move || send_in(&ns, &packets))
                .join()
                .expect("sender thread")
                .unwrap_or_else(|e| panic!("sending probes: {e}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(150));
        let mut seen = BTreeSet::new();
        for place in &self.places {
            let json = must(&[
                "ip", "netns", "exec", &place.ns, "nft", "-j", "-p", "list", "table", "inet",
                "probe",
            ]);
            seen.extend(parse_seen(&json));
        }
        let sent: BTreeSet<Flow> = flows.iter().copied().collect();
        seen.intersection(&sent).copied().collect()
    }
}

fn prefix(text: &str) -> (u32, u8) {
    let (address, len) = text.split_once('/').unwrap_or((text, "32"));
    (ip(address), len.parse().expect("a prefix length"))
}

impl Drop for FleetLab {
    fn drop(&mut self) {
        for ns in self.created.drain(..) {
            let _ = run(&["ip", "netns", "del", &ns]);
        }
    }
}
