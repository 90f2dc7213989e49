#!/usr/bin/env python3
"""botocore as the second opinion on credentials, region, retry settings and endpoint URLs.

Each case writes ~/.aws/config and ~/.aws/credentials into a fresh HOME, sets an environment, and asks botocore
(Session(profile=...).get_credentials(), get_config_variable, each client's endpoint_url) and credentials_probe
(our resolver) the same questions, in separate processes with the same environment. STS and the SSO portal are
localaws, so assume-role and SSO profiles really call AssumeRole / GetRoleCredentials on both sides.

usage: botocore_second_opinion.py CREDENTIALS_PROBE LOCALAWS
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

PROBE, LOCALAWS = sys.argv[1], sys.argv[2]

BOTOCORE_SIDE = r'''
import json, sys
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError
profile = sys.argv[1] or None
out = {}
try:
    s = botocore.session.Session(profile=profile)
    c = s.get_credentials()
    if c is None:
        out["credentials"] = {"ok": False, "code": "NoCredentials"}
    else:
        f = c.get_frozen_credentials()
        out["credentials"] = {"ok": True, "access_key_id": f.access_key, "has_token": bool(f.token)}
        expiry = getattr(c, "_expiry_time", None)
        if expiry is not None:
            out["credentials"]["expiration"] = int(expiry.timestamp())
except (BotoCoreError, ClientError, EOFError, ValueError, RuntimeError) as e:
    out["credentials"] = {"ok": False, "code": type(e).__name__, "message": str(e)}
try:
    s = botocore.session.Session(profile=profile)
    out["region"] = s.get_config_variable("region")
    out["retry"] = {"mode": s.get_config_variable("retry_mode"), "max_attempts": s.get_config_variable("max_attempts")}
    endpoints = {}
    for key, name in (("ecr", "ecr"), ("sts", "sts"), ("lambda", "lambda"), ("apprunner", "apprunner"), ("sso", "sso")):
        try:
            client = s.create_client(name, region_name=out["region"] or "us-east-1",
                                     aws_access_key_id="x", aws_secret_access_key="y")
            endpoints[key] = client.meta.endpoint_url
        except (BotoCoreError, ClientError, ValueError) as e:
            endpoints[key] = {"ok": False, "code": type(e).__name__, "message": str(e)}
    out["endpoints"] = endpoints
except (BotoCoreError, ClientError, ValueError) as e:
    out["config_error"] = str(e)
print(json.dumps(out))
'''

ROLE = "arn:aws:iam::210987654321:role/cleaner"


def start_localaws():
    proc = subprocess.Popen([LOCALAWS, "--port", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    info = json.loads(proc.stdout.readline())
    return proc, info["endpoint"]


def register_token(endpoint, token, expires_in=3600):
    req = urllib.request.Request(endpoint + "/_localaws/sso/token", method="POST",
                                 data=json.dumps({"access_token": token, "expires_in": expires_in}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def run(cmd, env):
    r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {r.returncode}: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def case_env(home, endpoint, extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"HOME": home, "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": home + "/.aws/config",
                "AWS_SHARED_CREDENTIALS_FILE": home + "/.aws/credentials"})
    if endpoint:
        env["AWS_ENDPOINT_URL_STS"] = endpoint
        env["AWS_ENDPOINT_URL_SSO"] = endpoint
    env.update(extra)
    return env


def sso_cache(home, key, token, expires="2099-01-01T00:00:00Z"):
    path = os.path.join(home, ".aws", "sso", "cache", hashlib.sha1(key.encode()).hexdigest() + ".json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"accessToken": token, "expiresAt": expires, "startUrl": "https://corp.awsapps.com/start",
                   "region": "us-east-1"}, f)


STATIC = "aws_access_key_id = test\naws_secret_access_key = test\n"
CASES = [
    # name, config, credentials, env, profile, how to compare credentials ("exact" | "temporary" | "error")
    ("environment keys", "", "", {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"}, None, "exact"),
    ("AWS_PROFILE keeps environment keys first", "[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n",
     "", {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_PROFILE": "dev"}, None, "exact"),
    ("explicit profile drops environment keys", "[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n",
     "", {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"}, "dev", "exact"),
    ("credentials file beats config file", "[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = s\n",
     "[default]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = s\n", {}, None, "exact"),
    ("credential_process beats config keys, any Expiration offset",
     "[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = s\ncredential_process = echo "
     "'{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"s\", \"SessionToken\": \"t\", "
     "\"Expiration\": \"2030-01-01T02:00:00+02:00\"}'\n", "", {}, None, "exact"),
    ("role from source_profile", f"[profile base]\n{STATIC}[profile r]\nrole_arn = {ROLE}\nsource_profile = base\n",
     "", {}, "r", "temporary"),
    ("role chain of two", f"[profile base]\n{STATIC}[profile hop]\nrole_arn = arn:aws:iam::111111111111:role/hop\n"
     f"source_profile = base\n[profile r]\nrole_arn = {ROLE}\nsource_profile = hop\nduration_seconds = 1800\n"
     "role_session_name = second-opinion\nexternal_id = ext-1\n", "", {}, "r", "temporary"),
    ("role via AWS_PROFILE", f"[profile base]\n{STATIC}[profile r]\nrole_arn = {ROLE}\nsource_profile = base\n",
     "", {"AWS_PROFILE": "r"}, None, "temporary"),
    ("self-referencing role with static keys", f"[profile r]\n{STATIC}role_arn = {ROLE}\nsource_profile = r\n",
     "", {}, "r", "temporary"),
    ("credential_source Environment", f"[profile r]\nrole_arn = {ROLE}\ncredential_source = Environment\n", "",
     {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}, "r", "temporary"),
    ("source_profile loop", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n"
     f"[profile b]\nrole_arn = {ROLE}\nsource_profile = a\n", "", {}, "a", "error"),
    ("missing source_profile", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = nope\n", "", {}, "a", "error"),
    ("invalid credential_source", f"[profile a]\nrole_arn = {ROLE}\ncredential_source = Laptop\n", "", {}, "a", "error"),
    ("both source_profile and credential_source", f"[profile base]\n{STATIC}[profile a]\nrole_arn = {ROLE}\n"
     "source_profile = base\ncredential_source = Environment\n", "", {}, "a", "error"),
    ("mfa_serial (botocore would prompt; stdin is closed)", f"[profile base]\n{STATIC}[profile a]\nrole_arn = {ROLE}\n"
     "source_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\n", "", {}, "a", "error"),
    ("SSO with sso_session", "[profile s]\nsso_session = corp\nsso_account_id = 210987654321\nsso_role_name = Admin\n"
     "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n", "", {}, "s",
     "temporary"),
    ("SSO legacy start URL", "[profile s]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
     "sso_account_id = 210987654321\nsso_role_name = Admin\n", "", {}, "s", "temporary"),
    ("SSO expired token", "[profile s]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-1\n"
     "sso_account_id = 210987654321\nsso_role_name = Admin\n", "", {}, "s", "error"),
    ("endpoints: profile, services section, variables", "[default]\nendpoint_url = http://profile-global:1\n"
     "services = local\nregion = eu-west-1\nretry_mode = adaptive\nmax_attempts = 7\n"
     "[services local]\necr =\n  endpoint_url = http://services-ecr:2\nlambda =\n  endpoint_url = http://services-lambda:3\n",
     "", {"AWS_ENDPOINT_URL_LAMBDA": "http://env-lambda:4", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"},
     None, "exact"),
    ("endpoints: AWS_ENDPOINT_URL beats the services section", "[default]\nservices = local\n"
     "[services local]\necr =\n  endpoint_url = http://services-ecr:2\n", "",
     {"AWS_ENDPOINT_URL": "http://env-global:5", "AWS_REGION": "us-west-2", "AWS_MAX_ATTEMPTS": "2",
      "AWS_RETRY_MODE": "legacy", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"}, None, "exact"),
    ("endpoints ignored by the profile", "[default]\nendpoint_url = http://profile-global:1\n"
     "ignore_configured_endpoint_urls = true\nregion = ap-southeast-2\n", "",
     {"AWS_ENDPOINT_URL_ECR": "http://env-ecr:6", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"}, None, "exact"),
    ("region: AWS_DEFAULT_REGION over the profile", "[default]\nregion = eu-west-1\n", "",
     {"AWS_DEFAULT_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"}, None, "exact"),
]


def compare(name, mode, ours, theirs, settings):
    problems = []
    oc, tc = ours["credentials"], theirs["credentials"]
    if mode == "error":
        if oc["ok"] or tc["ok"]:
            problems.append(f"expected both to refuse: ours={oc} botocore={tc}")
    elif not (oc["ok"] and tc["ok"]):
        problems.append(f"expected both to resolve: ours={oc} botocore={tc}")
    elif mode == "exact":
        for key in ("access_key_id", "has_token", "expiration"):
            if oc.get(key) != tc.get(key):
                problems.append(f"credentials {key}: ours={oc.get(key)} botocore={tc.get(key)}")
    elif mode == "temporary":
        # Each side's AssumeRole / GetRoleCredentials call gets fresh keys: compare their kind, not their value.
        for side, c in (("ours", oc), ("botocore", tc)):
            if not (c["access_key_id"].startswith("ASIALOCALAWS") and c["has_token"] and c.get("expiration")):
                problems.append(f"{side} did not get temporary localaws keys: {c}")
    # Known difference: botocore reads AWS_DEFAULT_REGION only; we also read AWS_REGION first, as the other SDKs
    # and the Lambda runtime do.
    expected_region = theirs.get("region")
    if "AWS_REGION" in settings:
        expected_region = settings["AWS_REGION"]
    if ours.get("region") != expected_region:
        problems.append(f"region: ours={ours.get('region')} botocore={theirs.get('region')}")
    tr, orr = theirs.get("retry", {}), ours.get("retry", {})
    # Known difference: with no retry mode configured botocore 1.43 uses legacy; we use standard (the AWS CLI v2's
    # and the other SDKs' default). A configured mode must agree.
    if "retry_mode" in settings["config"] or "AWS_RETRY_MODE" in settings:
        if tr.get("mode") != orr.get("mode"):
            problems.append(f"retry_mode: ours={orr.get('mode')} botocore={tr.get('mode')}")
    elif (tr.get("mode"), orr.get("mode")) != ("legacy", "standard"):
        problems.append(f"default retry_mode: ours={orr.get('mode')} botocore={tr.get('mode')}")
    if tr.get("max_attempts") is not None and int(tr["max_attempts"]) != orr.get("max_attempts"):
        problems.append(f"max_attempts: ours={orr.get('max_attempts')} botocore={tr.get('max_attempts')}")
    for service, url in theirs.get("endpoints", {}).items():
        mine = ours.get("endpoints", {}).get(service)
        if isinstance(url, dict) or isinstance(mine, dict):
            if not (isinstance(url, dict) and isinstance(mine, dict)):
                problems.append(f"endpoint {service}: ours={mine} botocore={url}")
        elif service in ("sts", "sso") and url.rstrip("/") in ENDPOINT_OVERRIDES:
            continue
        elif mine != url.rstrip("/"):
            problems.append(f"endpoint {service}: ours={mine} botocore={url}")
    return problems


ENDPOINT_OVERRIDES = set()


def main():
    proc, endpoint = start_localaws()
    ENDPOINT_OVERRIDES.add(endpoint)
    failures, compared = [], 0
    try:
        register_token(endpoint, "portal-token")
        for name, config, credentials, extra, profile, mode in CASES:
            with tempfile.TemporaryDirectory(prefix="ecrs-2nd-") as home:
                os.makedirs(home + "/.aws")
                with open(home + "/.aws/config", "w") as f:
                    f.write(config)
                with open(home + "/.aws/credentials", "w") as f:
                    f.write(credentials)
                sso_cache(home, "corp", "portal-token")
                sso_cache(home, "https://corp.awsapps.com/start", "portal-token")
                sso_cache(home, "https://legacy.awsapps.com/start", "portal-token", "2001-01-01T00:00:00Z")
                # botocore's STS and SSO clients need a region (NoRegionError, even with an endpoint URL); we
                # fall back to us-east-1. Give the role and SSO cases one so both sides make the call.
                defaults = {"AWS_DEFAULT_REGION": "us-east-1"} if mode != "exact" else {}
                env = case_env(home, endpoint, {**defaults, **extra})
                ours = run([PROBE] + (["--profile", profile] if profile else []), env)
                theirs = run([sys.executable, "-c", BOTOCORE_SIDE, profile or ""], env)
                compared += 1
                problems = compare(name, mode, ours, theirs, {**defaults, **extra, "config": config})
                status = "ok" if not problems else "DIFFERS"
                print(f"[{status}] {name}")
                for p in problems:
                    print(f"    {p}")
                if problems:
                    failures.append(name)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    if compared != len(CASES) or compared < 20:
        print(f"ran {compared} of {len(CASES)} cases")
        return 1
    print(f"{compared} cases compared with botocore, {len(failures)} differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
