"""Prints the benchmark table from bench/run.sh's results: median, min, max, peak RSS, rate,
and the ratio of t2t-notify to the reference measured in the same run, with each goal."""

import json
import sys

GOALS = {
    "validate": ("time", 2.0, 200_000, "under 2 s, under 200 MB peak RSS"),
    "preview": ("time", 5.0, None, "under 5 s"),
    "send": ("rate", 0.7, None, "at least 0.7 of the reference's rate"),
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


def main():
    rows = load(sys.argv[1])
    head = f"{'case':<9} {'who':<11} {'median s':>9} {'min s':>8} {'max s':>8} {'peak MB':>8} {'per s':>10} {'ratio':>7}  goal"
    print(head)
    print("-" * len(head))
    for case, roles in rows.items():
        ref = roles.get("reference")
        for role in ("reference", "t2t-notify"):
            r = roles.get(role)
            if not r:
                continue
            rate = r["units"] / r["median"] if r["median"] else 0
            ratio = ""
            goal = ""
            if role == "t2t-notify":
                kind, limit, rss_limit, text = GOALS[case]
                if ref:
                    if kind == "rate":
                        ratio = f"{(ref['median'] / r['median']):.2f}"
                    else:
                        ratio = f"{(r['median'] / ref['median']):.1f}x"
                ok = (r["median"] < limit) if kind == "time" else (ref and ref["median"] / r["median"] >= limit)
                if rss_limit and r["peak_kb"]:
                    ok = ok and r["peak_kb"] < rss_limit
                goal = f"{text}: {'met' if ok else 'NOT met'}"
            peak = f"{r['peak_kb'] / 1024:.0f}" if r["peak_kb"] else "-"
            print(f"{case:<9} {role:<11} {r['median']:>9.3f} {r['min']:>8.3f} {r['max']:>8.3f} {peak:>8} {rate:>10.0f} {ratio:>7}  {goal}")
    print("\nratio: time cases = t2t-notify time / reference time; rate cases = t2t-notify rate / reference rate")


if __name__ == "__main__":
    main()
