#!/usr/bin/env python3
"""TEST TOOL ONLY, not a product path: stands in for Step Functions' Distributed Map to check the sweep end to end
with the real `bootstrap` binary.

  fake_distributed_map.py BOOTSTRAP LOCALAWS

Starts two localaws executables: the function's account (STS, the Lambda Runtime API, the in-use services) and
a member account's registry (account 210987654321, reached through AWS_ENDPOINT_URL_ECR; its key is the first
one the main localaws's STS issues, since localaws's ECR serves one account with one key). Seeds the member's
registry, runs `bootstrap` under `env -i`, expands the items (accounts x regions) like the Map, invokes the
function once per item through POST /_localaws/invoke + GET /_localaws/outcome/<id>, invokes an incomplete item
again from its cursor like the state machine, and checks the aggregate: an apply run deletes every seeded image,
the function's own account is refused, and the same run again deletes nothing.

The function's timeout is WINDOW_MS (the mode stops at most 2 s, a quarter of that, before it), and every member
ECR call takes MEMBER_LATENCY_MS: selecting the repositories (DescribeRepositories, ListTagsForResource each), the
first repository (listing, re-check listing, BatchDeleteImage) and the second one's take longer than the window,
so the member item always needs a second invocation from its cursor, which the check insists on.
"""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

MEMBER = "210987654321"
MAIN = "123456789012"
MEMBER_KEY = "ASIALOCALAWS100001:localaws-secret-1:localaws-session-token-1"
REPOS = {"team-api": 7, "team-web": 5}
MAX_RESUMES = 5
WINDOW_MS = 2_500
MEMBER_LATENCY_MS = 250


def start_localaws(binary: str, *args: str):
    proc = subprocess.Popen([binary, "--port", "0", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = json.loads(proc.stdout.readline())  # printed after bind: no waiting
    return proc, line


def http(method: str, url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def invoke(endpoint: str, event: dict) -> dict:
    rid = http("POST", f"{endpoint}/_localaws/invoke", event)["request_id"]
    outcome = http("GET", f"{endpoint}/_localaws/outcome/{rid}?wait_ms=50000")  # long poll: no sleep
    if outcome.get("kind") != "response":
        raise RuntimeError(f"invocation {rid} ended with {outcome}")
    return json.loads(outcome["body"])


def item_event(item: dict, run_id: str, cursor: str) -> dict:
    return {"ecrSweeper": {"task": "clean", "accountId": item["accountId"], "region": item["region"],
                           "roleArn": f"arn:aws:iam::{item['accountId']}:role/ecr-sweeper-member", "runId": run_id,
                           "options": {"dryRun": False, "keepCount": 0, "keepDays": 0, "keepTags": [],
                                       "repositories": ["team-*"], "cursor": cursor}}}


def run_map(endpoint: str, accounts: list[str], regions: list[str], run_id: str) -> list[dict]:
    items = [{"accountId": a, "region": r} for a in accounts for r in regions]  # the Map's Items expression
    rows = []
    for item in items:
        cursor, reports = "", []
        while True:
            report = invoke(endpoint, item_event(item, run_id, cursor))
            reports.append(report)
            if report["complete"] or not report.get("cursor") or len(reports) > MAX_RESUMES:
                break
            cursor = report["cursor"]
        rows.append({"item": item, "reports": reports})
    return rows


def total(rows, key):
    return sum(r[key] for row in rows for r in row["reports"])


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    bootstrap, localaws = argv[1], argv[2]
    procs = []
    try:
        main_aws, main_line = start_localaws(localaws, "--account-id", MAIN, "--function-timeout-ms",
                                             str(WINDOW_MS))
        procs.append(main_aws)
        member_aws, member_line = start_localaws(localaws, "--account-id", MEMBER, "--credentials", MEMBER_KEY,
                                                 "--latency-ms", str(MEMBER_LATENCY_MS))
        procs.append(member_aws)
        for repo, n in REPOS.items():
            http("POST", f"{member_line['endpoint']}/_localaws/ecr/seed", {"repository": repo, "images": n})
        env = {"AWS_LAMBDA_RUNTIME_API": main_line["runtime_api"], "AWS_ENDPOINT_URL": main_line["endpoint"],
               "AWS_ENDPOINT_URL_ECR": member_line["endpoint"], "AWS_ACCESS_KEY_ID": "test",
               "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true"}
        fn = subprocess.Popen(["env", "-i", *[f"{k}={v}" for k, v in env.items()], bootstrap],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(fn)

        failures = []
        rows = run_map(main_line["endpoint"], [MEMBER, MAIN], ["us-east-1"], "fake-map-1")
        member_rows = [r for r in rows if r["item"]["accountId"] == MEMBER]
        own_rows = [r for r in rows if r["item"]["accountId"] == MAIN]
        seeded = sum(REPOS.values())
        if total(member_rows, "imagesDeleted") != seeded:
            failures.append(f"apply run deleted {total(member_rows, 'imagesDeleted')} of {seeded} seeded images")
        if not all(r["reports"][-1]["complete"] for r in member_rows):
            failures.append(f"member item incomplete: {member_rows}")
        if not all(len(r["reports"]) > 1 and r["reports"][0].get("cursor") for r in member_rows):
            failures.append(f"the member item was not resumed from a cursor: {member_rows}")
        processed = sum(r["repositoriesProcessed"] for row in member_rows for r in row["reports"])
        if processed != len(REPOS):
            failures.append(f"{processed} repositories processed over the resumed invocations, want {len(REPOS)}")
        if [r["reports"][-1].get("error", {}).get("code") for r in own_rows] != ["OwnAccountRefused"]:
            failures.append(f"the function's own account was not refused: {own_rows}")
        for repo in REPOS:
            left = http("GET", f"{member_line['endpoint']}/_localaws/ecr/summary?repository={repo}")["images"]
            if left:
                failures.append(f"{repo}: {left} images left")
        again = run_map(main_line["endpoint"], [MEMBER], ["us-east-1"], "fake-map-1")
        if total(again, "imagesDeleted") or total(again, "imagesPlanned"):
            failures.append(f"the same run again deleted or planned something: {again}")
        for f in failures:
            print(f"FAIL: {f}", file=sys.stderr)
        if failures:
            return 1
        invocations = sum(len(r["reports"]) for r in rows)
        print(f"OK: {len(rows)} items in {invocations} invocations (resumed from a cursor), "
              f"{total(rows, 'imagesDeleted')} images deleted, own account refused, a repeated run deleted nothing")
        return 0
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
