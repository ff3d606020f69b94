#!/usr/bin/env python3
"""Who owns refinery's CPU samples: reads `perf script -F comm,ip,sym,dso` of a `perf record -g` of refinery and
gives each sample to the leaf-most frame of a named Swift module (or SQLite), so that the Swift runtime, libc and
the kernel under a frame count for the code that called them (Benchmarks/README.md, "Session 7").

  perf record -F 4999 -e cpu-clock -g -o refinery.data -- refinery run consensus ...   (as realpath.py runs it)
  perf script -i refinery.data -F comm,ip,sym,dso | Benchmarks/perfshare.py [--top 40]

Prints the samples by thread and owner: `writer` (GRDB's writer queue: every sample on it is the ledger's),
`http` (AsyncHTTPClient, NIO, swift-distributed-tracing), `refinery` (refinery's modules, GRDB, SQLite,
Foundation, swift-crypto, swift-log), `unowned` (no named frame: mostly glibc's malloc and syscalls, whose frames
carry no frame pointer). Then the inclusive share of each refinery frame in the `refinery` samples, mangled
(pipe through `swift demangle --simplified`).
"""
import collections, re, sys

HTTP = {"NIOPosix", "NIOCore", "AsyncHTTPClient", "NIOHTTP1", "Tracing", "NIO(C)", "NIOSSL", "_NIODataStructures",
        "Instrumentation", "NIOConcurrencyHelpers", "Atomics", "DequeModule", "NIOHTTPCompression", "NIOTLS"}
WRITER_THREAD = "-qos.overcommit"  # the end of "com.apple.root.default-qos.overcommit", where GRDB's queue runs


def module(symbol, dso):
    if "sqlite3" in dso:
        return "SQLite"
    if dso.startswith("[kernel"):
        return None
    match = re.match(r"\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)", symbol)
    if match:
        return match.group(2)[: int(match.group(1))]
    return "NIO(C)" if symbol.startswith("c_nio") else None


def samples(lines):
    comm, stack = None, []
    for line in lines:
        if not line.strip() or not line.startswith((" ", "\t")):
            if stack:
                yield comm, stack
            comm, stack = (line.split()[0] if line.strip() else None), []
            continue
        parts = line.strip().split(None, 1)
        match = re.match(r"(.*) \((.*)\)$", parts[1]) if len(parts) > 1 else None
        if match:
            stack.append((re.sub(r"\+0x[0-9a-f]+$", "", match.group(1)), match.group(2).split("/")[-1]))
    if stack:
        yield comm, stack


def main():
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 40
    owners, inclusive, total = collections.Counter(), collections.Counter(), 0
    for comm, stack in samples(sys.stdin):
        total += 1
        if comm == WRITER_THREAD:
            owners["writer"] += 1
            continue
        owner = next((m for m in (module(s, d) for s, d in stack) if m), None)
        kind = "unowned" if owner is None else "http" if owner in HTTP else "refinery"
        owners[kind] += 1
        if kind == "refinery":
            for symbol in {s for s, d in stack if (module(s, d) or "").startswith(("Refinery", "GRDB"))}:
                inclusive[symbol] += 1
    print(f"{total} samples")
    for kind, count in owners.most_common():
        print(f"{100 * count / total:6.2f}%  {kind}")
    print("inclusive, refinery's samples only:")
    for symbol, count in inclusive.most_common(top):
        print(f"{100 * count / total:6.2f}%  {symbol}")


main()
