#!/usr/bin/env python3
"""Generate a realistic, deterministic BMC management-network policy for benchmarks.

    python3 bench/generate.py --bmcs N --rules R [--admins A] [--ipv6-share 0.3]
                              [--admin-groups G] [--seed S] [--no-final-log] [--aerleon]
                              [--gateways N] --out DIR

writes DIR/policy.wall and DIR/inventory/<site>.yaml (one inventory per site); with
--aerleon also the same policy for Aerleon in DIR/aerleon (see aerleon_policy.py).
DIR/late-flow.txt names one allowed flow that first match decides late ("SRC DST tcp
443 RULE"), for the forwarding benchmark.

The policy is meant to check clean (exit 0, and no warnings from the lints in
DESIGN.md as far as they can be anticipated):

* addresses only in 10.0.0.0/8 and fd00::/8, with `internal 10.0.0.0/8, fd00::/8;`,
  so nothing is exposed to the internet (BW201-BW203) and BMCs never reach BMCs (BW204);
* IPMI only from sources inside one /24 (v4) and one /64 (v6) (BW205);
* rules that allow cleartext items to BMCs carry `waive BW206 "..."`;
* every selector matches at least one inventory entry (BW008);
* every definition is used (BW303): unused `bmc` and `service` definitions are not
  written, every person/jump host/NOC network is in the `staff` group used by an `expect`;
* every allow rule owns a "private witness": a flow that no other allow rule covers,
  so no allow is redundant (BW102) whichever direction redundancy is computed in;
* the denies (partner networks to a site, on https) come before the one partner allow
  that covers them entirely (the exception pattern, BW104, allow-level), so they are
  neither shadowed (BW101) nor redundant (BW102) nor correlated (BW103);
* `until` dates are well after the benchmark's --today (2026-11-21) (BW301, BW302).

Everything is derived from random.Random(seed) and ordered containers, so the same
arguments give byte-identical files.
"""

import argparse
import math
import os
import random
import sys

from catalog import CLEARTEXT_PORTS, CUSTOM, INFRA, SERVICES

VENDORS = ["dell", "hpe", "supermicro", "lenovo", "cisco", "openbmc", "other"]
VENDOR_WEIGHTS = [30, 25, 20, 10, 5, 5, 5]

VENDOR_SERVICE = {"dell": "idrac", "hpe": "ilo", "supermicro": "supermicro",
                  "lenovo": "xcc", "cisco": "cimc", "openbmc": "openbmc", "other": "redfish"}

SITE_NAMES = ["ams1", "fra1", "lon1", "par1", "dub1", "waw1", "mad1", "mil1", "sto1",
              "hel1", "osl1", "zrh1", "vie1", "prg1", "bru1", "cph1", "nyc1", "iad1",
              "ord1", "dfw1", "sjc1", "sea1", "yyz1", "gru1", "sin1", "tyo1", "syd1",
              "bom1", "hkg1", "icn1"]

KEYWORDS = set("allow deny expect host network group bmc bmcs service internal internet "
               "scope include inventory except log until waive any tcp udp icmp".split())

TICKETS = ["OPS", "NET", "SEC", "DCOPS", "INFRA"]


def check_name(name):
    ok = (name and name[0].isascii() and name[0].isalpha()
          and all(c.isascii() and (c.isalnum() or c in "_.-") for c in name)
          and name not in KEYWORDS)
    if not ok:
        raise SystemExit(f"generate.py: internal error: bad name {name!r}")
    return name


def is_cleartext(items):
    for proto, lo, hi, clear in items:
        if clear:
            return True
        for p2, l2, h2 in CLEARTEXT_PORTS:
            if proto == p2 and lo <= h2 and l2 <= hi:
                return True
    return False


def has_ipmi(items):
    return any(p == "udp" and lo <= 623 <= hi for p, lo, hi, _ in items)


