#!/usr/bin/env python3
"""The real bootstrap on localaws's Runtime API writes exactly one CloudWatch embedded-metric record per invocation,
whatever the mode, and each record meets the EMF specification's required members:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
(_aws.Timestamp a number of milliseconds; _aws.CloudWatchMetrics an array of directives, each with a Namespace, a
Dimensions array of dimension sets whose names are root members with string values, and Metrics whose Names are
root members with numeric values), plus docs/schemas/emf-record.schema.json."""
import json
import os
import sys
import time
import urllib.request

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Bootstrap, LocalAws, cli_args, report  # noqa: E402

METRICS = {"ImagesDeleted", "ImagesPlanned", "BytesReclaimed", "ThrottledCalls", "DurationMs", "Continuations",
           "Failures"}
MAX_DIMENSIONS = 30  # the spec: a DimensionSet MUST NOT contain more than 30 dimension keys
MAX_METRICS = 100    # the spec: a MetricDirective MUST NOT contain more than 100 MetricDefinition objects


def spec_errors(record):
    errors = []
    aws = record.get("_aws")
    if not isinstance(aws, dict):
        return ["no _aws object"]
    ts = aws.get("Timestamp")
    if not isinstance(ts, (int, float)) or isinstance(ts, bool):
        errors.append("_aws.Timestamp is not a number")
    elif abs(ts - time.time() * 1000) > 3600 * 1000:
        errors.append(f"_aws.Timestamp {ts} is not milliseconds since the epoch near now")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return errors + ["_aws.CloudWatchMetrics is not a non-empty array"]
    for d in directives:
        if not isinstance(d.get("Namespace"), str) or not d["Namespace"]:
            errors.append("a directive has no Namespace")
        dims = d.get("Dimensions")
        if not isinstance(dims, list):
            errors.append("a directive has no Dimensions array")
            dims = []
        for dset in dims:
            if not isinstance(dset, list) or len(dset) > MAX_DIMENSIONS:
                errors.append(f"bad dimension set {dset}")
                continue
            for name in dset:
                if not isinstance(record.get(name), str):
                    errors.append(f"dimension {name} is not a root member with a string value")
        metrics = d.get("Metrics")
        if not isinstance(metrics, list) or len(metrics) > MAX_METRICS:
            errors.append("a directive has no Metrics array")
            continue
        for m in metrics:
            name = m.get("Name")
            value = record.get(name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                errors.append(f"metric {name} is not a root member with a numeric value")
    return errors


def main():
    args = cli_args()
    schema = json.load(open(os.path.join(args.source_dir, "docs", "schemas", "emf-record.schema.json")))
    samples = json.load(open(os.path.join(args.source_dir, "tests", "provision", "events.json")))
    aws = LocalAws(args.localaws)
    failed = []
    try:
        # How many images each repository holds (the hook's has an index over two children), so each record's
        # counts can be checked against what ECR lost.
        seeded = {"web": aws.seed("web", 4)["images"], "hooked": aws.seed("hooked", 5, indexes=1)["images"],
                  "kept": aws.seed("kept", 3)["images"]}
        url = aws.admin("/_localaws/response-url", {"key": "emf-test"})["url"]
        custom_resource = {"RequestType": "Delete", "ResponseURL": url, "StackId": "arn:aws:cloudformation:us-east-1:"
                           "123456789012:stack/s/1", "RequestId": "r-1", "LogicalResourceId": "Empty",
                           "PhysicalResourceId": "ecr-sweeper:default:web", "ResourceType": "Custom::EmptyEcrRepository",
                           "ResourceProperties": {"ServiceToken": "arn", "RepositoryName": "web"}}
        dry_run = json.loads(json.dumps(custom_resource))
        dry_run.update({"RequestId": "r-2", "PhysicalResourceId": "ecr-sweeper:default:kept",
                        "ResourceProperties": {"ServiceToken": "arn", "RepositoryName": "kept", "DryRun": "true"}})
        # Custom::EcrLifecyclePolicy (the lifecycle-policy-resource mode): a Create that puts a policy on "kept".
        lifecycle = json.loads(json.dumps(custom_resource))
        lifecycle.update({"RequestType": "Create", "RequestId": "r-3", "ResourceType": "Custom::EcrLifecyclePolicy",
                          "LogicalResourceId": "Policy", "ResponseURL": aws.admin(
                              "/_localaws/response-url", {"key": "emf-test-lifecycle"})["url"],
                          "ResourceProperties": {"ServiceToken": "arn", "RepositoryNames": ["kept"], "Policy": {
                              "rules": [{"rulePriority": 1, "selection": {
                                  "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5},
                                  "action": {"type": "expire"}}]}}})
        del lifecycle["PhysicalResourceId"]
        # The same with no rules: FAILED to CloudFormation, a successful invocation to Lambda.
        bad_lifecycle = json.loads(json.dumps(lifecycle))
        bad_lifecycle.update({"RequestId": "r-4", "ResponseURL": aws.admin(
            "/_localaws/response-url", {"key": "emf-test-lifecycle-bad"})["url"]})
        bad_lifecycle["ResourceProperties"]["Policy"] = {"rules": []}
        # A CloudFormation Lambda Hook request for a repository's deletion (HOOKS-LAMBDA's documented input).
        hook = {"clientRequestToken": "t-emf", "awsAccountId": "123456789012",
                "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/2", "changeSetId": "",
                "hookTypeName": "Private::EcrSweeper::EmptyOnDelete", "hookTypeVersion": "00000001",
                "hookModel": {"LambdaFunction": "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper"},
                "actionInvocationPoint": "DELETE_PRE_PROVISION",
                "requestData": {"targetName": "AWS::ECR::Repository", "targetType": "AWS::ECR::Repository",
                                "targetLogicalId": "Images",
                                "targetModel": {"resourceProperties": {},
                                                "previousResourceProperties": {"RepositoryName": "hooked"}}},
                "requestContext": {"invocation": 1, "callbackContext": None}}
        # (what is sent, the Mode dimension expected, the Repository dimension expected or None)
        invocations = [
            (custom_resource, "custom-resource", "web"),
            (dry_run, "custom-resource", "kept"),
            (hook, "hook", "hooked"),
            (lifecycle, "lifecycle-policy-resource", None),
            (bad_lifecycle, "lifecycle-policy-resource", None),
            (samples["push_to_missing"], "create-on-push", "team-a/web"),
            ({"ecrSweeper": {"task": "clean", "options": {"repositories": ["web"]}}}, "sweep", None),
            # Another account with no role to assume: a failed item the state machine does not resume.
            ({"ecrSweeper": {"task": "clean", "accountId": "210987654321", "region": "us-east-1"}}, "sweep", None),
            ({"source": "aws.events", "detail-type": "Scheduled Event", "id": "e-1", "detail": {}},
             "scheduled-cleanup", None),
            ({"what": "nobody handles this"}, "invalid-event", None),
            ("not json at all", "invalid-event", None),
        ]
        boot = Bootstrap(os.path.join(args.bin_dir, "bootstrap"), aws, REPO_ALLOW="**")
        try:
            for event, _, _ in invocations:
                if isinstance(event, str):
                    req = urllib.request.Request(aws.endpoint + "/_localaws/invoke", data=event.encode(), method="POST")
                    with urllib.request.urlopen(req, timeout=30) as r:
                        rid = json.loads(r.read())["request_id"]
                    deadline = time.time() + 60
                    while time.time() < deadline:
                        if aws.admin("/_localaws/outcome/" + rid + "?wait_ms=2000").get("status") != "pending":
                            break
                else:
                    boot.invoke(event)
            time.sleep(0.2)  # the record is written before the reply; the reply is already in
            records = []
            for line in boot.lines():
                try:
                    doc = json.loads(line)
                except ValueError:
                    failed.append("stdout line is not JSON: " + line[:200])
                    continue
                if "_aws" in doc:
                    records.append(doc)
        finally:
            boot.close()
        if len(records) != len(invocations):
            failed.append(f"{len(records)} EMF records for {len(invocations)} invocations")
        for record, (_, mode, repository) in zip(records, invocations):
            for e in spec_errors(record):
                failed.append(f"{mode}: {e}")
            try:
                jsonschema.validate(record, schema)
            except jsonschema.ValidationError as e:
                failed.append(f"{mode}: schema: {e.message}")
            if record.get("Mode") != mode:
                failed.append(f"Mode {record.get('Mode')!r}, expected {mode!r}")
            # localaws's Runtime API names the function in Lambda-Runtime-Invoked-Function-Arn, as Lambda does.
            if not record.get("FunctionName") or \
                    ["Mode", "FunctionName"] not in record["_aws"]["CloudWatchMetrics"][0]["Dimensions"]:
                failed.append(f"{mode}: no [Mode, FunctionName] dimension set (the templates' alarms use it)")
            if record.get("Repository") != repository:
                failed.append(f"{mode}: Repository {record.get('Repository')!r}, expected {repository!r}")
            missing = METRICS - set(record)
            if missing:
                failed.append(f"{mode}: metrics missing {sorted(missing)}")
            print(f"{mode}: {json.dumps({k: v for k, v in record.items() if k != '_aws'})}")
        # The custom resource's Delete and the hook's deletion emptied their repositories: their records carry the
        # true counts, and ECR agrees that nothing is left.
        for record in records:
            mode, repository = record.get("Mode"), record.get("Repository")
            if mode not in ("custom-resource", "hook"):
                continue
            left = aws.admin("/_localaws/ecr/summary?repository=" + repository)["images"]
            if repository == "kept":  # the dry run: everything planned, nothing deleted
                if left != seeded["kept"] or record.get("ImagesDeleted") != 0 or record.get("ImagesPlanned") != left:
                    failed.append(f"dry run: {left} of {seeded['kept']} left, record {record}")
                continue
            if left != 0 or seeded[repository] == 0:
                failed.append(f"{mode}: {left} images left in {repository} of {seeded[repository]}")
            if record.get("ImagesDeleted") != seeded[repository]:
                failed.append(f"{mode}: ImagesDeleted {record.get('ImagesDeleted')}, {seeded[repository]} were deleted")
            if record.get("ImagesPlanned") != seeded[repository]:
                failed.append(f"{mode}: ImagesPlanned {record.get('ImagesPlanned')}, expected {seeded[repository]}")
            for zero in ("Failures", "Continuations"):
                if record.get(zero) != 0:
                    failed.append(f"{mode}: {zero} {record.get(zero)} for a deletion done in one invocation")
        policy = aws.admin("/_localaws/ecr/summary?repository=kept")
        lifecycle_failures = [r.get("Failures") for r in records if r.get("Mode") == "lifecycle-policy-resource"]
        # In invocation order: the Create that succeeded, then the one answered FAILED (the Failures alarm's case).
        if lifecycle_failures != [0, 1]:
            failed.append(f"lifecycle-policy-resource: Failures {lifecycle_failures}, expected [0, 1] for a Create "
                          f"that succeeded ({policy}) and one with no rules")
        # BytesReclaimed is what was deleted, never what a plan (or a dry run) would delete.
        for record in records:
            if record.get("ImagesDeleted") == 0 and record.get("BytesReclaimed") != 0:
                failed.append(f"{record.get('Mode')}: BytesReclaimed {record.get('BytesReclaimed')} with nothing deleted")
        sweeps = [(r.get("Continuations"), r.get("Failures")) for r in records if r.get("Mode") == "sweep"]
        # Continuations counts hand-overs: the state machine resumes only a partial item with a cursor.
        if len(sweeps) != 2 or sweeps[1] != (0, 1):
            failed.append(f"sweep: (Continuations, Failures) {sweeps}; the item without a role must be (0, 1)")
        invalid = [r for r in records if r.get("Mode") == "invalid-event"]
        if any(r.get("Failures") != 1 for r in invalid):
            failed.append("an event answered on /error does not count one Failure")
    finally:
        aws.close()
    return report(failed, f"{len(failed)} problem(s)")


if __name__ == "__main__":
    sys.exit(main())
