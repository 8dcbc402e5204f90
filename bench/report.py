#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turns pam_bench's raw results (raw.tsv) into the Markdown tables of BENCHMARKS.md.

usage: report.py raw.tsv machine.txt > table.md
"""
import collections
import sys

OPS = [
    ("floor", "floor: pam_permit only"),
    ("durable_update", "bare durable update (no PAM)"),
    ("user_lookup", "getpwnam() alone (no PAM)"),
    ("totp/valid", "pam_totp, valid code"),
    ("totp/wrong", "pam_totp, wrong code"),
    ("google/valid", "google-authenticator, valid code"),
    ("google/wrong", "google-authenticator, wrong code"),
    ("oath/valid", "pam_oath, valid code"),
    ("oath/wrong", "pam_oath, wrong code"),
    ("candidate/valid", "pam_totp candidate build, valid code"),
    ("candidate/wrong", "pam_totp candidate build, wrong code"),
    ("totp_pg/valid", "pam_totp (PostgreSQL store), valid code"),
    ("totp_pg/wrong", "pam_totp (PostgreSQL store), wrong code"),
]
SERVICES = [
    ("bench-floor", "floor (pam_permit)"),
    ("bench-totp", "pam_totp"),
    ("bench-google", "google-authenticator"),
    ("bench-oath", "pam_oath"),
    ("bench-candidate", "pam_totp candidate build"),
    ("bench-totp-pg", "pam_totp (PostgreSQL store)"),
]
TARGETS = {
    "google": 0.6,   # pam_totp above floor <= 0.6 x google-authenticator above floor
    "durable": 1.3,  # pam_totp above floor <= 1.3 x one bare durable update
    "scaling": 1.2,  # pam_totp at 100 000 users <= 1.2 x at 100 users
}
# totp-resetd: GET / at least this many requests/s with p99 below this, each process's
# peak RSS below 20 MB (decimal megabytes, in KiB), and so the service's: both processes'
# resident pages, each counted once (bench/service_memory.py), at every sample.
RESET_RPS, RESET_P99_US, RESET_RSS_KIB = 10000, 10000, 20e6 / 1024
RESET_PROCESSES = ("monitor", "web")
RESET_MOMENTS = (("idle", "idle"), ("get_load", "during GET load"),
                 ("post_load", "during POST load"), ("after", "after both"),
                 ("full", "after floods of new addresses (both limiters full)"),
                 ("get_full_load", "during GET load, full limiters"),
                 ("post_full_load", "during POST load, full limiters"),
                 ("after_full", "after both, full limiters"))
# pam_bench --fresh-process: the program each login ran in, and what it stands for.
FRESH_PROCESSES = [
    ("pam_once", "like sudo, su and login",
     "a C program linking libpam and libc only"),
    ("pam_once_crypto", "like sshd",
     "the same program also linking libcrypto, loaded and initialised before the login, "
     "as in sshd's PAM process"),
]

Row = collections.namedtuple(
    "Row", "count median p99 mean per_s cpu unexpected rewinds")


def load(path):
    latency, rss, enroll, logins, syslog, reset = {}, {}, {}, {}, {}, {}
    fresh = collections.defaultdict(dict)  # program -> the same as latency
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] in ("latency", "fresh_latency"):
            table = latency if f[0] == "latency" else fresh[f[1]]
            f = f if f[0] == "latency" else f[1:]
            n, p, op = int(f[1]), int(f[2]), f[3]
            table[n, p, op] = Row(int(f[4]), float(f[5]), float(f[6]), float(f[7]),
                                  float(f[8]), float(f[9]), int(f[10]), int(f[11]))
        elif f[0] == "rss":
            rss[int(f[1]), f[2]] = int(f[3])
        elif f[0] == "enroll":
            enroll[int(f[1])] = [float(x) for x in f[2:6]]
        elif f[0] == "logins":  # one line per pam_bench run: warm, then fresh processes
            logins[int(f[1]), f[2]] = logins.get((int(f[1]), f[2]), 0) + int(f[3])
        elif f[0] == "syslog":
            syslog[f[1]] = int(f[2])
        elif f[0] == "reset":
            reset[f[1]] = float(f[2])
    return latency, fresh, rss, enroll, logins, syslog, reset


def us(value):
    if value is None:
        return "–"
    if value >= 10000:
        return f"{value / 1000:.1f} ms"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def t(value):
    """A duration with its unit."""
    if value is None:
        return "–"
    return f"{value / 1000:.1f} ms" if value >= 10000 else f"{value:.0f} µs"


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def x(value):
    return "–" if value is None else f"{value:.2f}×"


def users_text(n):
    return f"{n:,}".replace(",", " ")


class Results:
    def __init__(self, latency):
        self.latency = latency
        self.users = sorted({k[0] for k in latency})
        self.procs = sorted({k[1] for k in latency})

    def row(self, n, p, op):
        return self.latency.get((n, p, op))

    def median(self, n, p, op):
        r = self.row(n, p, op)
        return r.median if r else None

    def above_floor(self, n, p, op):
        m, floor = self.median(n, p, op), self.median(n, p, "floor")
        return None if m is None or floor is None else m - floor


def latency_table(res, n):
    out = [f"### {users_text(n)} users\n"]
    head = ["operation"]
    for p in res.procs:
        head += [f"P={p} median µs", f"P={p} p99 µs"]
    head += ["CPU µs (P=1)", "× floor (P=1)", "above floor µs (P=1)"]
    head += [f"logins/s P={p}" for p in res.procs]
    head += ["refused / samples"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for op, label in OPS:
        if not any(res.row(n, p, op) for p in res.procs):
            continue
        cells = [label]
        for p in res.procs:
            r = res.row(n, p, op)
            cells += [us(r.median) if r else "–", us(r.p99) if r else "–"]
        r1 = res.row(n, res.procs[0], op)
        cells += [us(r1.cpu) if r1 else "–",
                  x(ratio(res.median(n, res.procs[0], op), res.median(n, res.procs[0], "floor"))),
                  us(res.above_floor(n, res.procs[0], op)) if op != "floor" else "–"]
        for p in res.procs:
            r = res.row(n, p, op)
            cells.append(f"{r.per_s:.0f}" if r else "–")
        refused = []
        for p in res.procs:
            r = res.row(n, p, op)
            if r and r.unexpected:
                refused.append(f"P={p}: {r.unexpected}/{r.count}")
        cells.append(", ".join(refused) if refused else "0")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def ratio_table(res, who="totp", durable=True):
    """durable=False: without the bare durable update (not measured in fresh processes)."""
    head = ["users", "P", "case", "pam_totp above floor µs"]
    head += ["÷ bare durable update"] if durable else []
    head += ["÷ google-authenticator above floor", "÷ pam_oath above floor"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n in res.users:
        for p in res.procs:
            for case in ("valid", "wrong"):
                ours = res.above_floor(n, p, f"{who}/{case}")
                if ours is None:
                    continue
                cells = [users_text(n), str(p), case, us(ours)]
                if durable:
                    cells.append(x(ratio(ours, res.median(n, p, "durable_update"))))
                cells += [x(ratio(ours, res.above_floor(n, p, f"google/{case}"))),
                          x(ratio(ours, res.above_floor(n, p, f"oath/{case}")))]
                out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def fresh_section(res, like, program_text):
    out = [f"## Fresh process per login, {like}\n",
           f"Every login in a new process ({program_text}), as on a server: sshd re-executes "
           "itself for each connection, sudo, su and login are started for each use. Timed "
           "inside that process from just before pam_start to just after pam_end: loading "
           "each module and its libraries counts; creating the process, pam_wrapper's set-up "
           "(in its library constructor, before main) and the user lookup the program makes "
           "first (as sshd and sudo do) do not. The bare durable update and getpwnam() are "
           "not measured here (no PAM, nothing to load); logins/s counts the timed windows "
           "only.\n",
           "### pam_totp against the floor and the peers (medians)\n",
           ratio_table(res, durable=False)]
    if any(op.startswith("candidate/") for (_, _, op) in res.latency):
        out += ["### Candidate build of pam_totp (PAM_BENCH_CANDIDATE), same run\n",
                ratio_table(res, "candidate", durable=False)]
    out += [latency_table(res, n) for n in res.users]
    return "\n".join(out)


def verdict(ok):
    return "**met**" if ok else "**not met**"


def targets_table(res, reset, who="totp"):
    out = ["| target | measured | result |", "|---|---|---|"]
    p1 = res.procs[0]
    for n in res.users:
        ours, ga = res.above_floor(n, p1, f"{who}/valid"), res.above_floor(n, p1, "google/valid")
        r = ratio(ours, ga)
        if r is not None:
            out.append(f"| pam_totp above floor ≤ {TARGETS['google']}× google-authenticator's "
                       f"({users_text(n)} users, P={p1}) | {t(ours)} vs {t(ga)} = {x(r)} | "
                       f"{verdict(r <= TARGETS['google'])} |")
    for n in res.users:
        ours, durable = res.above_floor(n, p1, f"{who}/valid"), res.median(n, p1, "durable_update")
        r = ratio(ours, durable)
        if r is not None:
            out.append(f"| pam_totp above floor ≤ {TARGETS['durable']}× bare durable update "
                       f"({users_text(n)} users, P={p1}) | {t(ours)} vs {t(durable)} = "
                       f"{x(r)} | {verdict(r <= TARGETS['durable'])} |")
    if len(res.users) >= 2:
        small, large = res.users[0], res.users[-1]
        for p in res.procs:
            a, b = res.median(small, p, f"{who}/valid"), res.median(large, p, f"{who}/valid")
            r = ratio(b, a)
            if r is not None:
                out.append(f"| pam_totp per login at {users_text(large)} users ≤ "
                           f"{TARGETS['scaling']}× at {users_text(small)} (P={p}) | "
                           f"{t(b)} vs {t(a)} = {x(r)} | "
                           f"{verdict(r <= TARGETS['scaling'])} |")
    for n in res.users:
        for p in res.procs:
            wrong, valid = res.median(n, p, f"{who}/wrong"), res.median(n, p, f"{who}/valid")
            r = ratio(wrong, valid)
            if r is not None:
                # Equal costs differ by noise: within 5 % is reported as such, not as a miss.
                result = verdict(True) if r <= 1.0 else (
                    "equal within 5 %" if r <= 1.05 else verdict(False))
                out.append(f"| pam_totp wrong code ≤ valid code ({users_text(n)} users, P={p}) | "
                           f"{t(wrong)} vs {t(valid)} = {x(r)} | {result} |")
    if who == "totp":
        out.append(reset_target_row(reset))
    return "\n".join(out) + "\n"


def peak_rss(reset, process):
    """The highest VmHWM of one totp-resetd process over the run (KiB)."""
    return max((v for k, v in reset.items() if k.endswith(f"_{process}_VmHWM_kib")), default=None)


def reset_target_row(reset):
    label = "| reset service: `GET /` ≥ 10 000 req/s, p99 < 10 ms, RSS < 20 MB | "
    if "get_rps" not in reset:
        return label + "not measured (see bench/reset_service.sh) | not measured |"
    peaks = {p: peak_rss(reset, p) for p in RESET_PROCESSES}
    union = max((reset.get(f"{m}_service_union_kib", 0) for m, _ in RESET_MOMENTS), default=0)
    loads = [n for n in ("get", "get_full") if f"{n}_rps" in reset]
    ok = (all(reset[f"{n}_rps"] >= RESET_RPS and reset[f"{n}_p99_us"] < RESET_P99_US and
              reset[f"{n}_non2xx"] == 0 for n in loads) and
          all(v < RESET_RSS_KIB for v in peaks.values()) and
          union < RESET_RSS_KIB)
    memory = ", ".join(f"{p} {v / 1024:.1f} MiB" for p, v in peaks.items())
    pss = max((sum(reset.get(f"{m}_{p}_Pss_kib", 0) for p in RESET_PROCESSES)
               for m, _ in RESET_MOMENTS), default=0)
    full = (f" ({reset['get_full_rps']:.0f} req/s, p99 {t(reset['get_full_p99_us'])} after "
            f"{reset['flood_addresses']:.0f} requests and "
            f"{reset.get('badlink_addresses', 0):.0f} made-up links from new addresses filled "
            f"both address limiters)"
            if "get_full_rps" in reset and "flood_addresses" in reset else "")
    return (label + f"{reset['get_rps']:.0f} req/s, p99 {t(reset['get_p99_us'])}{full}; peak RSS "
            f"{memory}; both, each page once, at most {union / 1024:.1f} MiB (PSS at most "
            f"{pss / 1024:.1f} MiB, RSS added up {sum(peaks.values()) / 1024:.1f} MiB) | "
            f"{verdict(ok)} |")


def service_cells(reset, moment):
    """Both processes' resident pages, each physical page once (bench/service_memory.py)."""
    k = f"{moment}_service_"
    if k + "union_kib" not in reset:
        return ["–", "–"]
    return [f"{reset[k + 'union_kib'] / 1024:.1f} MiB ({reset[k + 'union_anon_kib'] / 1024:.1f}"
            f" + {reset[k + 'union_file_kib'] / 1024:.1f})",
            f"{reset[k + 'shared_kib'] / 1024:.1f} MiB"]


