"""Prints the benchmark table from bench/run.sh's results: median, min, max, peak RSS, rate,
and the ratio of t2t-notify's rate to the reference's rate measured in the same run, with each
goal of issue 16, then the pacing case's figures.

A case has a `reference` row (the one the goal is measured against, if any) and a `t2t-notify`
row; other rows (e.g. `ref-15321B`, smtp-source at the notices' real size, or the preview's
write floor) are extra references, and t2t-notify's ratio to each is printed under the goal."""

import json
import sys

# case -> (time limit in s or None, least rate ratio to the reference or None,
#          peak RSS limit in KB or None, the goal as the issue words it)
GOALS = {
    "validate": (2.0, None, 200_000, "under 2 s, under 200 MB peak RSS"),
    "preview": (15.0, 14.0, None, "under 15 s, at least 14x mailmerge's dry run"),
    "send": (None, 0.25, None, "at least 0.25 of smtp-source's rate"),
    "send-100k": (None, None, 250_000, "peak RSS under 250 MB"),
    "dashboard": (0.5, None, None, "GET /api/status under 0.5 s (the page asks every second)"),
}


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            case, role, js, peak, units = line.rstrip("\n").split("\t")
            times = json.load(open(js))["results"][0]["times"]
            times.sort()
            rows.setdefault(case, {})[role] = {
                "median": times[len(times) // 2],
                "min": times[0],
                "max": times[-1],
                "peak_kb": int(peak) if peak.isdigit() else None,
                "units": int(units),
            }
    return rows


def rate(r):
    return r["units"] / r["median"] if r["median"] else 0


def ratio(ref, r):
    """t2t-notify's rate / the reference's rate (units a second: rows, users, messages)."""
    return f"{rate(r) / rate(ref):.2f}"


def goal_text(case, roles, r):
    limit, least, rss_limit, text = GOALS[case]
    ref = roles.get("reference")
    ok = True
    if limit is not None:
        ok = ok and r["median"] < limit
    if least is not None:
        ok = ok and bool(ref) and rate(r) / rate(ref) >= least
    if rss_limit is not None:
        ok = ok and r["peak_kb"] is not None and r["peak_kb"] < rss_limit
    return f"{text}: {'met' if ok else 'NOT met'}"


def line(case, role, r, ratio_text, goal):
    peak = f"{r['peak_kb'] / 1024:.0f}" if r["peak_kb"] else "-"
    return (f"{case:<9} {role:<12} {r['median']:>9.3f} {r['min']:>8.3f} {r['max']:>8.3f} "
            f"{peak:>8} {rate(r):>10.0f} {ratio_text:>7}  {goal}")


def paired(path):
    """case -> the rate ratios of alternating (reference, t2t-notify) pairs."""
    out = {}
    try:
        for line in open(path):
            case, ratios = line.rstrip("\n").split("\t")
            out[case] = sorted(float(r) for r in ratios.split(",") if r)
    except FileNotFoundError:
        pass
    return out


def main():
    rows = load(sys.argv[1])
    pairs = paired(sys.argv[2]) if len(sys.argv) > 2 else {}
    head = (f"{'case':<9} {'who':<12} {'median s':>9} {'min s':>8} {'max s':>8} {'peak MB':>8} "
            f"{'per s':>10} {'ratio':>7}  goal")
    print(head)
    print("-" * len(head))
    for case, roles in rows.items():
        refs = [role for role in roles if role != "t2t-notify"]
        refs.sort(key=lambda role: role != "reference")
        for role in refs:
            print(line(case, role, roles[role], "", ""))
        r = roles.get("t2t-notify")
        if not r:
            continue
        ref = roles.get("reference")
        print(line(case, "t2t-notify", r, ratio(ref, r) if ref else "", goal_text(case, roles, r)))
        for role in refs[1:] if ref else refs:
            print(f"{'':<9} {'':<12} {'':>9} {'':>8} {'':>8} {'':>8} {'':>10} "
                  f"{ratio(roles[role], r):>7}  (ratio to {role})")
        if case in pairs:
            p = pairs[case]
            print(f"{'':<9} {'':<12} {'':>9} {'':>8} {'':>8} {'':>8} {'':>10} "
                  f"{p[len(p) // 2]:>7.2f}  (median of {len(p)} alternating pairs with the reference: "
                  f"{', '.join(f'{x:.2f}' for x in p)})")
    if len(sys.argv) > 3:
        pacing_lines(sys.argv[3])
    print("\nratio: t2t-notify's rate / the reference's rate, both measured in this run "
          "(per s: rows, users or messages a second)")


def pacing_lines(path):
    """The paced send: its busiest 60 s window and the share of the limit it used."""
    try:
        rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    except FileNotFoundError:
        return
    for _, n, busiest, share, span, limit in rows:
        ok = int(busiest) <= int(limit) and float(share) >= 0.98
        print(f"\npacing    per_minute = {limit}: {n} messages in {float(span):.1f} s (first to last "
              f"arrival), busiest 60 s window {busiest}, {float(share) * 100:.1f}% of the limit used; "
              f"goal no window above {limit} and at least 98% used: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
