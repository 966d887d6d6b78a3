"""Prints the benchmark table from bench/run.sh's results: median, min, max, peak RSS, rate,
and the ratio of t2t-notify to the reference measured in the same run, with each goal.

Every case has a `reference` row (the one the goal is measured against) and a `t2t-notify`
row; other rows (e.g. `ref-15321B`, smtp-source at the notices' real size) are extra
references, and t2t-notify's ratio to each of them is printed under the goal."""

import json
import sys

GOALS = {
    "validate": ("time", 2.0, 200_000, "under 2 s, under 200 MB peak RSS"),
    "preview": ("time", 5.0, None, "under 5 s"),
    "preview-shm": ("time", 5.0, None, "under 5 s (in memory, no disk)"),
    "send": ("rate", 0.7, None, "at least 0.7 of the reference's rate"),
    "send-4k": ("rate", 0.7, None, "at least 0.7 of the reference's rate (4 KB notices)"),
    "graph": ("rate", 0.7, None, "at least 0.7 of the reference's rate"),
    "resume": ("time", 2.0, None, "under 2 s, sends nothing"),
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


def ratio(kind, ref, r):
    """Rate cases: t2t-notify's rate / the reference's; time cases: t2t's time / the reference's."""
    if kind == "rate":
        return f"{ref['median'] / r['median']:.2f}"
    return f"{r['median'] / ref['median']:.1f}x"


def goal_text(case, roles, r):
    kind, limit, rss_limit, text = GOALS[case]
    ref = roles.get("reference")
    if kind == "time":
        ok = r["median"] < limit
    else:
        ok = bool(ref) and ref["median"] / r["median"] >= limit
    if rss_limit and r["peak_kb"]:
        ok = ok and r["peak_kb"] < rss_limit
    return f"{text}: {'met' if ok else 'NOT met'}"


def line(case, role, r, ratio_text, goal):
    rate = r["units"] / r["median"] if r["median"] else 0
    peak = f"{r['peak_kb'] / 1024:.0f}" if r["peak_kb"] else "-"
    return (f"{case:<9} {role:<12} {r['median']:>9.3f} {r['min']:>8.3f} {r['max']:>8.3f} "
            f"{peak:>8} {rate:>10.0f} {ratio_text:>7}  {goal}")


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
        kind = GOALS[case][0]
        refs = [role for role in roles if role != "t2t-notify"]
        refs.sort(key=lambda role: role != "reference")
        for role in refs:
            print(line(case, role, roles[role], "", ""))
        r = roles.get("t2t-notify")
        if not r:
            continue
        ref = roles.get("reference")
        print(line(case, "t2t-notify", r, ratio(kind, ref, r) if ref else "", goal_text(case, roles, r)))
        for role in refs[1:] if ref else refs:
            print(f"{'':<9} {'':<12} {'':>9} {'':>8} {'':>8} {'':>8} {'':>10} "
                  f"{ratio(kind, roles[role], r):>7}  (ratio to {role})")
        if case in pairs:
            p = pairs[case]
            print(f"{'':<9} {'':<12} {'':>9} {'':>8} {'':>8} {'':>8} {'':>10} "
                  f"{p[len(p) // 2]:>7.2f}  (median of {len(p)} alternating pairs with the reference: "
                  f"{', '.join(f'{x:.2f}' for x in p)})")
    print("\nratio: time cases = t2t-notify time / reference time; "
          "rate cases = t2t-notify rate / reference rate (same run)")


if __name__ == "__main__":
    main()
