#!/usr/bin/env python3
"""Many workers on one PostgreSQL batch (issue 13, item 5; Benchmarks/README.md).

A throwaway PostgreSQL cluster (.ci/postgres.sh's `postgres_start`, plus pg_stat_statements), the release
`refinery` binary and RefineryFakeProvider at zero delay. One input of ITEMS questions (a JSONL file); for
each pass a fresh database:

  baseline   `refinery batch WORKFLOW --store postgres://...`: one process works the whole batch.
  K workers  `refinery batch WORKFLOW --store postgres://... --detach` enqueues the batch (timed apart), then
             K `refinery worker --store postgres://... --batch ID --concurrency C --exit-when-done` processes
             start at once; the pass ends when the last one exits.

Per pass: items/s and calls/s (wall from the first process's start to the last one's exit), refinery's CPU per
call (user + sys of every refinery process from wait4's rusage ÷ calls), PostgreSQL's CPU per call (the
postmaster's and its children's user + sys from /proc, reaped backends included through the postmaster's
cutime/cstime), the fake provider's CPU per request (its /stats), and from the server's own counters:
statements (pg_stat_statements calls), commits (pg_stat_database xact_commit) and WAL bytes (pg_stat_wal) per
call. With --wire every pass is repeated through a counting TCP proxy between refinery and the server (a
separate, slower pass, not timed): round trips per call (a round trip = the client sending after it last
received: one request/response turn, however TCP splits it), bytes each way per call, and connections.

After every pass SQL on the ledger checks that every item is done exactly once: ITEMS batch_items rows, all
finished, one run each; the succeeded call rows equal the calls the items report and the requests the fake
served (no call paid twice); no (run, round, node) recorded twice.

  Benchmarks/workers.py [--bin PATH] [--fake PATH] [--items 10000] [--workers 1,2,4] [--runs 1]
                        [--concurrency 8] [--workflow vote] [--models fake/m:3] [--no-baseline] [--wire]
                        [--fsync on|off]
"""
import argparse, asyncio, json, os, shlex, shutil, statistics, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realpath  # noqa: E402  (the fake's start-up, its /stats and the sandbox are shared)
from realpath import fake_stats  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ticks = os.sysconf("SC_CLK_TCK")


# --- The throwaway cluster -------------------------------------------------------------------------------

