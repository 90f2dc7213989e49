#!/usr/bin/env python3
"""boto3 as the independent client of localaws's create-on-push operations. Exit 0 when every check passes;
otherwise the failing check is printed. Modes:
  check-template PREFIX   the CREATE_ON_PUSH template `ecr-sweeper repo template apply` wrote, as boto3 reads it
  ops                     each new operation round-trips through botocore's serializer and parser
"""
import json
import sys

import boto3
import botocore.exceptions


def client():
    return boto3.client("ecr")


def expect(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def check_template(prefix):
    ecr = client()
    out = ecr.describe_repository_creation_templates(prefixes=[prefix])
    templates = out["repositoryCreationTemplates"]
    expect(len(templates) == 1, "one template for %s: %r" % (prefix, templates))
    t = templates[0]
    expect(t["prefix"] == prefix, "prefix %r" % t["prefix"])
    expect(t["appliedFor"] == ["CREATE_ON_PUSH"], "appliedFor %r" % t["appliedFor"])
    expect(t["imageTagMutability"] == "IMMUTABLE", "imageTagMutability %r" % t["imageTagMutability"])
    expect(t["encryptionConfiguration"]["encryptionType"] == "KMS", "encryption %r" % t["encryptionConfiguration"])
    expect(t["encryptionConfiguration"]["kmsKey"].startswith("arn:aws:kms:"), "kmsKey")
    tags = {x["Key"]: x["Value"] for x in t["resourceTags"]}
    expect(tags.get("ecr-sweeper:enabled") == "true", "sweeper tag in %r" % tags)
    expect(tags.get("team") == "a", "team tag in %r" % tags)
    expect(json.loads(t["lifecyclePolicy"])["rules"][0]["rulePriority"] == 1, "lifecyclePolicy")
    expect(t["customRoleArn"].endswith(":role/ecr-template"), "customRoleArn %r" % t.get("customRoleArn"))
    expect(hasattr(t["createdAt"], "year") and hasattr(t["updatedAt"], "year"), "createdAt/updatedAt are dates")
    print("template ok", prefix)


POLICY = json.dumps({"rules": [{"rulePriority": 1, "description": "keep two", "selection": {
    "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2}, "action": {"type": "expire"}}]})
REPO_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": ["ecr:BatchGetImage"]}]})


def manifest(i):
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 10 + i,
                                  "digest": "sha256:" + ("%064x" % i)},
                       "layers": []})


def ops():
    ecr = client()
    repo = ecr.create_repository(repositoryName="ops/web", imageTagMutability="IMMUTABLE",
                                 imageScanningConfiguration={"scanOnPush": True},
                                 encryptionConfiguration={"encryptionType": "AES256"},
                                 tags=[{"Key": "a", "Value": "b"}])["repository"]
    expect(repo["imageScanningConfiguration"]["scanOnPush"] is True, "scanOnPush echoed")
    ecr.set_repository_policy(repositoryName="ops/web", policyText=REPO_POLICY)
    got = ecr.get_repository_policy(repositoryName="ops/web")
    expect(json.loads(got["policyText"]) == json.loads(REPO_POLICY), "policy round trip")
    try:
        ecr.get_repository_policy(repositoryName="ops/none")
        expect(False, "missing repository must fail")
    except ecr.exceptions.RepositoryNotFoundException:
        pass
    for i in range(4):
        ecr.put_image(repositoryName="ops/web", imageManifest=manifest(i), imageTag="v%d" % i)
    try:
        ecr.get_lifecycle_policy_preview(repositoryName="ops/web")
        expect(False, "no preview yet must fail")
    except ecr.exceptions.LifecyclePolicyPreviewNotFoundException:
        pass
    started = ecr.start_lifecycle_policy_preview(repositoryName="ops/web", lifecyclePolicyText=POLICY)
    expect(started["status"] in ("IN_PROGRESS", "COMPLETE"), "preview status %r" % started["status"])
    preview = ecr.get_lifecycle_policy_preview(repositoryName="ops/web")
    expect(preview["status"] == "COMPLETE", "preview complete")
    expired = sorted(r["imageTags"][0] for r in preview["previewResults"])
    expect(expired == ["v0", "v1"], "the two oldest expire: %r" % expired)
    expect(preview["summary"]["expiringImageTotalCount"] == 2, "summary %r" % preview["summary"])
    expect(all(r["action"]["type"] == "EXPIRE" and r["appliedRulePriority"] == 1 for r in preview["previewResults"]),
           "actions")
    page = ecr.get_lifecycle_policy_preview(repositoryName="ops/web", maxResults=1)
    expect(len(page["previewResults"]) == 1 and "nextToken" in page, "paged preview")
    rest = ecr.get_lifecycle_policy_preview(repositoryName="ops/web", maxResults=1, nextToken=page["nextToken"])
    expect(len(rest["previewResults"]) == 1 and "nextToken" not in rest, "second page")
    # Templates: create, duplicate, update, describe, delete, validation by botocore's own model on our side.
    created = ecr.create_repository_creation_template(prefix="ops", appliedFor=["CREATE_ON_PUSH"],
                                                      imageTagMutability="IMMUTABLE", lifecyclePolicy=POLICY)
    expect(created["repositoryCreationTemplate"]["prefix"] == "ops", "created prefix")
    try:
        ecr.create_repository_creation_template(prefix="ops", appliedFor=["CREATE_ON_PUSH"])
        expect(False, "duplicate template must fail")
    except ecr.exceptions.TemplateAlreadyExistsException:
        pass
    updated = ecr.update_repository_creation_template(prefix="ops", description="d")
    expect(updated["repositoryCreationTemplate"]["description"] == "d", "update description")
    expect(updated["repositoryCreationTemplate"]["imageTagMutability"] == "IMMUTABLE", "update keeps others")
    try:
        ecr.update_repository_creation_template(prefix="nope", description="d")
        expect(False, "update of a missing template must fail")
    except ecr.exceptions.TemplateNotFoundException:
        pass
    try:
        ecr.create_repository_creation_template(prefix="Bad Prefix", appliedFor=["CREATE_ON_PUSH"])
        expect(False, "a prefix outside the model's pattern must fail")
    except botocore.exceptions.ClientError as e:
        expect(e.response["Error"]["Code"] == "InvalidParameterException", "prefix pattern: %r" % e.response)
    # Native create-on-push: a push to a missing repository under the prefix creates it with the template.
    ecr.put_image(repositoryName="ops/api", imageManifest=manifest(9), imageTag="v9")
    api = ecr.describe_repositories(repositoryNames=["ops/api"])["repositories"][0]
    expect(api["imageTagMutability"] == "IMMUTABLE", "template applied on push")
    expect(ecr.get_lifecycle_policy(repositoryName="ops/api")["lifecyclePolicyText"] == POLICY, "template lifecycle")
    listed = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    expect([t["prefix"] for t in listed] == ["ops"], "listed %r" % listed)
    deleted = ecr.delete_repository_creation_template(prefix="ops")
    expect(deleted["repositoryCreationTemplate"]["prefix"] == "ops", "deleted")
    expect(ecr.describe_repository_creation_templates()["repositoryCreationTemplates"] == [], "none left")
    print("ops ok")


if __name__ == "__main__":
    if sys.argv[1] == "check-template":
        check_template(sys.argv[2])
    else:
        ops()
