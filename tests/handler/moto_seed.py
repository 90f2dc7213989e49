"""Seeds or inspects a moto_server ECR for the handler's moto tests (boto3 is moto's own client here).

usage: moto_seed.py ENDPOINT seed REPOSITORY COUNT   -> creates the repository and pushes COUNT distinct images
       moto_seed.py ENDPOINT count REPOSITORY        -> prints the number of images (digests) left
"""
import json
import sys

import boto3


def client(endpoint):
    return boto3.client("ecr", region_name="us-east-1", endpoint_url=endpoint,
                        aws_access_key_id="test", aws_secret_access_key="test")


def manifest(i):
    # moto derives the digest from the layer digests only: a distinct layer per image makes each push its own
    # image. Every image is tagged: moto treats an untagged put as a tag of None that replaces the last one.
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 100 + i,
                   "digest": "sha256:%064x" % (i + 1)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1000 + i,
                    "digest": "sha256:%064x" % (1_000_000 + i)}],
    })


def main():
    endpoint, verb, repo = sys.argv[1], sys.argv[2], sys.argv[3]
    ecr = client(endpoint)
    if verb == "seed":
        ecr.create_repository(repositoryName=repo)
        for i in range(int(sys.argv[4])):
            ecr.put_image(repositoryName=repo, imageManifest=manifest(i), imageTag="v%d" % i)
    digests = set()
    for page in ecr.get_paginator("list_images").paginate(repositoryName=repo):
        for image in page["imageIds"]:
            digests.add(image["imageDigest"])
    print(len(digests))


if __name__ == "__main__":
    main()
