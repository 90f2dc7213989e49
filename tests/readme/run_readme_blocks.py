#!/usr/bin/env python3
"""Runs every README block fenced as ```sh test against a fresh localaws.

Each block runs under `bash -euo pipefail` with the repository as its working directory, ecr-sweeper on PATH, and
AWS_ENDPOINT_URL, credentials and region pointing at localaws. Before each block the repositories the README's
examples use exist with images, so blocks can be read and run in any order. A block that exits non-zero fails the
test, and so does a README with no tested block (a moved fence must not pass silently)."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

FENCE = re.compile(r"^```sh test[^\n]*\n(.*?)^```", re.M | re.S)
SEEDED = {"my-app": 250, "web": 120}


def admin(endpoint, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(endpoint + path, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--localaws", required=True)
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()

    text = open(args.readme, encoding="utf-8").read()
    blocks = FENCE.findall(text)
    if not blocks:
        print("no ```sh test blocks found in README.md", file=sys.stderr)
        return 1

    server = subprocess.Popen([args.localaws, "--port", "0", "--credentials", "test:test"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        info = json.loads(line)
        endpoint = info["endpoint"]
        env = {
            "PATH": args.bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "HOME": tempfile.mkdtemp(),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        root = os.path.dirname(os.path.abspath(args.readme))
        failed = 0
        for i, block in enumerate(blocks, 1):
            for repo, n in SEEDED.items():
                admin(endpoint, "/_localaws/ecr/seed", {"repository": repo, "images": n, "tagged": True, "indexes": 2})
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=root, env=env,
                               capture_output=True, text=True, timeout=240)
            status = "ok" if r.returncode == 0 else f"FAILED (exit {r.returncode})"
            print(f"--- README block {i}: {status}\n{block.rstrip()}")
            if r.returncode != 0:
                failed += 1
                print("stdout:\n" + r.stdout[-4000:] + "\nstderr:\n" + r.stderr[-4000:])
        print(f"{len(blocks) - failed} passed, {failed} failed")
        return 1 if failed else 0
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
