#!/usr/bin/env python3
"""boto3 (botocore's own models and parsers) as an independent client of localaws's ECS, Lambda, App Runner, STS
and EC2 operations that scheduled cleanup uses. The C++ test seeds a world, runs this against the endpoint and
compares what boto3 parsed with what it seeded.

  boto3_clean_peer.py CLUSTER FUNCTION ROLE_ARN

Endpoint and credentials come from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). Prints one JSON
object; any botocore error (a reply its parser rejects, an unexpected error code) exits non-zero.
"""
import json
import sys

import boto3


def main() -> int:
    cluster, function, role_arn = sys.argv[1:4]
    session = boto3.session.Session(region_name="us-east-1")
    out = {}

    ecs = session.client("ecs")
    out["clusterArns"] = ecs.list_clusters()["clusterArns"]
    service_arns = ecs.list_services(cluster=cluster)["serviceArns"]
    out["serviceArns"] = service_arns
    services = ecs.describe_services(cluster=cluster, services=service_arns)["services"] if service_arns else []
    out["services"] = [
        {"serviceName": s["serviceName"], "desiredCount": s["desiredCount"],
         "deployments": [[d["status"], d["taskDefinition"]] for d in s["deployments"]]}
        for s in services]
    task_arns = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
    out["taskArns"] = task_arns
    tasks = ecs.describe_tasks(cluster=cluster, tasks=task_arns)["tasks"] if task_arns else []
    out["tasks"] = [
        {"taskDefinitionArn": t["taskDefinitionArn"],
         "containers": [[c["name"], c["image"], c.get("imageDigest", "")] for c in t["containers"]]}
        for t in tasks]
    td_arn = services[0]["deployments"][0]["taskDefinition"] if services else tasks[0]["taskDefinitionArn"]
    td = ecs.describe_task_definition(taskDefinition=td_arn)["taskDefinition"]
    out["taskDefinition"] = {"family": td["family"], "revision": td["revision"],
                             "images": [c["image"] for c in td["containerDefinitions"]]}

    lam = session.client("lambda")
    out["functions"] = [[f["FunctionName"], f.get("PackageType", "")] for f in lam.list_functions()["Functions"]]
    out["versions"] = [v["Version"] for v in lam.list_versions_by_function(FunctionName=function)["Versions"]]
    out["aliases"] = {a["Name"]: a["FunctionVersion"] for a in lam.list_aliases(FunctionName=function)["Aliases"]}
    got = {}
    for version in out["versions"]:
        code = lam.get_function(FunctionName=function, Qualifier=version)["Code"]
        got[version] = [code.get("ImageUri", ""), code.get("ResolvedImageUri", "")]
    out["code"] = got

    apprunner = session.client("apprunner")
    summaries = apprunner.list_services()["ServiceSummaryList"]
    out["apprunner"] = {}
    for s in summaries:
        svc = apprunner.describe_service(ServiceArn=s["ServiceArn"])["Service"]
        out["apprunner"][s["ServiceName"]] = svc["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"]

    sts = session.client("sts")
    out["callerAccount"] = sts.get_caller_identity()["Account"]
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="peer-check")["Credentials"]
    assumed = boto3.session.Session(region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"])
    out["assumedAccount"] = assumed.client("sts").get_caller_identity()["Account"]
    out["assumedExpirationIsTime"] = hasattr(creds["Expiration"], "isoformat")

    ec2 = session.client("ec2")
    out["regions"] = sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"])

    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
