#!/usr/bin/env python3
"""Start-up cost of a process (Benchmarks/README.md, "Start-up"): wall time and CPU (user + sys from wait4's
rusage) of each command, run --runs times, the commands alternated run by run; min / median / max.

  Benchmarks/startup.py [--runs 20] [--floors] [-- COMMAND ARGS...] [-- COMMAND ARGS...]
    --floors   also time hello worlds built here: C (`gcc -O2`), Swift, and Swift + Foundation (`swiftc -O`),
               the exec floor and what any Swift program with Foundation pays before its first line
  e.g. Benchmarks/startup.py --floors -- /tmp/before/refinery --version -- .build-release/release/refinery --version
"""
import os, statistics, subprocess, sys, tempfile, time

FLOORS = {
    "hello.c": ('#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n', ["gcc", "-O2"]),
    "hello.swift": ('print("hello")\n', ["swiftc", "-O"]),
    "foundation.swift": (
        'import Foundation\nlet data = try JSONSerialization.data(withJSONObject: ["a": 1])\n'
        'print(String(decoding: data, as: UTF8.self))\n', ["swiftc", "-O"]),
}


def build_floors(folder):
    commands = []
    for name, (source, compiler) in FLOORS.items():
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write(source)
        binary = path.rsplit(".", 1)[0] + ("-c" if name.endswith(".c") else "")
        subprocess.run(compiler + ["-o", binary, path], check=True)
        commands.append([binary])
    return commands


def time_once(argv):
    started = time.monotonic()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return (time.monotonic() - started) * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def spread(values):
    return " / ".join(f"{v:.1f}" for v in (min(values), statistics.median(values), max(values)))


def main():
    args = sys.argv[1:]
    runs, floors = 20, False
    while args and args[0] != "--":
        option = args.pop(0)
        if option == "--runs":
            runs = int(args.pop(0))
        elif option == "--floors":
            floors = True
        else:
            sys.exit(__doc__)
    commands = []
    for part in " ".join(args).split(" -- ") if args else []:
        words = part.removeprefix("--").split()
        if words:
            commands.append(words)
    with tempfile.TemporaryDirectory(prefix="refinery-startup-") as folder:
        if floors:
            commands = build_floors(folder) + commands
        if not commands:
            sys.exit(__doc__)
        print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores; {runs} runs; min / median / max")
        results = {i: ([], []) for i in range(len(commands))}
        for _ in range(runs):
            for i, argv in enumerate(commands):
                wall, cpu = time_once(argv)
                results[i][0].append(wall)
                results[i][1].append(cpu)
        print("| command | wall (ms) | CPU (ms) |\n|---|---|---|")
        for i, argv in enumerate(commands):
            name = os.path.basename(argv[0]) if argv[0].startswith(folder) else " ".join(argv)
            print(f"| `{name}` | {spread(results[i][0])} | {spread(results[i][1])} |")
        print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
