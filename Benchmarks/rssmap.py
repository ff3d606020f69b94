#!/usr/bin/env python3
"""Where refinery's resident memory is at its peak: runs the `realpath.py` command line (`consensus`, N members, 2
rounds, every call in flight, the ledger on) against RefineryFakeProvider, reads /proc/PID/status every 10 ms and
/proc/PID/smaps whenever the RSS is near its highest so far, and prints the RSS over time (every 0.25 s) and, at the
highest sample, the resident memory by mapping: glibc's arena heaps (64 MiB-aligned anonymous mappings), other
anonymous memory (mmapped chunks, thread stacks), and each file mapped (the binary's touched pages, the libraries')
(Benchmarks/README.md, "Session 9"). The sampled peak is below `ru_maxrss` by what happens between samples.

  Benchmarks/rssmap.py [--bin PATH] [--fake PATH] [--n 100] [--env NAME=VALUE ...]   (--env: e.g. MALLOC_ARENA_MAX=2)
"""
import argparse, collections, os, re, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from realpath import root, sandbox, start_fake  # noqa: E402


def by_mapping(pid):
    """Resident KiB of each kind of mapping of `pid`."""
    kinds = collections.Counter()
    name = None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+$", fields[0]):
                low, high = (int(x, 16) for x in fields[0].split("-"))
                path = fields[5] if len(fields) > 5 else ""
                if path.startswith("/"):
                    name = "file " + os.path.basename(path)
                elif path:
                    name = path
                elif low % (64 << 20) == 0 and high - low <= 64 << 20:
                    name = "anonymous: arena heaps"
                else:
                    name = "anonymous: other"
            elif fields[0] == "Rss:":
                kinds[name] += int(fields[1])
    return kinds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=f"{root}/.build-release/release/refinery")
    parser.add_argument("--fake", default=f"{root}/.build-release/release/RefineryFakeProvider")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE added to refinery's environment")
    args = parser.parse_args()
    fake, port = start_fake(args.fake, 200)
    home, env = sandbox(port, "openai")
    env.update(item.split("=", 1) for item in args.env)
    n = args.n
    argv = [
        args.bin, "run", "consensus", "What is 2+2?", "--models", f"fake/m:{n}", "--min-rounds", "2",
        "--max-rounds", "2", "--max-concurrent", str(max(8, 2 * n * n)), "--timeout", "600",
        "--store", f"{home}/runs.db", "--output-format", "json", "--quiet",
    ]
    started = time.monotonic()
    child = subprocess.Popen(argv, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    timeline, peak, kinds = [], 0, None
    while True:
        # wait4 with WNOHANG, not poll(): the child's rusage (ru_maxrss) is read when it is reaped.
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        try:
            with open(f"/proc/{child.pid}/status") as status:
                rss = int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))
            timeline.append((time.monotonic() - started, rss))
            if rss > peak - 2048:
                sample = by_mapping(child.pid)
                if sum(sample.values()) > peak:
                    peak, kinds = sum(sample.values()), sample
        except (OSError, AttributeError):
            pass
        time.sleep(0.01)
    fake.kill()
    shutil.rmtree(home, ignore_errors=True)
    shown, line = -1.0, []
    for moment, rss in timeline:
        if moment - shown >= 0.25:
            line.append(f"{moment:.2f}s {rss // 1024}")
            shown = moment
    print("RSS over time (MB):", ", ".join(line))
    print(f"ru_maxrss {usage.ru_maxrss / 1024:.0f} MB; at the highest sample, {peak / 1024:.1f} MB:")
    for name, kib in sorted((kinds or {}).items(), key=lambda item: -item[1]):
        if kib >= 512:
            print(f"  {kib / 1024:8.1f} MB  {name}")


if __name__ == "__main__":
    main()
