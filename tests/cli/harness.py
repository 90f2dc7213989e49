"""Shared by the python CLI checks: a localaws child process, seeding, and running the real binaries."""
import argparse
import json
import os
import subprocess
import tempfile
import time
import urllib.request


class LocalAws:
    def __init__(self, localaws, *extra_args):
        self.proc = subprocess.Popen([localaws, "--port", "0", "--credentials", "test:test", *extra_args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        info = json.loads(self.proc.stdout.readline())
        self.endpoint = info["endpoint"]
        self.runtime_api = info.get("runtime_api", "")

    def admin(self, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method="POST" if data is not None else "GET")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return json.loads(e.read() or b"{}")

    def seed(self, repository, images, indexes=0):
        return self.admin("/_localaws/ecr/seed", {"repository": repository, "images": images, "tagged": True,
                                                  "indexes": indexes})

    def env(self, **extra):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": tempfile.mkdtemp(),
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        env.update(extra)
        return env

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run(argv, env, timeout=120):
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


class Bootstrap:
    """The real bootstrap serving localaws's Runtime API; stdout (log lines and EMF records) is collected."""

    def __init__(self, path, aws, **extra):
        env = aws.env(AWS_LAMBDA_RUNTIME_API=aws.runtime_api, AWS_LAMBDA_FUNCTION_NAME="ecr-sweeper", **extra)
        self.out = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([path], env=env, stdout=self.out, stderr=subprocess.DEVNULL, text=True)
        self.aws = aws

    def invoke(self, event, wait_s=60):
        rid = self.aws.admin("/_localaws/invoke", event)["request_id"]
        deadline = time.time() + wait_s
        while time.time() < deadline:
            o = self.aws.admin("/_localaws/outcome/" + rid + "?wait_ms=2000")
            if o.get("status") != "pending":
                return o
        raise RuntimeError("no outcome for " + rid)

    def lines(self):
        self.out.flush()
        self.out.seek(0)
        return [l for l in self.out.read().splitlines() if l.strip()]

    def close(self):
        self.proc.kill()
        self.proc.wait()


def cli_args():
    """The arguments tests/cli/CMakeLists.txt passes every script."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--localaws", required=True)
    ap.add_argument("--source-dir", required=True)
    return ap.parse_args()


def report(failed, summary):
    """Prints each problem and the summary; the exit status."""
    for f in failed:
        print("FAIL " + f)
    print(summary)
    return 1 if failed else 0
