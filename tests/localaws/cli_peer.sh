#!/usr/bin/env bash
# The AWS CLI as an independent client of localaws (run by peers_test.cpp).
# Usage: cli_peer.sh AWS_BINARY ENDPOINT full|wrong-secret
# The test has seeded repository cli/app with 2,500 tagged images. --endpoint-url is passed explicitly because
# Debian's CLI v2 ignores AWS_ENDPOINT_URL (peers-on-this-machine.md §2); CLI v1 honours both.
set -euo pipefail
AWS="$1"; ENDPOINT="$2"; MODE="$3"
PY=python3
ecr() { "$AWS" --endpoint-url "$ENDPOINT" --output json ecr "$@"; }
fail() { echo "{\"ok\": false, \"failed\": \"$1\"}"; exit 1; }
jget() { $PY -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

if [ "$MODE" = wrong-secret ]; then
  if out=$(ecr describe-repositories 2>&1); then fail "wrong secret accepted"; fi
  echo "$out" | grep -q InvalidSignatureException || fail "expected InvalidSignatureException: $out"
  echo '{"ok": true}'
  exit 0
fi

M1='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:aaaa"},"layers":[]}'
M2='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":3,"digest":"sha256:bbbb"},"layers":[]}'
D1=$(ecr put-image --repository-name cli/app --image-manifest "$M1" --image-tag cli-1 | jget 'd["image"]["imageId"]["imageDigest"]')
ecr put-image --repository-name cli/app --image-manifest "$M2" >/dev/null
WANT=$($PY -c "import hashlib,sys; print('sha256:'+hashlib.sha256(sys.argv[1].encode()).hexdigest())" "$M1")
[ "$D1" = "$WANT" ] || fail "digest $D1 is not sha256 of the manifest ($WANT)"

PAGE=$(ecr list-images --repository-name cli/app --max-items 1000 --page-size 500)
N=$(echo "$PAGE" | jget 'len(d["imageIds"])')
[ "$N" = 1000 ] || fail "--max-items 1000 gave $N"
TOKEN=$(echo "$PAGE" | jget 'd["NextToken"]')
REST=$(ecr list-images --repository-name cli/app --starting-token "$TOKEN" --page-size 1000 | jget 'len(d["imageIds"])')
[ "$REST" = 1502 ] || fail "the rest after --starting-token is $REST, not 1502"
ALL=$(ecr list-images --repository-name cli/app --page-size 1000 | jget 'len(d["imageIds"])')
[ "$ALL" = 2502 ] || fail "auto-paginated list has $ALL entries, not 2502"
UNTAGGED=$(ecr list-images --repository-name cli/app --filter tagStatus=UNTAGGED | jget 'len(d["imageIds"])')
[ "$UNTAGGED" = 1 ] || fail "UNTAGGED filter gave $UNTAGGED"

DEL=$(ecr batch-delete-image --repository-name cli/app --image-ids imageTag=cli-1 imageTag=v7 imageTag=missing)
OKN=$(echo "$DEL" | jget 'len(d["imageIds"])')
FCODE=$(echo "$DEL" | jget '[f["failureCode"] for f in d["failures"]]')
[ "$OKN" = 2 ] || fail "batch-delete deleted $OKN, not 2"
[ "$FCODE" = "['ImageNotFound']" ] || fail "failures $FCODE"
ALL=$(ecr list-images --repository-name cli/app --page-size 1000 | jget 'len(d["imageIds"])')
[ "$ALL" = 2500 ] || fail "after delete $ALL entries, not 2500"
echo '{"ok": true}'
