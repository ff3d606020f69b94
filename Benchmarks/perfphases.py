#!/usr/bin/env python3
"""Where a short process's CPU goes, by part (Benchmarks/README.md, "Session 8"): reads `perf script -F
comm,tid,ip,sym,dso` of `perf record -e cpu-clock -g` runs and gives each sample to the first part, top down, whose
frames its stack holds; with the process's CPU in ms (from wait4, e.g. realpath.py's median) it also scales the
shares to ms.

  for i in 1 2 3 4 5 6 7 8 9 10; do perf record -F 20000 -e cpu-clock -g -o run.$i -- refinery run ...; done
  for i in 1 2 3 4 5 6 7 8 9 10; do perf script -i run.$i -F comm,tid,ip,sym,dso; done | Benchmarks/perfphases.py 36.7
"""
import collections, re, sys

HTTP = r"\$s(15AsyncHTTPClient|7NIOCore|8NIOPosix|8NIOHTTP1|17_NIODataStructures|21NIOConcurrencyHelpers|7Tracing|15Instrumentation)"
PARTS = [
    ("conformance scans (swift_conformsToProtocol)", lambda st: any("conformsToProtocol" in s for s, _ in st)),
    ("dynamic loader (relocations at start, lazy binding)", lambda st: any("ld-linux" in d for _, d in st)),
    ("ArgumentParser", lambda st: any(s.startswith("$s14ArgumentParser") for s, _ in st)),
    ("ledger: SQLite and GRDB", lambda st: any("sqlite3" in d or s.startswith("$s4GRDB") for s, d in st)),
    ("HTTP: AsyncHTTPClient, NIO", lambda st: any(re.match(HTTP, s) or s.startswith("c_nio") for s, _ in st)),
    ("the program's own modules", lambda st: any(re.match(r"\$s\d+Refinery", s) for s, _ in st)),
    ("Swift runtime, Foundation, libc, the rest in user space", lambda st: not st[0][1].startswith("[kernel")),
    ("kernel (exec, page faults, threads, syscalls)", lambda st: True),
]


def main():
    cpu = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    counts, total, stack = collections.Counter(), 0, []
    for line in list(sys.stdin) + [""]:
        if not line.strip():
            if stack:
                total += 1
                counts[next(name for name, matches in PARTS if matches(stack))] += 1
            stack = []
            continue
        if not line.startswith((" ", "\t")):
            continue
        parts = line.strip().split(None, 1)
        match = re.match(r"(.*) \((.*)\)$", parts[1]) if len(parts) > 1 else None
        if match:
            stack.append((match.group(1), match.group(2)))
    print(f"| part | share of {total:,} samples | ms of {cpu:.1f} |\n|---|---|---|")
    for name, _ in PARTS:
        share = counts[name] / max(total, 1)
        print(f"| {name} | {share * 100:.1f} % | {share * cpu:.1f} |")


if __name__ == "__main__":
    main()
