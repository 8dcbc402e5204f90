#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The resident memory of a service made of several processes, each page counted once.

    bench/service_memory.py [--log FILE] [--label LABEL] NAME=PID...

VmRSS counts a page in every process that maps it, so the RSS of a parent and the child
it forked (sharing libraries and copy-on-write memory) add up to more than the machine
holds for them. This reads, as root, the physical frame (PFN) of every present page of
each process from /proc/PID/pagemap over the mappings of /proc/PID/smaps, and counts the
distinct frames: the service's resident set. Pages that VmRSS does not count either are
left out (the shared zero page, and PFN-mapped areas such as [vvar]), and counted apart.

Prints "NAME<TAB>KiB" lines on stdout (bench/reset_service.sh records them):
    union_kib, union_anon_kib, union_file_kib   distinct frames; "file" is what the
                                                kernel counts as RssFile or RssShmem
    shared_kib                                  frames mapped by more than one process
    NAME_pagemap_kib                            each process alone, counted the same way
Appends where the frames are (by mapping, both processes) to --log.

Checks, and exits 1 with the reason if one fails: each process alone matches its RSS
walked by the kernel (smaps_rollup Rss; a difference from VmRSS in /proc/PID/status, which
the kernel updates lazily, is only reported in the log); the union
lies between the largest single VmRSS and the sum of them, and is at least the sum of
their PSS. Under load the processes change between the reads, so a small tolerance
applies (SLACK_PAGES).
"""
import argparse
import collections
import os
import struct
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")
PRESENT, FILE_OR_SHARED = 1 << 63, 1 << 61
PFN_MASK = (1 << 55) - 1
KPF_ZERO_PAGE = 1 << 24
# Pages the processes may fault in or free between reading pagemap and status (each
# process is read while it runs; stopping it would disturb the latency being measured).
SLACK_PAGES = 64
LISTED_KIB = 32  # the log names each mapping holding at least this much of the union


class Mapping:
    def __init__(self, header):
        fields = header.split(maxsplit=5)
        start, end = (int(a, 16) for a in fields[0].split("-"))
        self.start, self.end, self.perms = start, end, fields[1]
        self.path = fields[5].strip() if len(fields) > 5 else ""
        self.flags = set()

    def name(self):
        """Groups frames by what holds them; anonymous areas by their size, which says
        what they are (8 MiB + guard: a thread stack, 64 MiB or more: a malloc arena)."""
        if self.path:
            return self.path.removesuffix(" (deleted)")
        return f"[anonymous {self.perms}, {(self.end - self.start) // 1024} KiB area]"


def mappings(pid):
    result = []
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(maxsplit=1)[0]
            if "-" in head and not head.endswith(":"):
                result.append(Mapping(line))
            elif head == "VmFlags:":
                result[-1].flags = set(line.split()[1:])
    return result


def proc_kib(path, keys):
    """The "Key:  N kB" lines of a /proc file that `keys` names, in KiB."""
    values = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in keys:
                values[key] = int(rest.split()[0])
    return values


def status_kib(pid):
    """The kernel's RSS counters (updated lazily)."""
    return proc_kib(f"/proc/{pid}/status", ("VmRSS", "RssAnon", "RssFile", "RssShmem"))


def rollup_kib(pid):
    """Rss and Pss as the kernel walks them (no counters: exact at the moment of reading)."""
    return proc_kib(f"/proc/{pid}/smaps_rollup", ("Rss", "Pss"))


