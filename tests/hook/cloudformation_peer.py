"""boto3 as an independent client of localaws's CloudFormation: DescribeStackResource by stack name and by stack
ARN, and the ValidationError answers for an unknown stack and an unknown resource. Prints one JSON document for
the C++ test to assert on. Usage: cloudformation_peer.py STACK_NAME STACK_ID LOGICAL_ID"""
import datetime
import json
import sys

import boto3
import botocore.exceptions
from botocore.config import Config


def detail(client, stack, logical_id):
    d = client.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)["StackResourceDetail"]
    out = {k: v for k, v in d.items() if k != "LastUpdatedTimestamp"}
    # botocore turns a well-formed timestamp into a datetime; anything else would stay a string or raise.
    out["LastUpdatedTimestampIsDatetime"] = isinstance(d["LastUpdatedTimestamp"], datetime.datetime)
    return out


def failure(client, stack, logical_id):
    try:
        client.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    except botocore.exceptions.ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
    return {"code": None}


def main():
    name, stack_id, logical_id = sys.argv[1:4]
    client = boto3.client("cloudformation", config=Config(retries={"max_attempts": 1}))
    print(json.dumps({
        "by_name": detail(client, name, logical_id),
        "by_id": detail(client, stack_id, logical_id),
        "unknown_stack": failure(client, "no-such-stack", logical_id),
        "unknown_resource": failure(client, name, "NoSuchResource"),
    }, sort_keys=True))


if __name__ == "__main__":
    main()
