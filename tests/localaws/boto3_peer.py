#!/usr/bin/env python3
"""boto3 as an independent client of localaws (run by peers_test.cpp).

Usage: boto3_peer.py full|wrong-secret   (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_DEFAULT_REGION come from the environment; the config files point at /dev/null).
Prints one JSON line {"ok": true, ...} or exits non-zero naming the failed expectation.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

REPO = "peer/app"
TAGGED = 2400
UNTAGGED = 100


def expect(cond, what):
    if not cond:
        print(json.dumps({"ok": False, "failed": what}))
        sys.exit(1)


def manifest(i):
    # A distinct docker schema-2 manifest per image; its digest is sha256 of these bytes.
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1000 + i,
                   "digest": "sha256:%064x" % i},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 5000,
                    "digest": "sha256:%064x" % (i + 1000000)}],
    })


def list_all(ecr, **kw):
    pages = []
    for page in ecr.get_paginator("list_images").paginate(repositoryName=REPO, **kw):
        pages.append(page["imageIds"])
    return pages


def full():
    ecr = boto3.client("ecr")
    repo = ecr.create_repository(repositoryName=REPO)["repository"]
    expect(repo["repositoryName"] == REPO, "create_repository echoes the name")
    digests = []
    for i in range(TAGGED + UNTAGGED):
        kw = {"imageTag": "v%d" % i} if i < TAGGED else {}
        out = ecr.put_image(repositoryName=REPO, imageManifest=manifest(i), **kw)
        digests.append(out["image"]["imageId"]["imageDigest"])
    # A second tag on the first image: list-images shows it as a second (digest, tag) entry.
    ecr.put_image(repositoryName=REPO, imageManifest=manifest(0), imageTag="latest")
    expect(len(set(digests)) == TAGGED + UNTAGGED, "every put_image has its own digest")

    pages = list_all(ecr, PaginationConfig={"PageSize": 1000})
    sizes = [len(p) for p in pages]
    expect(sizes == [1000, 1000, 501], "list_images pages of 1000: %s" % sizes)
    entries = [e for p in pages for e in p]
    expect(len({(e["imageDigest"], e.get("imageTag")) for e in entries}) == 2501, "no entry listed twice")
    expect(sum(1 for e in entries if "imageTag" not in e) == UNTAGGED, "untagged images have no imageTag")
    tagged = sum(len(p) for p in list_all(ecr, filter={"tagStatus": "TAGGED"}))
    untagged = sum(len(p) for p in list_all(ecr, filter={"tagStatus": "UNTAGGED"}))
    expect((tagged, untagged) == (TAGGED + 1, UNTAGGED), "tagStatus filter: %d/%d" % (tagged, untagged))
    default_pages = [len(p) for p in list_all(ecr)]
    expect(default_pages[0] == 100, "default maxResults is 100")

    details = [d for page in ecr.get_paginator("describe_images").paginate(repositoryName=REPO)
               for d in page["imageDetails"]]
    expect(len(details) == TAGGED + UNTAGGED, "describe_images sees every image")
    first = [d for d in details if d["imageDigest"] == digests[0]][0]
    expect(sorted(first["imageTags"]) == ["latest", "v0"], "both tags on the first image")
    expect(first["imageSizeInBytes"] == 1000 + 5000, "size = config + layers")
    expect(hasattr(first["imagePushedAt"], "year"), "imagePushedAt parses as a timestamp")

    # Delete the untagged ones by digest, in batches of 100.
    untagged_digests = digests[TAGGED:]
    out = ecr.batch_delete_image(repositoryName=REPO,
                                 imageIds=[{"imageDigest": d} for d in untagged_digests])
    expect(len(out["imageIds"]) == UNTAGGED and not out["failures"], "batch delete of 100 digests")
    out = ecr.batch_delete_image(repositoryName=REPO, imageIds=[
        {"imageDigest": untagged_digests[0]},            # already gone
        {"imageTag": "no-such-tag"},
        {"imageDigest": "sha256:zz"},
        {"imageDigest": digests[1], "imageTag": "v2"},   # v2 belongs to another image
        {"imageTag": "latest"},                          # removes a tag, the image keeps v0
    ])
    codes = [f["failureCode"] for f in out["failures"]]
    expect(codes == ["ImageNotFound", "ImageNotFound", "InvalidImageDigest", "ImageTagDoesNotMatchDigest"],
           "failure codes %s" % codes)
    expect(out["imageIds"] == [{"imageDigest": digests[0], "imageTag": "latest"}], "tag delete reported")
    remaining = sum(len(p) for p in list_all(ecr, PaginationConfig={"PageSize": 1000}))
    expect(remaining == TAGGED, "after deletes %d entries remain" % remaining)
    try:
        ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "t%d" % i} for i in range(101)])
        expect(False, "101 ids must be refused")
    except Exception as e:  # botocore validates client-side (ParamValidationError) before the server sees it
        expect("imageIds" in str(e), "101 ids refused naming imageIds")
    try:
        ecr.delete_repository(repositoryName=REPO)
        expect(False, "delete of a non-empty repository must fail")
    except ClientError as e:
        expect(e.response["Error"]["Code"] == "RepositoryNotEmptyException", "RepositoryNotEmptyException")
    ecr.delete_repository(repositoryName=REPO, force=True)
    print(json.dumps({"ok": True, "put": TAGGED + UNTAGGED + 1, "pages": sizes}))


def wrong_secret():
    ecr = boto3.client("ecr")
    try:
        ecr.describe_repositories()
    except ClientError as e:
        code = e.response["Error"]["Code"]
        expect(code == "InvalidSignatureException", "wrong secret gives InvalidSignatureException, got " + code)
        expect(e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, "HTTP 403")
        print(json.dumps({"ok": True, "code": code}))
        return
    expect(False, "a wrong secret must be refused")


if __name__ == "__main__":
    {"full": full, "wrong-secret": wrong_secret}[sys.argv[1]]()