class Frames:
    """The present pages of one process: PFN -> (counts as file, mapping name)."""

    def __init__(self, pid, kpageflags):
        self.pid, self.frames, self.special = pid, {}, collections.Counter()
        with open(f"/proc/{pid}/pagemap", "rb", buffering=0) as pagemap:
            for m in mappings(pid):
                entries = os.pread(pagemap.fileno(), (m.end - m.start) // PAGE * 8,
                                   m.start // PAGE * 8)
                # [vsyscall] lies above the user address space: pagemap has nothing there.
                for (entry,) in struct.iter_unpack("<Q", entries):
                    if entry & PRESENT:
                        self.add(entry, m, kpageflags)

    def add(self, entry, m, kpageflags):
        pfn = entry & PFN_MASK
        if pfn == 0:
            raise SystemExit("service_memory.py: pagemap shows no PFNs (needs CAP_SYS_ADMIN)")
        if "pf" in m.flags:  # VM_PFNMAP ([vvar]): no struct page, not in RSS
            self.special[m.name()] += 1
            return
        is_file = bool(entry & FILE_OR_SHARED)
        # The (huge) zero page: not in RSS; pagemap may mark the huge one as file.
        if kpageflags.flags(pfn) & KPF_ZERO_PAGE:
            self.special["zero page"] += 1
            return
        self.frames.setdefault(pfn, (is_file, m.name()))


class KPageFlags:
    def __init__(self):
        self.fd = os.open("/proc/kpageflags", os.O_RDONLY)
        self.cache = {}

    def flags(self, pfn):
        if pfn not in self.cache:
            self.cache[pfn] = struct.unpack("<Q", os.pread(self.fd, 8, pfn * 8))[0]
        return self.cache[pfn]


def kib(pages):
    return pages * PAGE // 1024


def anon_pages(frames):
    return sum(1 for is_file, _ in frames.values() if not is_file)


def read_process(name, pid, kpageflags, report, failures):
    """One process's frames, checked against the kernel's own counts of its RSS."""
    before = status_kib(pid)
    process = Frames(pid, kpageflags)
    rollup, after = rollup_kib(pid), status_kib(pid)
    walked = rollup["Rss"]
    mine, anon, slack = kib(len(process.frames)), kib(anon_pages(process.frames)), kib(SLACK_PAGES)
    low, high = sorted((before["VmRSS"], after["VmRSS"]))
    left_out = ", ".join(f"{k} {v} page(s)" for k, v in process.special.items()) or "none"
    report.append(f"{name} (pid {pid}): {mine} KiB by pagemap (anon {anon}, file {mine - anon}); "
                  f"smaps_rollup Rss {walked}; VmRSS {low}..{high} (RssAnon {after['RssAnon']}, "
                  f"RssFile {after['RssFile']}, RssShmem {after['RssShmem']}); present but not "
                  f"in RSS, left out: {left_out}")
    if abs(mine - walked) > slack:
        failures.append(f"{name}: pagemap {mine} KiB vs smaps_rollup Rss {walked} KiB")
    # VmRSS is kept by per-thread (or per-CPU) counters that catch up lazily: a difference
    # there is reported, the exact comparison is the one with smaps_rollup above.
    if not low - slack <= mine <= high + slack:
        report.append(f"warning: {name}: pagemap {mine} KiB vs VmRSS {low}..{high} KiB")
    process.name, process.vmrss, process.pss = name, after["VmRSS"], rollup["Pss"]
    return process


def union_of(processes, report, failures):
    """Distinct frames over all processes, checked against the VmRSS of each."""
    union, holders = {}, collections.Counter()
    for process in processes:
        for pfn, value in process.frames.items():
            union.setdefault(pfn, value)
            holders[pfn] += 1
    total, anon = kib(len(union)), kib(anon_pages(union))
    shared = kib(sum(1 for n in holders.values() if n > 1))
    largest, rss_sum = max(p.vmrss for p in processes), sum(p.vmrss for p in processes)
    slack = kib(SLACK_PAGES * len(processes))
    if not largest - slack <= total <= rss_sum + slack:
        failures.append(f"union {total} KiB not between the largest VmRSS {largest} KiB and "
                        f"their sum {rss_sum} KiB")
    # PSS charges each process its share of a page among every process mapping it: what
    # these processes are charged together cannot exceed the pages they hold.
    pss_sum = sum(p.pss for p in processes)
    if pss_sum > total + slack:
        failures.append(f"sum of PSS {pss_sum} KiB above the union {total} KiB")
    alone = ", ".join(f"only in {p.name} {kib(sum(1 for f in p.frames if holders[f] == 1))}"
                      for p in processes)
    report.append(f"union: {total} KiB = anon {anon} + file {total - anon}; in more than one "
                  f"process {shared}, {alone}; sum of VmRSS {rss_sum} KiB, of PSS {pss_sum} KiB")
    by_mapping = collections.Counter(name for _, name in union.values()).most_common()
    anon_by_mapping = collections.Counter(name for is_file, name in union.values() if not is_file)
    listed = [(name, n) for name, n in by_mapping if kib(n) >= LISTED_KIB]
    report.append("union by mapping (KiB, of which anonymous; a frame counts for the first "
                  "process's mapping):")
    report += [f"  {kib(n):8d} {kib(anon_by_mapping[name]):6d}  {name}" for name, n in listed]
    report.append(f"  {kib(sum(n for _, n in by_mapping[len(listed):])):8d}         the other "
                  f"{len(by_mapping) - len(listed)} mappings")
    return {"union_kib": total, "union_anon_kib": anon, "union_file_kib": total - anon,
            "shared_kib": shared}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log")
    parser.add_argument("--label", default="")
    parser.add_argument("processes", nargs="+", metavar="NAME=PID")
    args = parser.parse_args()

    kpageflags = KPageFlags()
    report, failures, processes = [], [], []
    for name_pid in args.processes:
        name, _, pid = name_pid.partition("=")
        processes.append(read_process(name, int(pid), kpageflags, report, failures))
        print(f"{name}_pagemap_kib\t{kib(len(processes[-1].frames))}")
    for name, value in union_of(processes, report, failures).items():
        print(f"{name}\t{value}")
    if args.log:
        with open(args.log, "a") as log:
            log.write(f"== {args.label}\n" + "\n".join(report) + "\n"
                      + "".join(f"CHECK FAILED: {f}\n" for f in failures))
    if failures:
        sys.exit("service_memory.py: " + "; ".join(failures))


if __name__ == "__main__":
    main()
