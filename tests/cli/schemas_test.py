#!/usr/bin/env python3
"""Every `--output json` document of the real binary, and the sweep task's report from the real bootstrap,
validated against docs/schemas/. Each case runs a command against a fresh localaws and names its schema; a
document that does not parse, a schema that does not validate it, or fewer documents than cases fail the test."""
import json
import os
import sys

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Bootstrap, LocalAws, cli_args, run  # noqa: E402

POLICY = {"rules": [{"rulePriority": 1, "description": "keep 2",
                     "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2},
                     "action": {"type": "expire"}}]}
BAD_POLICY = {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                                          "countNumber": 0}, "action": {"type": "expire"}}]}


def main():
    args = cli_args()
    schemas_dir = os.path.join(args.source_dir, "docs", "schemas")
    cli = os.path.join(args.bin_dir, "ecr-sweeper")
    tmp = os.environ.get("TMPDIR", "/tmp")
    policy = os.path.join(tmp, f"ecrs-schemas-{os.getpid()}.json")
    bad_policy = os.path.join(tmp, f"ecrs-schemas-bad-{os.getpid()}.json")
    json.dump(POLICY, open(policy, "w"))
    json.dump(BAD_POLICY, open(bad_policy, "w"))
    try:
        return check(args, cli, schemas_dir, policy, bad_policy)
    finally:
        os.remove(policy)
        os.remove(bad_policy)


def check(args, cli, schemas_dir, policy, bad_policy):

    # (schema, argv after ecr-sweeper, accepted exit codes)
    cases = [
        ("empty", ["empty", "web", "--dry-run", "--output", "json"], {0}),
        ("empty", ["empty", "my-app", "--output", "json"], {0}),
        ("empty", ["empty", "nowhere", "--output", "json"], {1}),
        ("lifecycle-validate", ["lifecycle", "validate", policy, "--output", "json"], {0}),
        ("lifecycle-validate", ["lifecycle", "validate", bad_policy, "--output", "json"], {2}),
        ("lifecycle-preview", ["lifecycle", "preview", policy, "--repos", "web", "--no-in-use", "--output", "json"],
         {0}),
        ("lifecycle-preview", ["lifecycle", "preview", policy, "--repos", "web", "--output", "json"], {0}),
        ("lifecycle-preview", ["lifecycle", "preview", policy, "--repos", "web", "--remote", "--output", "json"],
         {0}),
        ("lifecycle-apply", ["lifecycle", "apply", policy, "--repos", "web", "--yes", "--output", "json"], {0}),
        ("repo", ["repo", "ensure", "team-a/service", "--output", "json"], {0}),
        ("repo", ["repo", "template", "apply", "--prefix", "team-a", "--output", "json"], {0}),
        ("clean", ["clean", "--repos", "web", "--keep", "1", "--keep-days", "0", "--output", "json"], {0}),
        ("clean", ["clean", "--repos", "aged", "--keep", "2", "--keep-days", "0", "--apply", "--verbose",
                   "--output", "json"], {0}),
    ]
    aws = LocalAws(args.localaws)
    failed = 0
    validated = 0
    try:
        aws.seed("web", 6, indexes=1)
        aws.seed("my-app", 5)
        aws.seed("aged", 5)
        env = aws.env()
        for schema_name, argv, codes in cases:
            schema = json.load(open(os.path.join(schemas_dir, schema_name + ".schema.json")))
            r = run([cli] + argv, env)
            label = "ecr-sweeper " + " ".join(argv)
            try:
                if r.returncode not in codes:
                    raise AssertionError(f"exit {r.returncode}, expected {sorted(codes)}\n{r.stderr}")
                lines = [l for l in r.stdout.splitlines() if l.strip()]
                if len(lines) != 1:
                    raise AssertionError(f"expected one JSON line on stdout, got {len(lines)}:\n{r.stdout}")
                jsonschema.validate(json.loads(lines[0]), schema)
                validated += 1
                print(f"ok   {schema_name}: {label}")
            except (AssertionError, ValueError, jsonschema.ValidationError) as e:
                failed += 1
                print(f"FAIL {schema_name}: {label}\n  {str(e)[:2000]}")

        # "calls" is honest per operation: each count equals what localaws served, and listed_with names the one
        # listing operation that was used.
        aws.seed("counted", 250, indexes=2)
        before = aws.admin("/_localaws/metrics")["operations"]
        r = run([cli, "empty", "counted", "--output", "json"], env)
        after = aws.admin("/_localaws/metrics")["operations"]
        try:
            doc = json.loads(r.stdout)
            jsonschema.validate(doc, json.load(open(os.path.join(schemas_dir, "empty.schema.json"))))
            served = {op: after.get(op, {}).get("calls", 0) - before.get(op, {}).get("calls", 0)
                      for op in ("ListImages", "DescribeImages", "BatchDeleteImage")}
            if doc["calls"] != {op: n for op, n in served.items()} or served["BatchDeleteImage"] < 3:
                raise AssertionError(f"calls {doc['calls']}, localaws served {served}")
            if doc["listed_with"] != "DescribeImages" or served["ListImages"] != 0:
                raise AssertionError(f"listed_with {doc['listed_with']}, localaws served {served}")
            validated += 1
            print(f"ok   empty calls per operation: {doc['calls']} listed with {doc['listed_with']}")
        except (AssertionError, ValueError, KeyError, jsonschema.ValidationError) as e:
            failed += 1
            print(f"FAIL empty calls per operation\n  {str(e)[:2000]}\n{r.stdout}{r.stderr[-2000:]}")

        # The sweep task's report comes back as the invocation's response body.
        sweep_schema = json.load(open(os.path.join(schemas_dir, "sweep-report.schema.json")))
        boot = Bootstrap(os.path.join(args.bin_dir, "bootstrap"), aws)
        try:
            for event in ({"ecrSweeper": {"task": "clean", "options": {"repositories": ["web"]}}},
                          {"ecrSweeper": {"task": "clean", "roleArn": "arn:aws:iam::210987654321:role/member",
                                          "accountId": "210987654321", "options": {"repositories": ["web"]}}}):
                o = boot.invoke(event)
                try:
                    if o.get("kind") != "response":
                        raise AssertionError(f"not a response: {o}")
                    jsonschema.validate(json.loads(o["body"]), sweep_schema)
                    validated += 1
                    print("ok   sweep-report: " + json.dumps(event))
                except (AssertionError, ValueError, jsonschema.ValidationError) as e:
                    failed += 1
                    print(f"FAIL sweep-report: {json.dumps(event)}\n  {str(e)[:2000]}")
        finally:
            boot.close()
    finally:
        aws.close()
    expected = len(cases) + 1 + 2
    print(f"{validated} of {expected} documents valid")
    return 0 if failed == 0 and validated == expected else 1


if __name__ == "__main__":
    sys.exit(main())
