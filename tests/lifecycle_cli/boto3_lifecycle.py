"""boto3 as an independent client of the lifecycle-policy operations on localaws.

usage: boto3_lifecycle.py POLICY_FILE
Puts the policy on `boto-put` with put_lifecycle_policy, reads `ours-put` (written by our client) and
`no-policy` with get_lifecycle_policy, and prints one JSON object with what it saw.
Endpoint and credentials come from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...).
"""
import json
import sys

import boto3
import botocore.exceptions


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        policy = f.read()
    ecr = boto3.client("ecr", region_name="us-east-1")
    put = ecr.put_lifecycle_policy(repositoryName="boto-put", lifecyclePolicyText=policy)
    ours = ecr.get_lifecycle_policy(repositoryName="ours-put")
    try:
        ecr.get_lifecycle_policy(repositoryName="no-policy")
        missing = "none"
    except botocore.exceptions.ClientError as e:
        missing = e.response["Error"]["Code"]
    print(json.dumps({
        "putEcho": put["lifecyclePolicyText"],
        "putRepository": put["repositoryName"],
        "oursText": ours["lifecyclePolicyText"],
        "oursRepository": ours["repositoryName"],
        "missingCode": missing,
    }))


if __name__ == "__main__":
    main()
