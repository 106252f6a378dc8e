#!/usr/bin/env python3
"""Webhook receiver for bench/webhooks/run.sh: counts distinct lead.created events (by event id) and writes the
running totals to a state file. Answers 200 to every request; loopback only."""
import json, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, state = int(sys.argv[1]), sys.argv[2]
seen, lock = set(), threading.Lock()
requests = 0

class H(BaseHTTPRequestHandler):
    def do_POST(self):
        global requests
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with lock:
            requests += 1
            for e in body.get("events", []):
                if e["type"] == "lead.created":
                    seen.add(e["id"])
            # Write-then-rename: the runner polls this file and must never read it half-written.
            with open(state + ".tmp", "w") as f:
                f.write(f"{len(seen)} {requests}\n")
            os.replace(state + ".tmp", state)
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass

ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
