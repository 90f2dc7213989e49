#!/usr/bin/env python3
"""localaws's admin routes that seed what runs images (ECS services and tasks, Lambda image functions, App Runner
services), read back through boto3 as the in-use scan would: so the demo can show in-use protection locally.

usage: world_seed_routes.py LOCALAWS
"""
import json
import subprocess
import sys
import urllib.error
import urllib.request

import boto3

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:prod"
DIGEST = "sha256:" + "ab" * 32


def post(endpoint, route, body):
    req = urllib.request.Request(endpoint + "/_localaws/" + route, method="POST", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def main():
    proc = subprocess.Popen([sys.argv[1], "--port", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    endpoint = json.loads(proc.stdout.readline())["endpoint"]
    try:
        seeded = post(endpoint, "ecs/service", {"cluster": "prod", "service": "web", "image": IMAGE, "running": 2,
                                                "digest": DIGEST})
        assert seeded["tasks"] == 2, seeded
        post(endpoint, "lambda/function", {"function": "resizer", "image_uri": IMAGE, "alias": "live"})
        post(endpoint, "apprunner/service", {"service": "site", "image": IMAGE})
        post(endpoint, "ecs/service", {"cluster": "prod", "service": "other", "image": IMAGE,
                                       "account": "210987654321"})
        try:
            post(endpoint, "ecs/service", {"cluster": "prod"})
            raise AssertionError("a seed without service and image must be refused")
        except urllib.error.HTTPError as e:
            assert e.code == 400, e.code

        kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                  aws_secret_access_key="test")
        ecs = boto3.client("ecs", **kw)
        services = ecs.describe_services(cluster="prod", services=["web"])["services"]
        assert len(services) == 1, services
        td = ecs.describe_task_definition(taskDefinition=services[0]["taskDefinition"])["taskDefinition"]
        assert td["containerDefinitions"][0]["image"] == IMAGE, td
        task_arns = ecs.list_tasks(cluster="prod")["taskArns"]
        tasks = ecs.describe_tasks(cluster="prod", tasks=task_arns)["tasks"]
        assert len(tasks) == 2 and tasks[0]["containers"][0]["imageDigest"] == DIGEST, tasks
        assert [s.split("/")[-1] for s in ecs.list_services(cluster="prod")["serviceArns"]] == ["web"], \
            "the other account's service stays in its own world"

        fn = boto3.client("lambda", **kw).get_function(FunctionName="resizer")
        assert fn["Code"]["ImageUri"] == IMAGE, fn["Code"]
        names = [s["ServiceName"] for s in boto3.client("apprunner", **kw).list_services()["ServiceSummaryList"]]
        assert names == ["site"], names

        with urllib.request.urlopen(endpoint + "/_localaws/world") as r:
            world = json.loads(r.read())
        assert world["ecs_services"] == ["prod/web"] and world["lambda_functions"] == ["resizer"], world
        print("seeded ECS, Lambda and App Runner read back through boto3")
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
