#!/usr/bin/env python3
"""Differential check of two `refinery` binaries (issue 12 item 4, Benchmarks/README.md): the same requests on the
wire, the same ledger rows and answer, and a run recorded by OLD, killed with SIGKILL, resumed by NEW without paying a
recorded call twice.

  Benchmarks/diffcheck.py OLD_BIN NEW_BIN FAKE_BIN [MODEL]     (MODEL: fake/m, or anthropic/claude-sonnet-4-5)

Both binaries run `refinery run consensus` (N = 3, 2 rounds) against RefineryFakeProvider through a recording proxy.
Requests (path, headers, body bytes) are compared as sorted lists; ledger rows with ids, times, decimals, the order
calls finished in and the per-run anonymization seed masked; the answer with its elapsed time masked.
"""
import http.server, json, os, re, shutil, signal, socketserver, sqlite3, subprocess, sys, tempfile, threading, time
import urllib.request

old_bin, new_bin, fake_bin = sys.argv[1:4]
MODEL = sys.argv[4] if len(sys.argv) > 4 else "fake/m"


def start_fake(delay_ms):
    fake = subprocess.Popen([fake_bin, "--delay-ms", str(delay_ms)], stdout=subprocess.PIPE, text=True)
    return fake, int(fake.stdout.readline())


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log = []
    upstream = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = sorted((k.lower(), v) for k, v in self.headers.items()
                         if k.lower() not in ("host", "content-length", "traceparent"))
        with Proxy.lock:
            Proxy.log.append((self.path, tuple(headers), body))
        req = urllib.request.Request(f"http://127.0.0.1:{Proxy.upstream}{self.path}", data=body, method="POST",
                                     headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
        with urllib.request.urlopen(req) as reply:
            data = reply.read()
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client killed mid-request (the SIGKILL test) is expected, not an error of the check


def sandbox(port):
    home = tempfile.mkdtemp(prefix="diffcheck-")
    os.makedirs(f"{home}/config/refinery")
    with open(f"{home}/config/refinery/providers.yaml", "w") as f:
        f.write(f'providers:\n  - {{ name: fake, base_url: "http://127.0.0.1:{port}" }}\n')
    env = {"PATH": os.environ["PATH"], "HOME": home, "NO_COLOR": "1", "XDG_DATA_HOME": f"{home}/data",
           "XDG_CONFIG_HOME": f"{home}/config", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
           "ANTHROPIC_API_KEY": "sk-ant-diffcheck"}
    return home, env


def argv(binary, home, n):
    return [binary, "run", "consensus", "What is 2+2?", "--models", f"{MODEL}:{n}", "--min-rounds", "2",
            "--max-rounds", "2", "--store", f"{home}/runs.db", "--output-format", "json", "--quiet"]


VOLATILE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"
                      r"\"elapsed_ms\\?\":\s*\d+|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?|\b\d{10,}\b|\b\d+\.\d+\b")


# Columns whose values depend on the order calls finish in or on the clock, not on what was sent.
ORDERED = {"seq", "id", "run_id", "sequence", "position", "node", "member", "started_at", "finished_at",
           "created_at", "updated_at", "anonymization", "latency_ms", "duration_ms", "elapsed_ms"}


def ledger_rows(path):
    db = sqlite3.connect(path)
    out = {}
    for (table,) in db.execute("select name from sqlite_master where type='table' order by name"):
        cursor = db.execute(f"select * from {table}")
        names = [d[0] for d in cursor.description]
        rows = []
        for row in cursor:
            rows.append(tuple((k, VOLATILE.sub("#", str(v))) for k, v in zip(names, row) if k not in ORDERED))
        out[table] = sorted(rows)
    return out


def main():
    fake, fake_port = start_fake(0)
    proxy = Server(("127.0.0.1", 0), Proxy)
    Proxy.upstream = fake_port
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    port = proxy.server_address[1]
    results = {}
    for name, binary in (("old", old_bin), ("new", new_bin)):
        Proxy.log = []
        home, env = sandbox(port)
        done = subprocess.run(argv(binary, home, 3), env=env, cwd=home, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout)
        results[name] = (sorted(Proxy.log), ledger_rows(f"{home}/runs.db"),
                         VOLATILE.sub("#", json.dumps(report.get("answer", report), sort_keys=True)))
        shutil.rmtree(home)
    (wire_a, rows_a, ans_a), (wire_b, rows_b, ans_b) = results["old"], results["new"]
    print(f"requests: old {len(wire_a)}, new {len(wire_b)}; identical bytes and headers: {wire_a == wire_b}")
    if wire_a != wire_b:
        for a, b in zip(wire_a, wire_b):
            if a != b:
                print("first differing request:\n old", a, "\n new", b)
                break
    same_rows = True
    for table in sorted(set(rows_a) | set(rows_b)):
        if rows_a.get(table) != rows_b.get(table):
            same_rows = False
            print(f"ledger table {table} differs: old {len(rows_a.get(table, []))} rows, "
                  f"new {len(rows_b.get(table, []))}")
            for a, b in zip(rows_a.get(table, []), rows_b.get(table, [])):
                if a != b:
                    for x, y in zip(a, b):
                        if x != y:
                            i = next(i for i in range(min(len(x[1]), len(y[1])) + 1) if x[1][i:i+1] != y[1][i:i+1])
                            print("  column", x[0], "at", i, "\n  old", x[1][max(0, i-200):i+200], "\n  new", y[1][max(0, i-200):i+200])
                            break
                    break
    print(f"ledger rows identical (ids, times and decimals masked): {same_rows}; answers identical: {ans_a == ans_b}")
    if ans_a != ans_b:
        print(" old answer", ans_a[:400], "\n new answer", ans_b[:400])
    fake.kill()

    # Resume across versions: OLD records part of a run (200 ms a call) and is killed; NEW resumes it.
    fake, fake_port = start_fake(200)
    Proxy.upstream = fake_port
    Proxy.log = []
    home, env = sandbox(port)
    child = subprocess.Popen(argv(old_bin, home, 3), env=env, cwd=home, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    time.sleep(0.75)  # the proposals (3) are recorded, the reviews (6) in flight
    child.send_signal(signal.SIGKILL)
    child.wait()
    sent_before = list(Proxy.log)
    db = sqlite3.connect(f"{home}/runs.db")
    run_id = db.execute("select id from runs").fetchone()[0]
    tables = [t for (t,) in db.execute("select name from sqlite_master where type='table'")]
    calls_table = "calls" if "calls" in tables else [t for t in tables if "call" in t][0]
    recorded = db.execute(f"select count(*) from {calls_table}").fetchone()[0]
    db.close()
    Proxy.log = []
    done = subprocess.run([new_bin, "resume", run_id, "--store", f"{home}/runs.db", "--output-format", "json",
                           "--quiet"], env=env, cwd=home, capture_output=True, text=True)
    resumed = list(Proxy.log)
    repeated = [r for r in resumed if any(r[2] == s[2] for s in sent_before[:recorded])]
    print(f"kill -9 after {len(sent_before)} requests sent, {recorded} calls recorded; resume exit "
          f"{done.returncode}, {len(resumed)} requests sent by the resume, 18 - recorded = {18 - recorded}")
    print(f"resume stderr tail: {done.stderr[-300:]!r}")
    shutil.rmtree(home)
    fake.kill()
    proxy.shutdown()


main()
