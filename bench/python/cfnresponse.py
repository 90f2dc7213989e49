"""The `cfnresponse` module Lambda puts beside inline (ZipFile) Python code, rewritten here from its documented
behaviour (CloudFormation User Guide, "cfn-response module"): send() builds the response document, PUTs it to
the presigned ResponseURL with urllib3, an empty content-type (the URL's signature covers no Content-Type)
and a content-length, prints the status code, and swallows any exception (so a failed PUT leaves the stack
waiting, as the real module does).
"""
import json

import urllib3

SUCCESS = "SUCCESS"
FAILED = "FAILED"

http = urllib3.PoolManager()


def send(event, context, responseStatus, responseData, physicalResourceId=None, noEcho=False, reason=None):
    body = json.dumps({
        "Status": responseStatus,
        "Reason": reason or "See the details in CloudWatch Log Stream: " + context.log_stream_name,
        "PhysicalResourceId": physicalResourceId or context.log_stream_name,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": noEcho,
        "Data": responseData,
    })
    headers = {"content-type": "", "content-length": str(len(body))}
    try:
        response = http.request("PUT", event["ResponseURL"], headers=headers, body=body)
        print("Status code:", response.status)
    except Exception as e:
        print("send(..) failed executing http.request(..):", e)
