#!/usr/bin/env python3
"""Checks on circle JSON for the integration tests (`kith circles --json`,
`kith circle members NAME --json`, `kith log '#NAME' --json`).

usage:
  circle_check.py circle CIRCLES.json NAME FIELD   print FIELD of circle NAME ("absent" if none)
  circle_check.py count LOG.json [--kind K] [--prefix P]
                                                   entries (of kind K / text starting with P)
  circle_check.py members MEMBERS.json             "name admin online me" per member
  circle_check.py same LOG.json...                 every log holds the same (id, text)
                                                   sequence, without duplicate ids
  circle_check.py exact LOG.json TEXTS [--prefix P]
                                                   the log's texts (starting with P) are
                                                   exactly the lines of TEXTS, each once
  circle_check.py none LOG.json TEXTS              no line of TEXTS appears as a text
  circle_check.py sane LOG.json                    every entry has the contract's fields,
                                                   a 32-hex id, a known kind and state
Exit 0 when the check holds; otherwise 1 with one line saying why.
"""
import collections
import json
import re
import sys

KINDS = {"text", "checkin", "support", "support_reply"}
STATES = {"queued", "sent", "delivered", "received"}
FIELDS = ("id", "from", "text", "ts", "state", "kind", "epoch", "received_ms")


def load(path):
    with open(path) as f:
        return json.load(f)


def lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def opt(args, name, default=None):
    if name in args:
        i = args.index(name)
        return args[i + 1]
    return default


def cmd_circle(args):
    for c in load(args[0]):
        if c.get("name") == args[1]:
            print(c.get(args[2], "absent"))
            return 0
    print("absent")
    return 0


def cmd_count(args):
    kind, prefix = opt(args, "--kind"), opt(args, "--prefix")
    n = 0
    for m in load(args[0]):
        if kind is not None and m.get("kind") != kind:
            continue
        if prefix is not None and not str(m.get("text", "")).startswith(prefix):
            continue
        n += 1
    print(n)
    return 0


def cmd_members(args):
    for m in load(args[0]):
        print(m["name"], int(bool(m["admin"])), int(bool(m["online"])), int(bool(m["me"])))
    return 0


def seq(log):
    return [(m["id"], m["text"]) for m in log]


def cmd_same(args):
    logs = [(p, load(p)) for p in args]
    for p, log in logs:
        ids = collections.Counter(m["id"] for m in log)
        dup = [i for i, c in ids.items() if c > 1]
        if dup:
            print("%s: %d ids appear more than once (first %s)" % (p, len(dup), dup[0]))
            return 1
    ref_path, ref = logs[0][0], seq(logs[0][1])
    for p, log in logs[1:]:
        s = seq(log)
        if s == ref:
            continue
        if len(s) != len(ref):
            only_ref = set(ref) - set(s)
            only_s = set(s) - set(ref)
            print("%s has %d entries, %s has %d (%d only in the first, %d only in the second)"
                  % (ref_path, len(ref), p, len(s), len(only_ref), len(only_s)))
            return 1
        for i, (a, b) in enumerate(zip(ref, s)):
            if a != b:
                why = "same entries, different order" if set(ref) == set(s) else "different entries"
                print("%s and %s differ at position %d: %r vs %r (%s)" % (ref_path, p, i, a, b, why))
                return 1
    print("same: %d logs, %d entries each, identical order" % (len(logs), len(ref)))
    return 0


def cmd_exact(args):
    log, want = load(args[0]), collections.Counter(lines(args[1]))
    prefix = opt(args, "--prefix", "")
    got = collections.Counter(m["text"] for m in log if str(m["text"]).startswith(prefix))
    missing, extra = want - got, got - want
    doubled = [t for t, c in got.items() if c > 1]
    if missing or extra or doubled:
        print("%s: %d expected texts missing (first %r), %d unexpected or doubled (first %r)"
              % (args[0], sum(missing.values()), next(iter(missing), None),
                 sum(extra.values()), next(iter(extra), None)))
        return 1
    print("exact: %d texts, each once" % sum(want.values()))
    return 0


def cmd_none(args):
    log, bad = load(args[0]), set(lines(args[1]))
    seen = [m for m in log if m["text"] in bad]
    if seen:
        print("%s holds %d texts it must never see (first %r, epoch %s)"
              % (args[0], len(seen), seen[0]["text"], seen[0].get("epoch")))
        return 1
    print("none: 0 of %d forbidden texts present" % len(bad))
    return 0


def cmd_sane(args):
    for i, m in enumerate(load(args[0])):
        missing = [f for f in FIELDS if f not in m]
        if missing:
            print("%s[%d]: missing fields %s in %r" % (args[0], i, missing, m))
            return 1
        if not re.fullmatch(r"[0-9a-f]{32}", str(m["id"])):
            print("%s[%d]: id %r is not 32 hex digits" % (args[0], i, m["id"]))
            return 1
        if m["kind"] not in KINDS or m["state"] not in STATES:
            print("%s[%d]: unknown kind or state in %r" % (args[0], i, m))
            return 1
    print("sane")
    return 0


def main():
    cmds = {"circle": cmd_circle, "count": cmd_count, "members": cmd_members, "same": cmd_same,
            "exact": cmd_exact, "none": cmd_none, "sane": cmd_sane}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return cmds[sys.argv[1]](sys.argv[2:])
    except (OSError, ValueError, KeyError, TypeError) as e:
        print("circle_check %s: %s" % (sys.argv[1], e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
