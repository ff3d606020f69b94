#!/usr/bin/env python3
"""Who holds refinery's heap at heaptrack's peak: reads the stacks `heaptrack_print --flamegraph-cost-type peak -F`
writes and gives each allocation to the leaf-most frame of a refinery module (RefineryRuntime, RefineryProviders,
...), else to the task allocator's slabs, the task objects or the library that made it (Benchmarks/README.md,
"Session 9").

  heaptrack -o FILE refinery run consensus ...        (the realpath.py command line, the fake started by hand)
  heaptrack_print -f FILE.zst --print-peaks 0 --print-allocators 0 --print-temporary 0 --print-leaks 0 \\
      --flamegraph-cost-type peak -F FILE.stacks
  Benchmarks/heapowners.py FILE.stacks [--top 40]

Names are mangled (pipe through `swift demangle --simplified`).
"""
import argparse, collections, re


def module(frame):
    match = re.match(r"\$s(\d+)(\w+)", frame)
    return match.group(2)[: int(match.group(1))] if match else None


def owner(frames):
    for frame in reversed(frames):
        if "StackAllocator" in frame:
            return "task allocator slabs"
        if frame.startswith("swift_task_create_common"):
            return "task objects"
        name = module(frame)
        if name and name.startswith("Refinery"):
            return re.sub(r"\s*\(.*", "", frame)
    for frame in reversed(frames):
        name = module(frame)
        if name:
            return "library " + name
    return "other"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    owners = collections.Counter()
    for line in open(args.stacks):
        stack, _, bytes_ = line.rstrip("\n").rpartition(" ")
        owners[owner(stack.split(";"))] += int(bytes_)
    print(f"peak heap {sum(owners.values()) / 1e6:.1f} MB")
    for name, total in owners.most_common(args.top):
        print(f"{total / 1e6:8.2f} MB  {name}")


if __name__ == "__main__":
    main()
