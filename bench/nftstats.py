#!/usr/bin/env python3
"""Count what an nft text ruleset makes the kernel do (standard library only).

    python3 bench/nftstats.py FILE.nft [--until REGEX]
    -> rules=N worst=W elements=E chains=C [until=U]

* rules: nft rules in all chains (a chain's `type ... hook`, `policy` and
  `comment` lines are not rules);
* worst: rules a new packet meets when no policy rule matches it: every rule of
  each base chain (a chain with a hook) in order, and for an unconditional `jump
  CHAIN` also every rule of CHAIN; for a `vmap @MAP` lookup (bmcwall's `sets`
  layout), the rules of the longest chain an element of MAP jumps to (the
  packet's source picks its row, which then accepts nothing); a conditional
  `jump`/`goto` (bmcwall's logging chains) is not taken by such a packet. A
  final `drop` rule counts, a chain's `policy drop` does not;
* elements: members of named sets (`elements = { ... }`) plus members of the
  anonymous sets written inline in rules (`{ a, b, c }`);
* chains: all chains;
* until (with --until REGEX): rules met, in the same walk, up to and including
  the first rule whose text matches REGEX; when that rule is an unconditional
  `jump`, also the first rule of the chain it jumps to (a term's first rule,
  which holds its IPv4 match in Aerleon's output), and when it is a `vmap` whose
  elements jump to chains, the first rule of such a chain (the lookup in the
  row's map, in bmcwall's `sets` layout). For the rules a flow meets before the
  rule that decides it, given a pattern for that rule.

Reads the two dialects the benchmark compares: bmcwall's output (tabs, one
rule per line, named sets) and Aerleon's (spaces, one chain per term, inline
anonymous sets). Both write one rule per line.
"""

import re
import sys

CHAIN = re.compile(r"^\s*chain\s+(\S+)\s*\{\s*$")
SET = re.compile(r"^\s*(set|map)\s+(\S+)\s*\{\s*$")
NON_RULE = re.compile(r"^\s*(type\s|policy\s|comment\s|$)")
JUMP = re.compile(r"^\s*(counter\s+)?jump\s+(\S+)\s*$")
VMAP = re.compile(r"\svmap\s+@(\S+)")
MAP_JUMP = re.compile(r":\s*jump\s+([^\s,}]+)")
INLINE_SET = re.compile(r"\{([^{}]*)\}")


def members(text):
    return len([p for p in text.split(",") if p.strip()])


def parse(lines):
    chains = {}        # name -> list of rule lines
    targets = {}       # map name -> chains its elements jump to
    base = []          # chains with a hook, in file order
    elements = 0
    current = None     # ("chain", name) or ("set", name)
    in_elements = False
    for line in lines:
        if current is None:
            m = CHAIN.match(line)
            if m:
                current = ("chain", m.group(1))
                chains[m.group(1)] = []
                continue
            m = SET.match(line)
            if m:
                current = ("set", m.group(2))
                targets[m.group(2)] = set()
            continue
        if current[0] == "set":
            targets[current[1]].update(MAP_JUMP.findall(line))
            if in_elements:
                closed = "}" in line
                elements += members(line.split("}")[0])
                in_elements = not closed
                continue
            if "elements" in line and "=" in line and "{" in line:
                after = line.split("{", 1)[1]
                elements += members(after.split("}")[0])
                in_elements = "}" not in after
                continue
            if line.strip() == "}":
                current = None
            continue
        # in a chain
        if line.strip() == "}":
            current = None
            continue
        if NON_RULE.match(line):
            if line.strip().startswith("type ") and " hook " in line:
                base.append(current[1])
            continue
        chains[current[1]].append(line.strip())
        elements += sum(members(m) for m in INLINE_SET.findall(line))
    return chains, base, elements, targets


def map_jumps(targets, rule):
    """The chains the elements of the map a `vmap` rule looks up jump to."""
    v = VMAP.search(rule)
    return targets.get(v.group(1), set()) if v else set()


def worst(chains, targets, name, seen=()):
    if name in seen:
        raise SystemExit(f"nftstats.py: jump loop through {name}")
    total = 0
    for rule in chains.get(name, []):
        total += 1
        m = JUMP.match(rule)
        if m:
            total += worst(chains, targets, m.group(2), seen + (name,))
        jumps = map_jumps(targets, rule)
        if jumps:
            total += max(worst(chains, targets, t, seen + (name,)) for t in jumps)
    return total


def until(chains, targets, name, pattern, seen=()):
    """(rules met, found) walking `name` up to the first rule matching pattern."""
    if name in seen:
        raise SystemExit(f"nftstats.py: jump loop through {name}")
    total = 0
    for rule in chains.get(name, []):
        total += 1
        m = JUMP.match(rule)
        if pattern.search(rule):
            if (m and chains.get(m.group(2))) or map_jumps(targets, rule):
                total += 1
            return total, True
        if m:
            met, found = until(chains, targets, m.group(2), pattern, seen + (name,))
            total += met
            if found:
                return total, True
    return total, False


def main():
    args = sys.argv[1:]
    pattern = None
    if len(args) == 3 and args[1] == "--until":
        pattern = re.compile(args[2])
        args = args[:1]
    if len(args) != 1:
        raise SystemExit(__doc__)
    with open(args[0], encoding="utf-8") as f:
        chains, base, elements, targets = parse(f)
    rules = sum(len(r) for r in chains.values())
    w = sum(worst(chains, targets, b) for b in base)
    line = f"rules={rules} worst={w} elements={elements} chains={len(chains)}"
    if pattern is not None:
        met = 0
        for b in base:
            n, found = until(chains, targets, b, pattern)
            met += n
            if found:
                break
        else:
            raise SystemExit(f"nftstats.py: no rule matches {pattern.pattern}")
        line += f" until={met}"
    print(line)


if __name__ == "__main__":
    main()