def reset_tables(reset):
    out = [f"wrk, 2 threads, {reset['connections']:.0f} connections, {reset['seconds']:.0f} s "
           "each, on the same 2 cores as the service.\n",
           "| request | requests/s | p50 | p99 | non-2xx/3xx | socket errors |",
           "|---|---|---|---|---|---|"]
    for name, label in (("get", "`GET /` (form page, CSRF cookie)"),
                        ("post", "`POST /request` (cookie + form field, as a browser)"),
                        ("get_full", "`GET /`, full limiters"),
                        ("post_full", "`POST /request`, full limiters")):
        if f"{name}_rps" in reset:
            out.append(f"| {label} | {reset[name + '_rps']:.0f} | {t(reset[name + '_p50_us'])} | "
                       f"{t(reset[name + '_p99_us'])} | {reset[name + '_non2xx']:.0f} | "
                       f"{reset[name + '_socket_errors']:.0f} |")
    out += ["", "| moment | " + " | ".join(
        f"{p} VmRSS (anon + file) | {p} VmHWM" for p in RESET_PROCESSES) +
        " | PSS, both | both, each page once (anon + file) | of which in both |",
        "|---|" + "---|---|" * len(RESET_PROCESSES) + "---|---|---|"]
    for moment, label in RESET_MOMENTS:
        cells = [label]
        for p in RESET_PROCESSES:
            k = f"{moment}_{p}_"
            if k + "VmRSS_kib" not in reset:
                cells += ["–", "–"]
                continue
            cells += [f"{reset[k + 'VmRSS_kib'] / 1024:.1f} MiB ({reset[k + 'RssAnon_kib'] / 1024:.1f}"
                      f" + {reset[k + 'RssFile_kib'] / 1024:.1f})",
                      f"{reset[k + 'VmHWM_kib'] / 1024:.1f} MiB"]
        pss = [reset.get(f"{moment}_{p}_Pss_kib") for p in RESET_PROCESSES]
        cells.append("–" if None in pss else f"{sum(pss) / 1024:.1f} MiB")
        cells += service_cells(reset, moment)
        out.append("| " + " | ".join(cells) + " |")
    if "mail_check_seconds" in reset:
        out += ["", f"Mail off the request path: a reset request for an enrolled user with a "
                f"verified address, with an SMTP peer that never answers (smtp_timeout "
                f"{reset['smtp_timeout_seconds']:.0f} s), was answered in "
                f"{reset['mail_check_seconds'] * 1000:.1f} ms."]
    return "\n".join(out) + "\n"


