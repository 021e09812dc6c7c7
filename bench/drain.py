#!/usr/bin/env python3
"""Draining a queue of sandbox deployments: one release per service, COUNT deployments posted
without waiting (one per service, so each is the head of its lane), then read until every one
succeeded.

    KUBERNAUT_TOKEN=... bench/drain.py BASE_URL COUNT

Prints the POST rate and the drain rate (deployments succeeded per second, from the first POST
to the last success).
"""
import json
import os
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

TEMPLATE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
spec:
  replicas: 1
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


def call(base, method, path, body=None):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        method=method,
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def main():
    base, count = sys.argv[1], int(sys.argv[2])
    prefix = f"drain-{int(time.time())}"
    services = [f"{prefix}-{i}" for i in range(count)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: call(base, "POST", "/api/releases", {
            "service": s, "version": "1", "template": TEMPLATE,
            "attributes": {"image": "registry.example.com/bench:1"}}), services))
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda s: call(base, "POST", "/api/deployments", {
            "service": s, "version": "1", "context": "sandbox"}), services))
    posted = time.perf_counter() - started
    while True:
        page = call(base, "GET", "/api/deployments?status=succeeded&limit=1")
        if page["count"] >= count:
            break
        time.sleep(0.2)
    drained = time.perf_counter() - started
    print(f"{count} queued: POST {count / posted:.0f}/s, drained {count / drained:.0f}/s "
          f"({drained:.1f} s)")


if __name__ == "__main__":
    main()