class Inventory:
    """Sites, racks and BMCs."""

    def __init__(self, rng, n_bmcs, v6_share, n_sites=None):
        self.n_sites = n_sites or min(n_bmcs, max(2, math.ceil(n_bmcs / 1500)))
        if self.n_sites > 190:
            raise SystemExit("generate.py: too many BMCs (at most 285000)")
        self.sites = []
        for s in range(self.n_sites):
            base = SITE_NAMES[s % len(SITE_NAMES)]
            name = base if s < len(SITE_NAMES) else f"{base[:3]}{s // len(SITE_NAMES) + 1}"
            self.sites.append(check_name(name))
        # Spread BMCs over sites (a bit uneven), then into racks of 16..42 BMCs.
        weights = [rng.uniform(0.7, 1.3) for _ in self.sites]
        total = sum(weights)
        spare = n_bmcs - len(weights)  # every site gets at least one BMC
        counts = [1 + int(spare * w / total) for w in weights]
        for i in range(n_bmcs - sum(counts)):
            counts[i % len(counts)] += 1
        self.bmcs = []            # dicts: name, v4, v6, vendor, site, rack, role
        self.racks = {}           # (site, rack) -> list of bmc indexes
        self.site_racks = {s: [] for s in self.sites}
        for si, site in enumerate(self.sites):
            left = counts[si]
            r = 0
            while left > 0:
                r += 1
                if r > 250:
                    raise SystemExit("generate.py: too many racks in a site")
                size = min(left, rng.randint(16, 42))
                left -= size
                rack = f"r{r:02d}"
                self.site_racks[site].append(rack)
                primary = rng.choices(VENDORS, VENDOR_WEIGHTS)[0]
                role = rng.choice(["compute", "compute", "compute", "storage", "gpu"])
                members = []
                for slot in range(1, size + 1):
                    vendor = primary if rng.random() < 0.8 else rng.choices(VENDORS, VENDOR_WEIGHTS)[0]
                    v4 = f"10.{64 + si}.{r}.{10 + slot}"
                    v6 = f"fd00:10:{si + 1:x}:{r:x}::{10 + slot:x}" if rng.random() < v6_share else None
                    members.append(len(self.bmcs))
                    self.bmcs.append({
                        "name": check_name(f"{site}-{rack}-n{slot:02d}-bmc"),
                        "v4": v4, "v6": v6, "vendor": vendor, "site": site,
                        "rack": rack, "role": role,
                    })
                self.racks[(site, rack)] = members
        # Cells: the (site, rack, vendor) groups; selectors only ever cut along them.
        self.cells = []
        self.cell_index = {}
        for b in self.bmcs:
            key = (b["site"], b["rack"], b["vendor"])
            if key not in self.cell_index:
                self.cell_index[key] = len(self.cells)
                self.cells.append(key)

    def mask(self, site=None, rack=None, vendor=None):
        m = 0
        for i, (s, r, v) in enumerate(self.cells):
            if (site is None or s == site) and (rack is None or r == rack) and (vendor is None or v == vendor):
                m |= 1 << i
        return m

    def vendors_in(self, site=None, rack=None):
        seen = []
        for s, r, v in self.cells:
            if (site is None or s == site) and (rack is None or r == rack) and v not in seen:
                seen.append(v)
        return seen

    def write(self, out_dir):
        inv_dir = os.path.join(out_dir, "inventory")
        os.makedirs(inv_dir, exist_ok=True)
        for site in self.sites:
            lines = [f"# BMC inventory for site {site.upper()} (generated by bench/generate.py)",
                     "bmcs:"]
            for b in self.bmcs:
                if b["site"] != site:
                    continue
                lines.append(f"  - name: {b['name']}")
                if b["v6"]:
                    lines.append(f"    addresses: [{b['v4']}, {b['v6']}]")
                else:
                    lines.append(f"    address: {b['v4']}")
                lines.append(f"    vendor: {b['vendor']}")
                lines.append(f"    site: {site}")
                lines.append(f"    rack: {b['rack']}")
                lines.append(f"    role: {b['role']}")
            with open(os.path.join(inv_dir, f"{site}.yaml"), "w", encoding="utf-8", newline="\n") as f:
                f.write("\n".join(lines) + "\n")