def rss_table(rss, users):
    out = ["| service | " + " | ".join(f"{users_text(n)} users" for n in users) + " |",
           "|---|" + "---|" * len(users)]
    for name, label in SERVICES:
        if not any((n, name) in rss for n in users):
            continue
        cells = [label]
        for n in users:
            kib, floor = rss.get((n, name)), rss.get((n, "bench-floor"))
            if kib is None:
                cells.append("–")
            elif name == "bench-floor" or floor is None:
                cells.append(f"{kib / 1024:.1f} MiB")
            else:
                cells.append(f"{kib / 1024:.1f} MiB ({(kib - floor) / 1024:+.1f})")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def enroll_table(enroll):
    out = ["| users | pam_totp files | google-authenticator files | pam_oath usersfile | "
           "one syncfs |", "|---|---|---|---|---|"]
    for n in sorted(enroll):
        t = enroll[n]
        out.append(f"| {users_text(n)} | {t[0]:.2f} s | {t[1]:.2f} s | {t[2]:.2f} s | "
                   f"{t[3]:.2f} s |")
    return "\n".join(out) + "\n"


def syslog_lines(logins, syslog):
    out = []
    for tag, label in (("bench-totp", "pam_totp"), ("bench-google", "google-authenticator"),
                       ("bench-totp-pg", "pam_totp (PostgreSQL store)")):
        made = sum(v for (n, s), v in logins.items() if s == tag)
        if not made:
            continue
        out.append(f"- {label}: {made} logins, {syslog.get(tag, 0)} lines received by the sink")
    return "\n".join(out) + "\n"


