#!/usr/bin/env python3
"""Signs requests with botocore's SigV4Auth at a frozen time, for the C++ signer's cross-check.

Usage: botocore_sign.py CASES.json
CASES.json is a list of {name, method, url, headers: [[name, value], ...], body_hex, access_key_id,
secret_access_key, session_token (or null), region, service, amz_date (YYYYMMDDTHHMMSSZ)}.
Prints one JSON object: {name: {authorization, canonical_request, string_to_sign, headers: {...}}}.
Exit 2 with a message on stderr when botocore is not importable, so the C++ test can say so.
"""
import datetime
import json
import sys
from unittest import mock

try:
    import botocore
    import botocore.auth as auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as exc:  # the test turns this into a failure naming the interpreter
    sys.stderr.write(f"botocore is not importable by {sys.executable}: {exc}\n")
    sys.exit(2)


def sign(case):
    creds = Credentials(case["access_key_id"], case["secret_access_key"], case.get("session_token"))
    req = AWSRequest(method=case["method"], url=case["url"], data=bytes.fromhex(case["body_hex"]),
                     headers=dict(case["headers"]))
    signer = auth.SigV4Auth(creds, case["service"], case["region"])
    when = datetime.datetime.strptime(case["amz_date"], "%Y%m%dT%H%M%SZ")
    # botocore >= 1.32 reads the clock through get_current_datetime (peers sheet section 6).
    with mock.patch.object(auth, "get_current_datetime", return_value=when):
        signer.add_auth(req)
        authorization = req.headers["Authorization"]
        # The canonical request as signed: without the Authorization header add_auth just wrote.
        del req.headers["Authorization"]
        canonical = signer.canonical_request(req)
        string_to_sign = signer.string_to_sign(req, canonical)
    return {
        "authorization": authorization,
        "canonical_request": canonical,
        "string_to_sign": string_to_sign,
        "headers": {k: v for k, v in req.headers.items()},
        "botocore_version": botocore.__version__,
    }


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: botocore_sign.py CASES.json\n")
        return 1
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    out = {case["name"]: sign(case) for case in cases}
    json.dump(out, sys.stdout, ensure_ascii=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
