#!/usr/bin/env python3
"""The real-path benchmark: the release `refinery` binary against RefineryFakeProvider (Benchmarks/README.md).

For each N it runs `refinery run consensus` with N members of one fake endpoint (at most 128, the compiler's
cap), 2 rounds (2·N² calls), every call allowed in flight, the ledger on (a fresh store per run), and reports per run:
  wall ÷ critical path (4 calls deep × the fake's delay), refinery's CPU per call (user + sys from wait4's rusage,
  refinery only, ÷ calls), its peak RSS (ru_maxrss), and the fake's own CPU per request (from its /stats).
Then min / median / max over the runs. `--zero` also times an 8-call run (N = 2) against a zero-delay fake;
`--start-floor` adds RefineryStartFloor to it, alternated run by run with refinery: the same command line, the 8
requests in the same 4 layers and 8 ledger rows through the same libraries, nothing of `refinery` (its floor);
`--existing K` also times it on a ledger that already holds K such runs (made once, copied afresh for each run,
alternated with the fresh ledger's runs): what opening a user's ledger adds (its integrity check reads every page),
and on one ledger of K runs kept between the runs as a user's is (copied once, opened once untimed; it grows by one
run a run): a command that closed it cleanly lets the next skip the full check.
`--floor` runs RefineryHTTPFloor instead of `refinery` for the same N: the same requests through AsyncHTTPClient
(`ahc`: the delegate API through a pool of clients, as WireClient sends; `ahc-async`: its async API) and through a
bare NIO client (`nio`), nothing of `refinery` around them, and reports their CPU per request (whole process, and
from the first request to the last reply) and peak RSS: the floors that refinery's CPU per call and memory sit on.
CPU is the kernel's accounting of the process (wait4), so on a loaded machine compare the minimum and median
of several runs; valgrind 3.19 cannot read the release binary's DWARF 5 and this VM has no hardware counters.

  Benchmarks/realpath.py [--bin PATH] [--fake PATH] [--sizes 3,10,30,50,100] [--runs 5] [--delay-ms 200]
                         [--shape openai|anthropic] [--zero [--start-floor [PATH]] [--existing K]]   (--sizes "" --zero: only the 8-call run)
                         [--floor [--floor-bin PATH] [--clients ahc,nio] [--shards K]]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)


def start_fake(path, delay_ms):
    fake = subprocess.Popen([path, "--delay-ms", str(delay_ms)], stdout=subprocess.PIPE, text=True)
    port = int(fake.stdout.readline())
    return fake, port


def fake_stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats") as reply:
        return json.load(reply)


def sandbox(port, shape):
    home = tempfile.mkdtemp(prefix="refinery-realpath-")
    os.makedirs(f"{home}/config/refinery")
    with open(f"{home}/config/refinery/providers.yaml", "w") as f:
        f.write(f'providers:\n  - {{ name: fake, base_url: "http://127.0.0.1:{port}" }}\n')
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "NO_COLOR": "1",
        "XDG_DATA_HOME": f"{home}/data", "XDG_CONFIG_HOME": f"{home}/config",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}", "ANTHROPIC_API_KEY": "sk-ant-benchmark",
    }
    return home, env


def run_once(binary, port, shape, n, extra=(), ledger=None, store=None):
    home, env = sandbox(port, shape)
    if ledger:
        shutil.copy(ledger, f"{home}/runs.db")
    store = store or f"{home}/runs.db"
    model = "fake/m" if shape == "openai" else "anthropic/claude-sonnet-4-5"
    argv = [
        binary, "run", "consensus", "What is 2+2?", "--models", f"{model}:{n}", "--min-rounds", "2",
        "--max-rounds", "2", "--max-concurrent", str(max(8, 2 * n * n)), "--timeout", "600",
        "--store", store, "--output-format", "json", "--quiet", *extra,
    ]
    out = open(f"{home}/stdout", "w")
    err = open(f"{home}/stderr", "w")
    started = time.monotonic()
    child = subprocess.Popen(argv, env=env, cwd=home, stdout=out, stderr=err)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    out.close(); err.close()
    report = open(f"{home}/stdout").read()
    if child.returncode != 0:
        sys.exit(f"refinery exited {child.returncode} at N={n}:\n{open(f'{home}/stderr').read()[-2000:]}\n{report[-2000:]}")
    shutil.rmtree(home, ignore_errors=True)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def existing_ledger(args, port):
    """A ledger holding `args.existing` 8-call runs, recorded once by `args.bin` in a sandbox of its own."""
    home, env = sandbox(port, args.shape)
    argv = [args.bin, "run", "consensus", "What is 2+2?", "--models", "fake/m:2", "--min-rounds", "2",
            "--max-rounds", "2", "--store", f"{home}/runs.db", "--output-format", "json", "--quiet"]
    for _ in range(args.existing):
        subprocess.run(argv, env=env, cwd=home, stdout=subprocess.DEVNULL, check=True)
    print(f"a ledger of {args.existing:,} runs: {os.path.getsize(f'{home}/runs.db') / 1e6:.1f} MB", flush=True)
    return f"{home}/runs.db"


def run_floor(binary, port, client, n, shards):
    """One RefineryHTTPFloor process: its wall time, its CPU (wait4) and what it reports of its request loop."""
    started = time.monotonic()
    argv = [binary, "--port", str(port), "--n", str(n), "--client", client, "--shards", str(shards)]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"RefineryHTTPFloor exited {os.waitstatus_to_exitcode(status)} at N={n} ({client})")
    report = json.loads(output)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, report


def floor_table(args, port, critical):
    print("| N | requests | client | CPU per request, whole process (µs) | CPU per request, requests only (µs) | "
          "wall ÷ critical path | peak RSS (MB) | fake CPU per request (µs) |")
    print("|---|---|---|---|---|---|---|---|")
    for n in [int(s) for s in args.sizes.split(",") if s]:
        for client in args.clients.split(","):
            cpus, loops, ratios, rss, fakes = [], [], [], [], []
            for _ in range(args.runs):
                before = fake_stats(port)
                wall, cpu, peak, report = run_floor(args.floor_bin, port, client, n, args.shards)
                after = fake_stats(port)
                served = after["requests"] - before["requests"]
                if served != report["requests"] or served != 2 * n * n:
                    sys.exit(f"N={n} ({client}): the fake served {served} requests, expected {2 * n * n}")
                cpus.append(cpu / served * 1e6)
                loops.append(report["loop_cpu_us"] / served)
                ratios.append(wall / critical)
                rss.append(peak)
                fakes.append((after["cpu_us"] - before["cpu_us"]) / served)
            print(f"| {n} | {2 * n * n:,} | {client} | {spread(cpus, '{:.0f}')} | {spread(loops, '{:.0f}')} | "
                  f"{spread(ratios, '{:.3f}')} | {spread(rss, '{:.0f}')} | {spread(fakes, '{:.0f}')} |", flush=True)


def spread(values, fmt):
    return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=f"{root}/.build-release/release/refinery")
    parser.add_argument("--fake", default=f"{root}/.build-release/release/RefineryFakeProvider")
    parser.add_argument("--sizes", default="3,10,30,50,100")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay-ms", type=int, default=200)
    parser.add_argument("--shape", choices=["openai", "anthropic"], default="openai")
    parser.add_argument("--zero", action="store_true", help="also time the 8-call run at zero delay")
    parser.add_argument("--existing", type=int, default=0,
                        help="with --zero: also time the 8-call run on a ledger that holds this many runs already")
    parser.add_argument("--start-floor", nargs="?", const=f"{root}/.build-release/release/RefineryStartFloor",
                        help="with --zero: also time RefineryStartFloor, the 8-call run's floor, alternated")
    parser.add_argument("--floor", action="store_true", help="run RefineryHTTPFloor instead of refinery")
    parser.add_argument("--floor-bin", default=f"{root}/.build-release/release/RefineryHTTPFloor")
    parser.add_argument("--clients", default="ahc,nio", help="the floor's clients (ahc, ahc-async, nio)")
    parser.add_argument("--shards", type=int, default=1, help="ahc-async's AsyncHTTPClient clients (round robin)")
    args = parser.parse_args()

    with open("/proc/loadavg") as f:
        print(f"load average before: {f.read().split()[:3]}, {os.cpu_count()} cores")
    fake, port = start_fake(args.fake, args.delay_ms)
    try:
        critical = 4 * args.delay_ms / 1000
        if args.floor:
            print(f"floor: {args.floor_bin} ({args.shards} AsyncHTTPClient clients), delay {args.delay_ms} ms, "
                  f"{args.runs} runs per N; min / median / max")
            floor_table(args, port, critical)
            with open("/proc/loadavg") as f:
                print(f"load average after: {f.read().split()[:3]}")
            return
        print(f"shape {args.shape}, delay {args.delay_ms} ms, critical path {critical * 1000:.0f} ms, "
              f"{args.runs} runs per N; figures min / median / max")
        print("| N | calls | wall ÷ critical path | CPU per call (µs) | peak RSS (MB) | fake CPU per request (µs) |")
        print("|---|---|---|---|---|---|")
        for n in [int(s) for s in args.sizes.split(",") if s]:
            calls = 2 * (n + n * (n - 1))
            ratios, cpus, rss, fakes = [], [], [], []
            for _ in range(args.runs):
                before = fake_stats(port)
                wall, cpu, peak = run_once(args.bin, port, args.shape, n)
                after = fake_stats(port)
                served = after["requests"] - before["requests"]
                if served != calls:
                    sys.exit(f"N={n}: the fake served {served} requests, expected {calls}")
                ratios.append(wall / critical)
                cpus.append(cpu / calls * 1e6)
                rss.append(peak)
                fakes.append((after["cpu_us"] - before["cpu_us"]) / served)
            print(f"| {n} | {calls:,} | {spread(ratios, '{:.3f}')} | {spread(cpus, '{:.0f}')} | "
                  f"{spread(rss, '{:.0f}')} | {spread(fakes, '{:.0f}')} |", flush=True)
    finally:
        fake.kill()

    if args.zero:
        fake, port = start_fake(args.fake, 0)
        try:
            ledger = existing_ledger(args, port) if args.existing else None
            runs, floors, existing, kept = [], [], [], []
            if ledger:
                # A user's ledger is the file the previous command closed, not a fresh copy: this one is
                # copied once, opened once untimed (a copy is always checked in full), then kept between runs.
                kept_ledger = tempfile.mkdtemp(prefix="refinery-realpath-kept-") + "/runs.db"
                shutil.copy(ledger, kept_ledger)
                run_once(args.bin, port, args.shape, 2, store=kept_ledger)
            for _ in range(max(args.runs, 10)):
                runs.append(run_once(args.bin, port, args.shape, 2))
                if args.start_floor:
                    floors.append(run_once(args.start_floor, port, args.shape, 2, ("--port", str(port))))
                if ledger:
                    existing.append(run_once(args.bin, port, args.shape, 2, ledger=ledger))
                    kept.append(run_once(args.bin, port, args.shape, 2, store=kept_ledger))
            if ledger:
                shutil.rmtree(os.path.dirname(ledger), ignore_errors=True)
                shutil.rmtree(os.path.dirname(kept_ledger), ignore_errors=True)
            for name, timed in [("8-call run (N = 2, 2 rounds) at zero delay", runs), ("its floor", floors),
                                (f"the same on a ledger of {args.existing:,} runs", existing),
                                (f"the same on a ledger of {args.existing:,} runs kept between runs", kept)]:
                if timed:
                    walls = [wall * 1000 for wall, _, _ in timed]
                    cpus = [cpu * 1000 for _, cpu, _ in timed]
                    print(f"{name}: wall {spread(walls, '{:.1f}')} ms, CPU {spread(cpus, '{:.1f}')} ms, "
                          f"peak RSS {spread([rss for _, _, rss in timed], '{:.0f}')} MB")
        finally:
            fake.kill()
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[:3]}")


if __name__ == "__main__":
    main()
