"""bench/run.sh's inputs and checks that are easier in Python than in the shell. Each prints one
line starting OK or WRONG (or, for `pacing`, one TSV row for bench/table.py).

  checks.py mailmerge-inputs SAMPLE_DIR PREVIEW_DIR USERS OUT_DIR
  checks.py mailmerge-output OUT_TXT DATABASE_CSV
  checks.py preview-output OUT_DIR MADE_DIR USERS
  checks.py once DUMP_DIR MAPPING_CSV REPORT_JSON WHAT
  checks.py counted BEFORE AFTER AGAIN EXPECTED REPORT_JSON
  checks.py pacing DUMP_DIR PER_MINUTE
"""

import collections
import csv
import email
import email.policy
import glob
import json
import os
import sys


def mapping_users(path):
    """(source UPN, target UPN, target email) of each `User` row of an identity map."""
    with open(path, newline="", encoding="utf-8") as f:
        return [(r[2], r[3], r[4]) for r in csv.reader(f) if r and r[0] == "User"]


def directory(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {r["UserPrincipalName"].lower(): r for r in csv.DictReader(f)}


def mailmerge_inputs(sample, preview, users, out):
    """mailmerge's database (the first USERS users) and a template made from one English notice
    of the preview: its text and HTML parts as written, the user's values as Jinja fields."""
    os.makedirs(out, exist_ok=True)
    people = directory(os.path.join(sample, "directory.csv"))
    rows = []
    for source, target, mail in mapping_users(os.path.join(sample, "identity-map.csv"))[:int(users)]:
        d = people.get(target.lower(), {})
        rows.append({"email": mail, "name": d.get("DisplayName", ""), "given": d.get("GivenName", ""),
                     "source": source, "target": target})
    with open(os.path.join(out, "database.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    by_mail = {m.lower(): (s, t) for s, t, m in mapping_users(os.path.join(sample, "identity-map.csv"))}
    for path in sorted(glob.glob(os.path.join(preview, "**", "*.eml"), recursive=True)):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        to = msg["To"].addresses[0].addr_spec.lower()
        d = people.get(to)
        if not d or not d["PreferredLanguage"].startswith("en") or not d["DisplayName"].isascii():
            continue
        source, target = by_mail[to]
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        fields = [(d["DisplayName"], "{{name}}"), (d["GivenName"], "{{given}}"),
                  (source, "{{source}}"), (target, "{{target}}"), (to, "{{email}}")]

        def jinja(s):
            s = s.replace("{{", "{{ '{{' }}").replace("{%", "{{ '{%' }}")
            for value, field in fields:
                s = s.replace(value, field)
            return s

        template = (f"TO: {{{{email}}}}\nFROM: {msg['From']}\nSUBJECT: {jinja(str(msg['Subject']))}\n"
                    "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"t2t-bench\"\n\n"
                    f"--t2t-bench\nContent-Type: text/plain; charset=utf-8\n\n{jinja(text)}\n"
                    f"--t2t-bench\nContent-Type: text/html; charset=utf-8\n\n{jinja(html)}\n--t2t-bench--\n")
        with open(os.path.join(out, "template.txt"), "w", encoding="utf-8") as f:
            f.write(template)
        with open(os.path.join(out, "server.conf"), "w") as f:
            f.write("[smtp_server]\nhost = 127.0.0.1\nport = 25\nratelimit = 0\n")
        return
    sys.exit(f"no English notice with an ASCII name in {preview}")


def mailmerge_output(out, database):
    """Every row of the database printed once, in order, to its own address."""
    with open(database, newline="", encoding="utf-8") as f:
        want = [r["email"] for r in csv.DictReader(f)]
    sent = tos = 0
    with open(out, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(">>> message ") and line.rstrip().endswith(" sent"):
                sent += 1
            elif line.startswith("TO: ") or line.startswith("To: "):
                if tos < len(want) and line.split(None, 1)[1].strip() == want[tos]:
                    tos += 1
    ok = sent == len(want) and tos == len(want)
    print(f"{'OK' if ok else 'WRONG'} preview reference (mailmerge --dry-run): {sent} of {len(want)} "
          f"messages printed, {tos} to the database's address in order")


def preview_output(out, made, users):
    """One notice per user, the same files as the build's first preview."""
    def files(d):
        return sorted(os.path.relpath(os.path.join(r, n), d) for r, _, ns in os.walk(d) for n in ns)
    got, want = files(out), files(made)
    emls = sum(1 for p in got if p.endswith(".eml"))
    ok = got == want and emls == int(users)
    print(f"{'OK' if ok else 'WRONG'} preview t2t-notify: {len(got)} files ({emls} notices for {users} users), "
          f"{'the same names as' if got == want else 'NOT the same names as'} the first preview's {len(want)}")


def dumped(dump):
    """recipient -> count, and each message's arrival time (the dump file's mtime)."""
    got, times = collections.Counter(), []
    for name in os.listdir(dump):
        path = os.path.join(dump, name)
        times.append(os.stat(path).st_mtime)
        with open(path, errors="replace") as f:
            for line in f:
                if not line.strip():
                    break
                if line.startswith("X-Rcpt-Args: "):
                    got[line.split()[1].strip("<>").lower()] += 1
    return got, sorted(times)


def states(report):
    return collections.Counter(u["state"] for c in json.load(open(report))["campaigns"] for u in c["users"])


def once(dump, mapping, report, what):
    got, _ = dumped(dump)
    want = {m.lower() for _, _, m in mapping_users(mapping)}
    st = states(report)
    n_once = sum(1 for a in want if got[a] == 1)
    extra = sum(n for a, n in got.items() if a not in want)
    ok = n_once == len(want) and extra == 0 and max(got.values(), default=0) == 1 and st.get("sent") == len(want)
    print(f"{'OK' if ok else 'WRONG'} {what} exactly once: {n_once} of {len(want)} recipients got exactly one "
          f"message, {sum(got.values())} messages dumped, {extra} to unknown addresses; ledger states {dict(st)}")


def counted(before, after, again, expected, report):
    first, second, n = int(after) - int(before), int(again) - int(after), int(expected)
    st = states(report)
    ok = first == n and second == 0 and st.get("sent") == n
    print(f"{'OK' if ok else 'WRONG'} send_100k: the send added {first} to the sink's counter (expected {n}), "
          f"ledger states {dict(st)}; a second send over that ledger added {second} (expected 0)")


def dashboard(status, expected, rss_kb):
    """The dashboard's status counts every person of the ledger as sent, with the funnel."""
    s = json.load(open(status))
    sent = sum(c["counts"]["sent"] for c in s["campaigns"])
    funnel = (s.get("funnel") or {}).get("notified", {}).get("count")
    n = int(expected)
    ok = sent == n and funnel == n
    print(f"{'OK' if ok else 'WRONG'} dashboard: /api/status counts {sent} sent (expected {n}), "
          f"funnel notified {funnel}; serve's RSS after the timed requests {int(rss_kb) // 1024} MB")


def pacing(dump, per_minute):
    """TSV: messages, busiest 60 s window, share of the limit used, first-to-last seconds."""
    _, t = dumped(dump)
    limit = int(per_minute)
    j = busiest = 0
    for i in range(len(t)):
        while t[i] - t[j] >= 60:
            j += 1
        busiest = max(busiest, i - j + 1)
    span = t[-1] - t[0] if len(t) > 1 else 0
    # n messages at the limit's pace take (n - 1) intervals of 60 / limit seconds.
    share = (len(t) - 1) * 60 / limit / span if span else 0
    print(f"pacing\t{len(t)}\t{busiest}\t{share:.4f}\t{span:.1f}\t{limit}")


if __name__ == "__main__":
    commands = {"mailmerge-inputs": mailmerge_inputs, "mailmerge-output": mailmerge_output,
                "preview-output": preview_output, "once": once, "counted": counted, "pacing": pacing,
                "dashboard": dashboard}
    commands[sys.argv[1]](*sys.argv[2:])
