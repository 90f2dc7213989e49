"""Invokes functions through botocore's Lambda client (the independent SigV4 signer and restJson1 parser) and
prints one JSON line per call: {"status": HTTP status, "request_id": ..., "error_code": ...}.
One process makes every call because importing boto3 dominates the test's time.
Usage: invoke_lambda.py ENDPOINT ACCESS_KEY INVOCATION_TYPE PAYLOAD FUNCTION SECRET [FUNCTION SECRET ...]"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def invoke(endpoint, access_key, secret, function, invocation_type, payload):
    client = boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    try:
        r = client.invoke(FunctionName=function, InvocationType=invocation_type, Payload=payload.encode())
        meta = r["ResponseMetadata"]
        return {"status": r["StatusCode"], "request_id": meta.get("RequestId", ""), "error_code": ""}
    except ClientError as e:
        meta = e.response["ResponseMetadata"]
        return {"status": meta["HTTPStatusCode"], "request_id": meta.get("RequestId", ""),
                "error_code": e.response["Error"]["Code"]}


def main():
    endpoint, access_key, invocation_type, payload = sys.argv[1:5]
    calls = sys.argv[5:]
    for function, secret in zip(calls[0::2], calls[1::2]):
        print(json.dumps(invoke(endpoint, access_key, secret, function, invocation_type, payload)), flush=True)


if __name__ == "__main__":
    main()