def main():
    latency, fresh, rss, enroll, logins, syslog, reset = load(sys.argv[1])
    res = Results(latency)
    print("## Machine\n")
    for line in open(sys.argv[2]):
        print(f"- {line.strip()}")
    print("\n## Targets\n")
    print(targets_table(res, reset))
    print("## pam_totp against the floors and the peers (medians)\n")
    print(ratio_table(res))
    if any(op.startswith("candidate/") for (_, _, op) in latency):
        print("## Candidate build of pam_totp (PAM_BENCH_CANDIDATE), same run\n")
        print(targets_table(res, reset, "candidate"))
        print(ratio_table(res, "candidate"))
    print("## Per-login latency\n")
    for n in res.users:
        print(latency_table(res, n))
    for program, like, program_text in FRESH_PROCESSES:
        if program in fresh:
            print(fresh_section(Results(fresh[program]), like, program_text))
    print("## Peak RSS of a process after its logins\n")
    print(rss_table(rss, res.users))
    print("## Enrollment (written directly, no PAM)\n")
    print(enroll_table(enroll))
    if reset:
        print("## Reset service (totp-resetd)\n")
        print(reset_tables(reset))
    print("## Syslog sink\n")
    print(syslog_lines(logins, syslog))


if __name__ == "__main__":
    main()
