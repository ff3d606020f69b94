#!/usr/bin/env python3
"""Who makes the Swift runtime scan its protocol conformance records (Benchmarks/README.md, "Session 8").

A first-use lookup of a (type, protocol) pair that is not cached walks every conformance record of every loaded
image; a uprobe on the per-record step counts the records walked, so records ÷ records-per-scan is the number of
scans, and the call graph of each hit says whose code asked:

  SC=/opt/swift/usr/lib/swift/linux/libswiftCore.so
  perf probe -x $SC -a "ctsrec=0x$(nm $SC | grep 'MaybeInstantiateSuperclasses.*ConformanceSection.*clE' | cut -c9-16)"
  perf record -e probe_libswiftCore:ctsrec -g -o scans.data -- refinery run consensus ...   (as realpath.py runs it)
  perf script -i scans.data -F ip,sym,dso | Benchmarks/scanowners.py [--top 40] | swift demangle --simplified

Prints the records walked by owner, the leaf-most frame of a named Swift module outside the standard library
(a generic specialization counts for the module that called it), then the frames that asked most.
"""
import collections, re, sys


def module(symbol):
    match = re.match(r"\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)", symbol)
    if match and not symbol.startswith("$ss"):
        return match.group(2)[: int(match.group(1))]
    return None


def main():
    top = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] == "--top" else 40
    owners, frames, stack = collections.Counter(), collections.Counter(), []

    def flush():
        owner, frame = None, None
        for symbol, dso in stack:
            if "libswiftCore" in dso:
                continue
            owner = module(symbol)
            if owner:
                frame = symbol
                break
        owners[owner] += 1
        frames[(owner, frame)] += 1

    for line in sys.stdin:
        if not line.strip():
            if stack:
                flush()
            stack = []
            continue
        parts = line.strip().split(None, 1)
        match = re.match(r"(.*) \((.*)\)$", parts[1]) if len(parts) > 1 else None
        if match:
            stack.append((match.group(1), match.group(2)))
    if stack:
        flush()
    total = sum(owners.values())
    print(f"records walked: {total:,}")
    for owner, count in owners.most_common():
        print(f"{count:10,} {count / total * 100:5.1f} % {owner}")
    print()
    for (owner, frame), count in frames.most_common(top):
        print(f"{count:10,} {owner} {frame}")


if __name__ == "__main__":
    main()