class People:
    """Sources: admin hosts in teams, jump hosts, NOC networks, partner networks.

    Every source is a set of "principals" (disjoint address blocks) for the coverage
    bookkeeping; `defs` is the list of definitions in output order.
    """

    def __init__(self, rng, inv, n_admins, v6_share, n_teams=None):
        self.defs = []          # (kind, name, text)
        self.principals = []    # names of disjoint address blocks
        self.sources = {}       # source name -> list of principal ids
        self.ipmi_ok = {}       # source name -> True when inside one /24 and one /64
        if n_teams is None:
            n_teams = max(2, min(200, math.ceil(n_admins / 6)))
        self.teams = []
        per_team = [n_admins // n_teams + (1 if t < n_admins % n_teams else 0) for t in range(n_teams)]
        if max(per_team) > 245:
            raise SystemExit("generate.py: more than 245 admin hosts in a group (one /24 each); "
                             "use more --admin-groups")
        for t in range(n_teams):
            team = check_name(f"team-t{t + 1:02d}")
            members = []
            for i in range(max(1, per_team[t])):
                name = check_name(f"adm-t{t + 1:02d}-{i + 1:02d}")
                addr = f"10.20.{t + 1}.{10 + i}"
                if rng.random() < v6_share:
                    addr += f", fd00:20:{t + 1:x}::{10 + i:x}"
                self._principal(name, "host", addr)
                members.append(name)
            self.defs.append(("group", team, ", ".join(members)))
            self.sources[team] = [self.sources[m][0] for m in members]
            self.ipmi_ok[team] = True
            # A team looks after a few sites.
            self.teams.append((team, members, rng.sample(inv.sites, min(len(inv.sites), rng.randint(1, 3)))))
        self.jumps = {}
        for si, site in enumerate(inv.sites):
            hosts = []
            for j in (1, 2):
                name = check_name(f"jump-{site}-{j}")
                self._principal(name, "host", f"10.21.{si + 1}.{4 + j}, fd00:21:{si + 1:x}::{4 + j:x}")
                hosts.append(name)
            group = check_name(f"jumps-{site}")
            self.defs.append(("group", group, ", ".join(hosts)))
            self.sources[group] = [self.sources[h][0] for h in hosts]
            self.ipmi_ok[group] = True
            self.jumps[site] = (group, hosts)
        self.nocs = []
        for k in range(1, 1 + max(2, min(8, len(inv.sites)))):
            name = check_name(f"noc-{k}")
            self._principal(name, "network", f"10.30.{k}.0/24, fd00:30:{k:x}::/64")
            self.nocs.append(name)
        self.partners = []
        for k in range(1, 1 + max(2, min(6, len(inv.sites)))):
            name = check_name(f"contractor-{k}")
            self._principal(name, "network", f"10.40.{k}.0/24")
            self.partners.append(name)
        for k in range(1, 3):
            name = check_name(f"vendor-vpn-{k}")
            self._principal(name, "network", f"10.41.{k}.0/24")
            self.partners.append(name)
        self.defs.append(("group", "partners", ", ".join(self.partners)))
        self.sources["partners"] = [self.sources[p][0] for p in self.partners]
        self.ipmi_ok["partners"] = False
        staff = [t for t, _, _ in self.teams] + [g for g, _ in self.jumps.values()] + self.nocs
        self.defs.append(("group", "staff", ", ".join(staff)))

    def _principal(self, name, kind, text):
        self.defs.append((kind, name, text))
        self.sources[name] = [len(self.principals)]
        self.ipmi_ok[name] = True
        self.principals.append(name)


class Coverage:
    """Which (principal, port atom, cell) triples the allow rules cover, and how often."""

    def __init__(self):
        self.once = {}
        self.twice = {}

    def keys(self, rule):
        return [(p, q) for p in rule["principals"] for q in rule["atoms"]]

    def adds_new(self, rule):
        m = rule["mask"]
        return any(m & ~self.once.get(k, 0) for k in self.keys(rule))

    def add(self, rule):
        m = rule["mask"]
        for k in self.keys(rule):
            o = self.once.get(k, 0)
            self.twice[k] = self.twice.get(k, 0) | (o & m)
            self.once[k] = o | m

    def private(self, rule):
        m = rule["mask"]
        return any(m & ~self.twice.get(k, 0) for k in self.keys(rule))


def port_atoms(services):
    """Cut (proto, port) space along every item; returns name -> list of atom ids."""
    cuts = {"tcp": set(), "udp": set()}
    for items in services.values():
        for proto, lo, hi, _ in items:
            cuts[proto].update((lo, hi + 1))
    atoms = {}
    for proto in ("tcp", "udp"):
        pts = sorted(cuts[proto])
        for a, b in zip(pts, pts[1:]):
            atoms[(proto, a, b - 1)] = len(atoms)
    result = {}
    for name, items in services.items():
        ids = []
        for proto, lo, hi, _ in items:
            for (p, a, b), i in atoms.items():
                if p == proto and lo <= a and b <= hi and i not in ids:
                    ids.append(i)
        result[name] = sorted(ids)
    return result


class Model:
    """The generated policy, independent of the language it is written in.

    `rules` lists every rule in policy order as dicts with `action` ("allow" or
    "deny"), `src` and `dst` (names, or "any" / "bmcs"), `svcs` (service names; empty
    for every protocol), `log`, `until` (YYYY-MM-DD or None), `waive`, `text` and
    `section` (which block of the policy it belongs to). Address definitions:
    `ppl.defs` (people), `INFRA` (servers), `bmc_defs` (name -> (selector text, mask of
    inventory cells)), of which only the names in `used` are written. `write_wall` and
    `aerleon_policy.write` format the same model, so both tools get the same policy.
    """


def build(args):
    """Everything random happens here, in a fixed order; the writers only format."""
    rng = random.Random(args.seed)
    n_admins = args.admins if args.admins is not None else max(8, min(600, args.rules // 3 + 8))
    inv = Inventory(rng, args.bmcs, args.ipv6_share, args.gateways)
    ppl = People(rng, inv, n_admins, args.ipv6_share, args.admin_groups)
    atoms = port_atoms(SERVICES)

    bmc_defs = {}   # name -> text (only the used ones are written)
    def bmc_def(name, site=None, rack=None, vendor=None):
        check_name(name)
        if name not in bmc_defs:
            conds = []
            if site is not None:
                conds.append(f'site = "{site}"')
            if rack is not None:
                conds.append(f'rack = "{rack}"')
            if vendor is not None:
                conds.append(f'vendor = "{vendor}"')
            bmc_defs[name] = (f"inventory({', '.join(conds)})", inv.mask(site, rack, vendor))
        return name

    def ticket():
        return f"{rng.choice(TICKETS)}-{rng.randint(100, 9999)}"

    def make_rule(src, dst, svcs, text=None, log=False, until=None):
        items = [it for s in svcs for it in SERVICES[s]]
        ids = sorted({a for s in svcs for a in atoms[s]})
        rule = {"src": src, "dst": dst, "svcs": svcs, "principals": ppl.sources[src],
                "atoms": ids, "mask": bmc_defs[dst][1], "text": text, "log": log,
                "until": until, "waive": None}
        if is_cleartext(items):
            rule["waive"] = f'waive BW206 "vendor console needs it, {ticket()}"'
        if has_ipmi(items) and not ppl.ipmi_ok[src]:
            return None
        return rule

    def candidate():
        kind = rng.choices(["team-rack", "host-rack", "team-site", "jump-site-vendor",
                            "noc-vendor", "temp-rack"], [35, 20, 10, 15, 10, 10])[0]
        team, members, sites = rng.choice(ppl.teams)
        site = rng.choice(sites)
        rack = rng.choice(inv.site_racks[site])
        if kind == "team-rack":
            svcs = rng.choice([["ssh", "redfish"], ["redfish"], ["ssh"], ["redfish", "ipmi"],
                               ["ssh", "redfish", "ipmi"], ["serial-console"], ["bmc-web-alt"]])
            dst = bmc_def(f"{site}-{rack}", site=site, rack=rack)
            return make_rule(team, dst, svcs, f"{team} manages {site} rack {rack}")
        if kind == "host-rack":
            vendor = rng.choice(inv.vendors_in(site, rack))
            svc = VENDOR_SERVICE[vendor]
            dst = bmc_def(f"{site}-{rack}-{vendor}", site=site, rack=rack, vendor=vendor)
            return make_rule(rng.choice(members), dst, [svc], f"{vendor} console, {ticket()}")
        if kind == "team-site":
            svcs = rng.choice([["redfish"], ["https"], ["redfish-events"], ["fw-update"]])
            dst = bmc_def(f"{site}-all", site=site)
            return make_rule(team, dst, svcs, f"{team} monitoring of {site}")
        if kind == "jump-site-vendor":
            group, hosts = ppl.jumps[site]
            src = rng.choice([group] + hosts)
            vendor = rng.choice(inv.vendors_in(site))
            svcs = rng.choice([[VENDOR_SERVICE[vendor]], [VENDOR_SERVICE[vendor], "ipmi"], ["ipmi"]])
            dst = bmc_def(f"{site}-{vendor}", site=site, vendor=vendor)
            return make_rule(src, dst, svcs, f"jump hosts of {site} to {vendor} BMCs",
                             log=rng.random() < 0.3)
        if kind == "noc-vendor":
            vendor = rng.choice(inv.vendors_in())
            svcs = rng.choice([["redfish"], ["redfish-events"], ["https", "ipmi"]])
            if vendor == "hpe" and rng.random() < 0.5:
                svcs = ["hpe-ams"]
            dst = bmc_def(f"{vendor}-all", vendor=vendor)
            return make_rule(rng.choice(ppl.nocs), dst, svcs, f"NOC monitoring of {vendor} BMCs")
        # temp-rack: a time-limited vendor-KVM or firmware window
        svcs = rng.choice([["vendor-kvm"], ["dell-racadm"], ["fw-update"], ["vendor-kvm", "ssh"]])
        dst = bmc_def(f"{site}-{rack}", site=site, rack=rack)
        until = f"{rng.choice([2027, 2027, 2028])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return make_rule(rng.choice(members), dst, svcs, f"maintenance window, {ticket()}", until=until)

    # Fixed rules: partner denies + partner allow + ntp + syslog + final deny.
    pairs = [(p, s) for p in ppl.partners for s in inv.sites]
    n_denies = max(1, min(len(pairs) - 1, args.rules // 40))
    n_allows = args.rules - n_denies - 4
    if n_allows < 1:
        raise SystemExit("generate.py: --rules must be at least %d" % (n_denies + 5))
    deny_pairs = rng.sample(pairs, n_denies)

    rules = []
    cov = Coverage()
    attempts = 0
    while True:
        while len(rules) < n_allows:
            attempts += 1
            if attempts > 200 * n_allows + 10000:
                raise SystemExit(f"generate.py: cannot find {n_allows} distinct allow rules; "
                                 "use more --bmcs or --admins")
            r = candidate()
            if r is not None and cov.adds_new(r):
                cov.add(r)
                rules.append(r)
        # Keep only rules that own a flow no other allow covers; top up if needed.
        keep = [r for r in rules if cov.private(r)]
        if len(keep) == len(rules):
            break
        rules = keep
        cov = Coverage()
        for r in rules:
            cov.add(r)

    # Used definitions.
    used = set()
    for r in rules:
        used.add(r["dst"])
        used.update(r["svcs"])
    for _, s in deny_pairs:
        bmc_def(f"{s}-all", site=s)
        used.add(f"{s}-all")

    # The fixed rules around the generated allows, in policy order.
    all_rules = []
    for p, s in deny_pairs:
        all_rules.append({"action": "deny", "src": p, "dst": f"{s}-all", "svcs": ["https"],
                          "log": False, "until": None, "waive": None,
                          "text": f"no {p} access to {s.upper()}, {ticket()}", "section": "exceptions"})
    for r in rules:
        all_rules.append({"action": "allow", "src": r["src"], "dst": r["dst"], "svcs": r["svcs"],
                          "log": r["log"], "until": r["until"], "waive": r["waive"],
                          "text": r["text"], "section": "access"})
    all_rules.append({"action": "allow", "src": "partners", "dst": "bmcs", "svcs": ["https"],
                      "log": False, "until": "2027-06-30", "waive": None,
                      "text": "vendor and contractor support portal", "section": "access"})
    all_rules.append({"action": "allow", "src": "bmcs", "dst": "ntp-servers", "svcs": ["ntp"],
                      "log": False, "until": None, "waive": None, "text": "time",
                      "section": "egress"})
    all_rules.append({"action": "allow", "src": "bmcs", "dst": "syslog-servers", "svcs": ["syslog"],
                      "log": False, "until": None, "waive": None, "text": "BMC logs",
                      "section": "egress"})
    all_rules.append({"action": "deny", "src": "any", "dst": "bmcs", "svcs": [],
                      "log": not args.no_final_log, "until": None, "waive": None, "text": None,
                      "section": "final"})

    model = Model()
    model.args = args
    model.n_admins = n_admins
    model.inv = inv
    model.ppl = ppl
    model.bmc_defs = bmc_defs
    model.used = used
    model.rules = all_rules
    model.n_generated = len(rules)
    model.n_denies = n_denies
    model.deny_pairs = deny_pairs
    return model


SECTIONS = {"exceptions": "# Exceptions first: partner networks kept out of some sites",
            "access": "# Access to the BMCs",
            "egress": "# What the BMCs may reach"}


def wall_rule(r):
    """One rule in the bmcwall language."""
    head = f"{r['action']:<5} {r['src']} -> {r['dst']}"
    if r["svcs"]:
        head += f" : {', '.join(r['svcs'])}"
    attrs = []
    if r["log"]:
        attrs.append("log")
    if r["until"]:
        attrs.append(f"until {r['until']}")
    if r["waive"]:
        attrs.append(r["waive"])
    if r["text"] is not None:
        attrs.append('"' + r["text"] + '"')
    if r["section"] == "exceptions":
        return f"{head} {' '.join(attrs)};"
    return f"{head}  {'  '.join(attrs)};" if attrs else f"{head};"


def write_wall(model, out_dir):
    """DIR/policy.wall and DIR/inventory/<site>.yaml."""
    args, inv, ppl, bmc_defs, used = model.args, model.inv, model.ppl, model.bmc_defs, model.used
    out = []
    w = out.append
    w(f"# policy.wall: generated by bench/generate.py --bmcs {args.bmcs} --rules {args.rules} "
      f"--admins {model.n_admins} --ipv6-share {args.ipv6_share} --seed {args.seed}"
      + (f" --admin-groups {args.admin_groups}" if args.admin_groups is not None else "")
      + (" --no-final-log" if args.no_final_log else "")
      + (f" --gateways {args.gateways}" if args.gateways else ""))
    w(f"# {len(inv.bmcs)} BMCs in {len(inv.sites)} sites, {len(inv.racks)} racks; "
      f"{len(ppl.principals)} source blocks; {args.rules} rules.")
    w("internal 10.0.0.0/8, fd00::/8;")
    w("")
    for site in inv.sites:
        w(f'inventory "inventory/{site}.yaml";')
    w("")
    if args.gateways:
        w("# One gateway in front of each site's BMCs")
        for si, site in enumerate(inv.sites):
            w(f'gateway gw-{site} = 10.{64 + si}.0.1 {{ scope inventory(site = "{site}"); }}')
        w("")
    w("# Infrastructure the BMCs talk to")
    for kind, name, text in INFRA:
        w(f"{kind:<7} {name:<6} = {text};")
    w("")
    w("# People, jump hosts, NOC and partner networks")
    width = max(len(n) for _, n, _ in ppl.defs)
    for kind, name, text in ppl.defs:
        w(f"{kind:<7} {name:<{width}} = {text};")
    w("")
    w("# BMC groups (from the inventory labels)")
    width = max(len(n) for n in bmc_defs)
    for name, (text, _) in bmc_defs.items():
        if name in used:
            w(f"bmc     {name:<{width}} = {text};")
    w("")
    customs = [(name, text) for name, (_, text) in CUSTOM.items() if name in used]
    if customs:
        w("# Custom services")
        for name, text in customs:
            w(f"service {name} = {text};")
        w("")
    section = None
    for r in model.rules:
        if r["section"] != section:
            if section is not None:
                w("")
            section = r["section"]
            if section in SECTIONS:
                w(SECTIONS[section])
        w(wall_rule(r))
    w("")
    w("# Expectations")
    w('expect deny internet -> bmcs  "BMCs are not on the internet";')
    w('expect deny bmcs -> internet  "BMCs do not call home";')
    w('expect deny staff -> bmcs : telnet  "nobody uses telnet";')
    p, s = model.deny_pairs[0]
    w(f"expect deny {p} -> {s}-all : https;")
    generated = [r for r in model.rules if r["section"] == "access"][:model.n_generated]
    for r in generated[:2]:
        w(f"expect allow {r['src']} -> {r['dst']} : {r['svcs'][0]};")

    os.makedirs(out_dir, exist_ok=True)
    inv.write(out_dir)
    with open(os.path.join(out_dir, "policy.wall"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")


def late_flow(model):
    """An allowed TCP flow that first-match decides late: from a partner network to a
    BMC of a site that partner is not denied, on https, decided by the partner allow
    that follows every generated allow (only the two egress rules and the final deny
    come after it). Returns (src, dst, proto, port, rule number)."""
    denied = set(model.deny_pairs)
    partner, site = next((p, s) for p in model.ppl.partners for s in model.inv.sites
                         if (p, s) not in denied)
    text = next(t for _, n, t in model.ppl.defs if n == partner)
    a, b, c, _ = text.split("/")[0].split(".")
    src = f"{a}.{b}.{c}.10"
    dst = [x["v4"] for x in model.inv.bmcs if x["site"] == site][-1]
    number = next(i for i, r in enumerate(model.rules, 1)
                  if r["src"] == "partners" and r["action"] == "allow")
    return src, dst, "tcp", 443, number


def generate(args):
    model = build(args)
    write_wall(model, args.out)
    with open(os.path.join(args.out, "late-flow.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("%s %s %s %d %d\n" % late_flow(model))
    terms = ""
    if args.aerleon:
        import aerleon_policy
        n = aerleon_policy.write(model, os.path.join(args.out, "aerleon"))
        terms = f", {n} Aerleon terms"
    inv, ppl = model.inv, model.ppl
    v6 = sum(1 for b in inv.bmcs if b["v6"])
    print(f"{args.out}: {len(inv.bmcs)} BMCs ({v6} dual-stack), {len(inv.sites)} sites, "
          f"{len(inv.racks)} racks, {len(inv.cells)} rack/vendor cells, "
          f"{len(ppl.principals)} source blocks, {args.rules} rules "
          f"({model.n_generated} generated allows, {model.n_denies} denies){terms}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bmcs", type=int, required=True, help="number of BMCs")
    ap.add_argument("--rules", type=int, required=True, help="number of rules (at least 6)")
    ap.add_argument("--admins", type=int, default=None,
                    help="number of admin hosts (default: rules/3 + 8, at most 600)")
    ap.add_argument("--admin-groups", type=int, default=None,
                    help="number of admin teams the admin hosts are split into "
                         "(default: admins/6, from 2 to 200)")
    ap.add_argument("--ipv6-share", type=float, default=0.3,
                    help="share of dual-stack BMCs and admin hosts (0..1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-final-log", action="store_true",
                    help="write the final `deny any -> bmcs;` without `log`")
    ap.add_argument("--aerleon", action="store_true",
                    help="also write the same policy for Aerleon's nftables generator "
                         "into DIR/aerleon (see bench/aerleon_policy.py)")
    ap.add_argument("--gateways", type=int, default=None,
                    help="spread the BMCs over this many sites, each behind a `gateway` of "
                         "its own (a fleet)")
    ap.add_argument("--out", required=True, help="output directory")
    args = ap.parse_args()
    if args.gateways is not None and not 2 <= args.gateways <= min(190, args.bmcs):
        ap.error("need 2 <= --gateways <= min(190, --bmcs)")
    if args.bmcs < 1 or not 0.0 <= args.ipv6_share <= 1.0:
        ap.error("need --bmcs >= 1 and 0 <= --ipv6-share <= 1")
    if args.admins is not None and not 1 <= args.admins <= 48000:
        ap.error("need 1 <= --admins <= 48000")
    if args.admin_groups is not None and not 1 <= args.admin_groups <= 250:
        ap.error("need 1 <= --admin-groups <= 250")
    generate(args)


if __name__ == "__main__":
    main()
