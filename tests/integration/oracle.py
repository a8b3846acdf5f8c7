#!/usr/bin/env python3
"""The "nothing lost, nothing doubled" oracle (PROTOCOL-NOTES.md §4.7) for
two profiles: every message the sender committed (its log) reached the
receiver exactly once, in the sender's order, and is marked delivered.

usage: oracle.py SENDER_LOG.json RECEIVER_LOG.json [--exact N PREFIX]
The logs are `kith log PEER --json` of the sender and the receiver.
"""
import collections
import json
import sys


def main():
    snd = json.load(open(sys.argv[1]))
    rcv = json.load(open(sys.argv[2]))
    out = [m for m in snd if m["outgoing"]]
    inc = [m for m in rcv if not m["outgoing"]]
    errors = []
    ids = collections.Counter(m["id"] for m in inc)
    dup = [i for i, c in ids.items() if c > 1]
    if dup:
        errors.append("%d message ids stored twice at the receiver" % len(dup))
    sent_ids = {m["id"] for m in out}
    forged = [m for m in inc if m["id"] not in sent_ids]
    if forged:
        errors.append("%d received messages were never sent" % len(forged))
    lost = [m for m in out if m["id"] not in ids]
    if lost:
        errors.append("%d sent messages never arrived (first: %s)" % (len(lost), lost[0]["text"]))
    by_id = {m["id"]: m for m in inc}
    for m in out:
        r = by_id.get(m["id"])
        if r is not None and r["text"] != m["text"]:
            errors.append("text differs for %s" % m["id"])
            break
    undelivered = [m for m in out if m["state"] != "delivered"]
    if undelivered:
        errors.append("%d sent messages not marked delivered" % len(undelivered))
    # Per-conversation order: the receiver shows the sender's messages in send order.
    order_snd = [m["id"] for m in out]
    order_rcv = [m["id"] for m in inc]
    if not errors and order_snd != order_rcv:
        errors.append("the receiver's order differs from the sender's")
    if "--exact" in sys.argv:
        i = sys.argv.index("--exact")
        n, prefix = int(sys.argv[i + 1]), sys.argv[i + 2]
        want = collections.Counter("%s%d" % (prefix, k) for k in range(1, n + 1))
        got = collections.Counter(m["text"] for m in inc)
        missing = want - got
        if missing:
            errors.append("%d expected texts missing" % sum(missing.values()))
    if errors:
        print("oracle: " + "; ".join(errors))
        return 1
    print("oracle: %d sent, %d received, all exactly once and delivered" % (len(out), len(inc)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
