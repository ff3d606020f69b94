#!/usr/bin/env python3
"""The async frames a call's task holds while it waits for its reply, as the task allocator lays them out
(Benchmarks/README.md, "Session 10"). Runs the `realpath.py` command line (`consensus`, N members, 2 rounds) with
`taskframes.c` preloaded (built with the Swift toolchain's clang), then for the tasks of the calls prints: the slabs
the allocator would take (its rule: a frame goes in the current slab if it fits, else in the next slab if that is
empty and big enough, else in a new slab of max(984, frame) bytes), and the stack of allocations at its deepest
(a `TaskStack` reservation, allocated and freed at once, is left out of the depth). Each line is one allocation,
16 bytes of header included, named by the function that made it: in Swift's async ABI the caller allocates its
callee's frame, so a line is the frame of the function the named one calls. The runtime's own allocations (a
task-local's item, a cancellation handler's record, ~0.1 KB each) are not seen.

  Benchmarks/taskframes.py [--bin PATH] [--fake PATH] [--n 10]
"""
import argparse, bisect, collections, glob, os, shutil, struct, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from realpath import root, sandbox, start_fake  # noqa: E402

SLAB_CAPACITY = 1024 - 32 - 8  # the runtime's SlabCapacity: a 1 KiB malloc less the slab header


def build_tracer(directory):
    clang = os.path.join(os.path.dirname(os.path.realpath(shutil.which("swift"))), "clang")
    library = f"{directory}/taskframes.so"
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "taskframes.c")
    subprocess.run([clang, "-O2", "-shared", "-fPIC", "-o", library, source, "-ldl", "-lpthread"], check=True)
    return library


class Symbols:
    def __init__(self, maps):
        self.ranges, self.bases, self.tables, self.cache = [], {}, {}, {}
        for line in open(maps):
            parts = line.split()
            if len(parts) < 6:
                continue
            low, high = (int(x, 16) for x in parts[0].split("-"))
            if int(parts[2], 16) == 0 and parts[5] not in self.bases:
                self.bases[parts[5]] = low
            if "x" in parts[1]:
                self.ranges.append((low, high, parts[5]))

    def table(self, path):
        if path not in self.tables:
            out = subprocess.run(["nm", "-n", "--defined-only", path], capture_output=True, text=True).stdout
            rows = [(int(p[0], 16), p[2]) for p in (l.split() for l in out.splitlines()) if len(p) == 3 and p[1] in "tTwW"]
            self.tables[path] = ([a for a, _ in rows], [n for _, n in rows])
        return self.tables[path]

    def name(self, address):
        if address not in self.cache:
            self.cache[address] = hex(address)
            for low, high, path in self.ranges:
                if low <= address < high:
                    addresses, names = self.table(path)
                    i = bisect.bisect_right(addresses, address - self.bases.get(path, low)) - 1
                    self.cache[address] = names[i] if i >= 0 else "?"
                    break
        return self.cache[address]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=f"{root}/.build-release/release/refinery")
    parser.add_argument("--fake", default=f"{root}/.build-release/release/RefineryFakeProvider")
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="taskframes-")
    library = build_tracer(work)
    fake, port = start_fake(args.fake, 200)
    home, env = sandbox(port, "openai")
    env.update(LD_PRELOAD=library, TATRACE_DIR=work)
    n = args.n
    argv = [
        args.bin, "run", "consensus", "What is 2+2?", "--models", f"fake/m:{n}", "--min-rounds", "2",
        "--max-rounds", "2", "--max-concurrent", str(max(8, 2 * n * n)), "--timeout", "600",
        "--store", f"{home}/runs.db", "--output-format", "json", "--quiet",
    ]
    subprocess.run(argv, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fake.kill()
    shutil.rmtree(home, ignore_errors=True)
    records = []
    for path in glob.glob(f"{work}/*.bin"):
        records.extend(struct.iter_unpack("<5Q", open(path, "rb").read()))
    records.sort()
    symbols = Symbols(glob.glob(f"{work}/*.maps")[0])
    names = sorted({symbols.name(r[4]) for r in records})
    demangled = dict(zip(names, subprocess.run(
        ["swift-demangle", "--simplified"], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()))
    shutil.rmtree(work, ignore_errors=True)
    by_task = collections.defaultdict(list)
    for record in records:
        by_task[record[1]].append(record)
    free = 2**64 - 1
    layouts, stacks = collections.Counter(), collections.Counter()
    for rows in by_task.values():
        stack, slabs, deepest = [], [], (0, [])
        for i, (_, _, size, pointer, caller) in enumerate(rows):
            if size == free:
                if stack and stack[-1][0] == pointer:
                    _, bytes_, _, slab = stack.pop()
                    slabs[slab][1] -= bytes_
                continue
            bytes_ = ((size + 15) & ~15) + 16
            current = stack[-1][3] if stack else 0
            if slabs and slabs[current][1] + bytes_ <= slabs[current][0]:
                slab = current
            elif current + 1 < len(slabs) and bytes_ <= slabs[current + 1][0]:
                slab = current + 1
            else:
                freed = sum(s[0] for s in slabs[current + 1:])
                del slabs[current + 1:]
                slabs.append([max(SLAB_CAPACITY, bytes_, freed), 0])
                slab = len(slabs) - 1
            slabs[slab][1] += bytes_
            stack.append((pointer, bytes_, caller, slab))
            reservation = i + 1 < len(rows) and rows[i + 1][2] == free and rows[i + 1][3] == pointer
            depth = sum(s[1] for s in stack)
            if not reservation and depth > deepest[0]:
                deepest = (depth, [(demangled[symbols.name(c)], b) for _, b, c, _ in stack])
        if not any("RunExecutor" in name for name, _ in deepest[1]):
            continue
        layouts[tuple(s[0] for s in slabs)] += 1
        stacks[tuple(deepest[1])] += 1
    print(f"tasks of calls: {sum(layouts.values())}")
    for layout, count in layouts.most_common(3):
        print(f"{count} tasks: slabs {' + '.join(map(str, layout))} = {sum(layout)} bytes")
    for stack, count in stacks.most_common(1):
        print(f"{count} tasks: deepest stack {sum(b for _, b in stack)} bytes")
        for name, bytes_ in stack:
            print(f"{bytes_:6d}  {name[:140]}")


if __name__ == "__main__":
    main()
