#!/usr/bin/env python3
"""Overhead of a sandbox deployment: POST /api/deployments?wait=60 until it succeeded.

    KUBERNAUT_TOKEN=... bench/deployments.py BASE_URL [COUNT] [CONCURRENCY]

Creates one release, then deploys it COUNT times (default 200) from CONCURRENCY clients
(default 1, sequential) and prints the latency of POST-to-succeeded: mean, p50, p90, p99, max,
and the rate. Each deployment renders the manifest, stores it, is claimed by the worker,
applies 2 objects to the sandbox and watches 1 workload roll out. Every request sends the API
token in KUBERNAUT_TOKEN (bench/deployments.sh sets it to its server's bootstrap admin token).
"""
import json
import os
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

TEMPLATE = """apiVersion: v1
kind: Service
metadata:
  name: {{service}}
spec:
  selector:
    app: {{service}}
  ports:
    - port: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
spec:
  replicas: 3
  selector:
    matchLabels:
      app: {{service}}
  template:
    metadata:
      labels:
        app: {{service}}
    spec:
      containers:
        - name: app
          image: "{{image}}"
"""

TOKEN = os.environ.get("KUBERNAUT_TOKEN") or sys.exit("KUBERNAUT_TOKEN is not set")


def post(base, path, body):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def main():
    base = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    service = f"bench-deploy-{int(time.time())}"
    post(base, "/api/releases", {
        "service": service, "version": "1", "template": TEMPLATE,
        "attributes": {"image": "registry.example.com/bench:1"},
    })

    def deploy(_):
        started = time.perf_counter()
        body = post(base, "/api/deployments?wait=60",
                    {"service": service, "version": "1", "context": "sandbox"})
        if body["status"] != "succeeded":
            raise SystemExit(f"deployment did not succeed: {body}")
        return (time.perf_counter() - started) * 1000

    wall = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(pool.map(deploy, range(count)))
    wall = time.perf_counter() - wall
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"{count} deployments, concurrency {concurrency}: {count / wall:.1f}/s; POST to "
          f"succeeded mean {statistics.mean(latencies):.1f} ms, p50 {pick(0.5):.1f} ms, "
          f"p90 {pick(0.9):.1f} ms, p99 {pick(0.99):.1f} ms, max {latencies[-1]:.1f} ms")


if __name__ == "__main__":
    main()