class Cluster:
    """`postgres_start` from .ci/postgres.sh, then pg_stat_statements preloaded (one restart)."""

    def __init__(self, fsync):
        script = (f"source {shlex.quote(root)}/.ci/postgres.sh && postgres_start >&2 && "
                  'printf "%s\\n" "$REFINERY_TEST_POSTGRES" "$PG_TEST_DIR" "$PG_TEST_CTL" "$(postgres_bin)"')
        out = subprocess.run(["bash", "-c", script], check=True, stdout=subprocess.PIPE, text=True).stdout
        url, self.dir, self.ctl, self.bin = out.strip().split("\n")
        # postgres://refinery:PASSWORD@127.0.0.1:PORT/refinery_test: refinery gets the password from PGPASSWORD.
        credentials, rest = url[len("postgres://"):].split("@", 1)
        self.user, self.password = credentials.split(":", 1)
        self.host, self.port = rest.split("/", 1)[0].split(":")
        with open(f"{self.dir}/data/postgresql.conf", "a") as conf:
            conf.write("shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.max = 1000\n"
                       f"fsync = {fsync}\n")
        self.pg_ctl("-m fast restart")
        self.sql("postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def pg_ctl(self, command):
        # python3's subprocess closes inherited descriptors: the server must not keep our pipes open.
        subprocess.run(f"{self.ctl} {command} >/dev/null 2>&1", shell=True, check=True)

    def stop(self):
        subprocess.run(["bash", "-c", f"source {shlex.quote(root)}/.ci/postgres.sh && PG_TEST_DIR={self.dir} "
                        f"PG_TEST_CTL={shlex.quote(self.ctl)} postgres_stop"], check=False)

    def url(self, database, port=None):
        return f"postgres://{self.user}@{self.host}:{port or self.port}/{database}"

    def sql(self, database, statement):
        """Rows of one statement, as lists of text."""
        env = dict(os.environ, PGPASSWORD=self.password)
        out = subprocess.run(
            [f"{self.bin}/psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", self.host,
             "-p", self.port, "-U", self.user, "-d", database, "-c", statement],
            env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def cpu_seconds(self):
        """User + sys of the postmaster and every process it started, exited ones included (reaped children
        are in the postmaster's cutime/cstime)."""
        with open(f"{self.dir}/data/postmaster.pid") as f:
            postmaster = int(f.readline())
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited in between
            # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
            if int(pid) == postmaster or int(fields[1]) == postmaster:
                total += sum(int(v) for v in fields[11:15])
        return total / ticks

    def counters(self, database):
        """The server's own counts: statements, commits, WAL bytes."""
        statements, executing = self.sql(
            "postgres", "SELECT COALESCE(SUM(calls), 0), COALESCE(SUM(total_exec_time), 0) FROM pg_stat_statements s "
            f"JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{database}'")[0]
        commits = int(self.sql("postgres", f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'")[0][0])
        wal = int(self.sql("postgres", "SELECT wal_bytes FROM pg_stat_wal")[0][0])
        return int(statements), float(executing) / 1000, commits, wal

    def top_statements(self, database, calls):
        """The statements that took the server's time, per model call."""
        # Multi-row INSERTs of different widths are different statements to pg_stat_statements: group them.
        return self.sql(
            "postgres", f"SELECT round(SUM(calls)::numeric / {calls}, 3), round((SUM(total_exec_time) * 1000 / {calls})"
            "::numeric, 1), left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS q FROM pg_stat_statements s "
            f"JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{database}' GROUP BY q "
            "ORDER BY SUM(total_exec_time) DESC LIMIT 10")


# --- A counting TCP proxy --------------------------------------------------------------------------------

class WireCounter:
    """Relays 127.0.0.1:port to the server and counts bytes each way, connections, and round trips: a turn
    starts each time a client sends after it last received (however TCP segments the bytes)."""

    def __init__(self, target_port):
        self.target = int(target_port)
        self.up = self.down = self.turns = self.connections = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait()

    def _serve(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._relay, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _relay(self, client_reader, client_writer):
        self.connections += 1
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target)
        last = ["down"]

        async def pump(reader, writer, up):
            try:
                while data := await reader.read(1 << 16):
                    if up:
                        self.up += len(data)
                        if last[0] != "up":
                            self.turns += 1
                            last[0] = "up"
                    else:
                        self.down += len(data)
                        last[0] = "down"
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        await asyncio.gather(pump(client_reader, server_writer, True), pump(server_reader, client_writer, False))

    def snapshot(self):
        return self.up, self.down, self.turns, self.connections


# --- refinery and the fake -------------------------------------------------------------------------------

def sandbox(port, password):
    """realpath.py's sandbox (providers.yaml naming the fake, XDG folders), with the database password."""
    home, env = realpath.sandbox(port, "openai")
    env["PGPASSWORD"] = password
    return home, env


def write_input(path, items):
    with open(path, "w") as f:
        for i in range(items):
            f.write(json.dumps({"id": f"q{i}", "question": f"What is {i} + {i}?"}) + "\n")


class Processes:
    """Starts refinery processes and collects each one's exit status and rusage (wait4)."""

    def __init__(self, env, home):
        self.env, self.home, self.running, self.cpu, self.failures = env, home, {}, 0.0, []

    def start(self, argv, name):
        out = open(f"{self.home}/{name}.out", "w")
        err = open(f"{self.home}/{name}.err", "w")
        child = subprocess.Popen(argv, env=self.env, cwd=self.home, stdout=out, stderr=err)
        out.close(); err.close()
        self.running[child.pid] = name
        return child

    def wait_all(self, deadline_s):
        started = time.monotonic()
        while self.running:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                if time.monotonic() - started > deadline_s:
                    for other in self.running:
                        os.kill(other, 9)
                    sys.exit(f"refinery processes still running after {deadline_s} s: {self.running}")
                time.sleep(0.01)
                continue
            if pid not in self.running:
                continue
            name = self.running.pop(pid)
            self.cpu += usage.ru_utime + usage.ru_stime
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                self.failures.append(f"{name} exited {code}: {open(f'{self.home}/{name}.err').read()[-1500:]}")
        return time.monotonic()

    def output(self, name):
        return open(f"{self.home}/{name}.out").read()


# --- One pass --------------------------------------------------------------------------------------------

def run_pass(args, cluster, fake_port, input_path, workers, number, proxy=None):
    """workers = 0: the single-process baseline. Returns the pass's figures."""
    database = f"bench_{number}"
    cluster.sql("postgres", f"CREATE DATABASE {database}")
    home, env = sandbox(fake_port, cluster.password)
    url = cluster.url(database, proxy.port if proxy else None)
    batch = [args.bin, "batch", args.workflow, "--input", input_path, "--models", args.models, "--quiet",
             "--store", url, "--max-concurrent", str(4 * args.concurrency)]
    # Migrate first (an untimed `batch list`), so no pass pays the schema.
    warm = Processes(env, home)
    warm.start([args.bin, "batch", "list", "--store", url], "migrate")
    warm.wait_all(120)
    if warm.failures:
        sys.exit("\n".join(warm.failures))
    enqueue = None
    batch_id = None
    if workers:
        queue = Processes(env, home)
        started = time.monotonic()
        queue.start(batch + ["--detach"], "enqueue")
        enqueue = queue.wait_all(600) - started
        if queue.failures:
            sys.exit("\n".join(queue.failures))
        batch_id = next((token for token in reversed(queue.output("enqueue").split()) if len(token) >= 8), None)
        if not batch_id:
            sys.exit(f"`batch --detach` printed no batch id: {queue.output('enqueue')!r}")

    cluster.sql("postgres", "SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')")
    counters_before = cluster.counters(database)
    fake_before = fake_stats(fake_port)
    wire_before = proxy.snapshot() if proxy else None
    pg_before = cluster.cpu_seconds()
    processes = Processes(env, home)
    started = time.monotonic()
    if workers:
        for k in range(workers):
            processes.start([args.bin, "worker", "--store", url, "--batch", batch_id, "--concurrency",
                             str(args.concurrency), "--exit-when-done", "--quiet"], f"worker{k}")
    else:
        processes.start(batch + ["--concurrency", str(args.concurrency), "--output", f"{home}/results.jsonl"], "batch")
    ended = processes.wait_all(3600)
    wall = ended - started
    time.sleep(0.5)  # the backends of the exited processes exit and are reaped
    pg_cpu = cluster.cpu_seconds() - pg_before
    wire_after = proxy.snapshot() if proxy else None
    fake_after = fake_stats(fake_port)
    if processes.failures:
        sys.exit("\n".join(processes.failures))
    # The harness's own queries run in the database `postgres`, so these deltas are refinery's alone.
    statements, executing, commits, wal = (a - b for a, b in zip(cluster.counters(database), counters_before))
    served = fake_after["requests"] - fake_before["requests"]
    calls = check_exactly_once(cluster, database, args.items, served)
    if args.statements:
        print("    statements per call, server µs per call, statement:")
        for per_call, micros, query in cluster.top_statements(database, calls):
            print(f"      {per_call:>6} {micros:>7}  {query}")
    figures = {
        "workers": workers, "wall": wall, "enqueue": enqueue, "items_s": args.items / wall, "calls": calls,
        "calls_s": calls / wall, "cpu_call": processes.cpu / calls * 1e6, "pg_call": pg_cpu / calls * 1e6,
        "fake_call": (fake_after["cpu_us"] - fake_before["cpu_us"]) / served,
        "statements_call": statements / calls, "exec_call": executing / calls * 1e6, "commits_call": commits / calls, "wal_call": wal / calls,
    }
    if proxy:
        up, down, turns, connections = (a - b for a, b in zip(wire_after, wire_before))
        figures.update(trips_call=turns / calls, up_call=up / calls, down_call=down / calls, connections=connections)
    cluster.sql("postgres", f"DROP DATABASE {database} WITH (FORCE)")
    shutil.rmtree(home, ignore_errors=True)
    return figures


def check_exactly_once(cluster, database, items, served):
    """Every item done once, one run each, every call recorded once and paid once. Returns the calls."""
    def one(statement):
        return cluster.sql(database, statement)[0]

    rows, distinct, runs, unfinished = map(int, one(
        "SELECT count(*), count(DISTINCT item_id), count(DISTINCT run_id), "
        "count(*) FILTER (WHERE status IN ('pending', 'running', 'failed', 'cancelled', 'batch_budget_exhausted')) "
        "FROM batch_items"))
    statuses = cluster.sql(database, "SELECT status, count(*) FROM batch_items GROUP BY 1 ORDER BY 1")
    run_rows = int(one("SELECT count(*) FROM runs")[0])
    item_calls, succeeded, doubled = map(int, one(
        "SELECT (SELECT COALESCE(SUM(calls), 0) FROM batch_items), "
        "(SELECT count(*) FROM calls WHERE status = 'succeeded'), "
        "(SELECT count(*) FROM (SELECT 1 FROM calls GROUP BY run_id, round, node HAVING count(*) > 1) d)"))
    problems = []
    if not (rows == distinct == runs == run_rows == items):
        problems.append(f"{rows} item rows, {distinct} distinct items, {runs} run ids, {run_rows} runs; "
                        f"expected {items} of each")
    if unfinished:
        problems.append(f"{unfinished} items not done: {statuses}")
    if not (item_calls == succeeded == served):
        problems.append(f"the items report {item_calls} calls, the ledger has {succeeded} succeeded calls, "
                        f"the fake served {served} requests")
    if doubled:
        problems.append(f"{doubled} (run, round, node) recorded more than once")
    if problems:
        sys.exit(f"{database}: " + "; ".join(problems))
    return succeeded


# --- Main ------------------------------------------------------------------------------------------------

def spread(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return fmt.format(values[0])
    return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=f"{root}/.build-release/release/refinery")
    parser.add_argument("--fake", default=f"{root}/.build-release/release/RefineryFakeProvider")
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts; empty for the baseline only")
    parser.add_argument("--runs", type=int, default=1, help="passes per row")
    parser.add_argument("--concurrency", type=int, default=8, help="items in flight per process")
    parser.add_argument("--workflow", default="vote")
    parser.add_argument("--models", default="fake/m:3")
    parser.add_argument("--no-baseline", action="store_true", help="skip the single-process `refinery batch` row")
    parser.add_argument("--wire", action="store_true", help="repeat each row once through the counting proxy")
    parser.add_argument("--fsync", choices=["on", "off"], default="on")
    parser.add_argument("--statements", action="store_true", help="print each pass's costliest statements")
    args = parser.parse_args()
    args.bin, args.fake = os.path.abspath(args.bin), os.path.abspath(args.fake)
    for path in (args.bin, args.fake):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} is not built (Benchmarks/README.md says how)")

    with open("/proc/loadavg") as f:
        print(f"load average before: {f.read().split()[:3]}, {os.cpu_count()} cores")
    cluster = Cluster(args.fsync)
    version = cluster.sql("postgres", "SHOW server_version")[0][0]
    fake, fake_port = realpath.start_fake(args.fake, 0)
    work = tempfile.mkdtemp(prefix="refinery-workers-input-")
    try:
        input_path = f"{work}/questions.jsonl"
        write_input(input_path, args.items)
        print(f"PostgreSQL {version}, fsync {args.fsync}; {args.items:,} items of `{args.workflow}` with "
              f"--models {args.models}, --concurrency {args.concurrency} per process; {args.runs} pass(es) per "
              "row, figures min / median / max", flush=True)
        rows = ([0] if not args.no_baseline else []) + [int(k) for k in args.workers.split(",") if k]
        proxy = WireCounter(cluster.port) if args.wire else None
        results, number = {}, 0
        for workers in rows:
            for _ in range(args.runs):
                number += 1
                figures = run_pass(args, cluster, fake_port, input_path, workers, number)
                results.setdefault(workers, []).append(figures)
                print(f"  pass {number}: {'baseline' if not workers else f'{workers} workers'} "
                      + json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}),
                      flush=True)
            if proxy:
                number += 1
                figures = run_pass(args, cluster, fake_port, input_path, workers, number, proxy)
                results[workers][0].update({k: figures[k] for k in ("trips_call", "up_call", "down_call",
                                                                    "connections")})
                print(f"  pass {number} (through the proxy, not timed): "
                      + json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}),
                      flush=True)
        print()
        print("| processes | calls | items/s | calls/s | refinery CPU per call (µs) | PostgreSQL CPU per call (µs) "
              "| fake CPU per request (µs) | statements per call | statement execution per call (µs) | commits per call | WAL bytes per call "
              "| round trips per call | bytes per call (to server / from server) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for workers, passes in results.items():
            def col(key, fmt):
                return spread([p.get(key) for p in passes], fmt)
            name = "`refinery batch` (1 process)" if not workers else f"{workers} × `refinery worker`"
            wire = passes[0]
            trips = f"{wire['trips_call']:.2f}" if "trips_call" in wire else "—"
            bytes_ = f"{wire['up_call']:,.0f} / {wire['down_call']:,.0f}" if "up_call" in wire else "—"
            print(f"| {name} | {passes[0]['calls']:,} | {col('items_s', '{:,.0f}')} | {col('calls_s', '{:,.0f}')} | "
                  f"{col('cpu_call', '{:.0f}')} | {col('pg_call', '{:.0f}')} | {col('fake_call', '{:.0f}')} | "
                  f"{col('statements_call', '{:.2f}')} | {col('exec_call', '{:.0f}')} | {col('commits_call', '{:.2f}')} | "
                  f"{col('wal_call', '{:,.0f}')} | {trips} | {bytes_} |")
        enqueues = [p["enqueue"] for passes in results.values() for p in passes if p["enqueue"]]
        if enqueues:
            print(f"\n`--detach` enqueueing {args.items:,} items: {spread(enqueues, '{:.2f}')} s")
    finally:
        fake.kill()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[:3]}")


if __name__ == "__main__":
    main()
