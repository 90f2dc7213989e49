#!/usr/bin/env bash
# A provided.al2023-style custom runtime in bash and curl only, as in the Lambda custom-runtime tutorial
# (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-walkthrough.html): poll /next, answer /response,
# or /error when the event asks to fail. It is localaws's independent Runtime API client in tests.
# Exits 0 when /next answers anything but 200 (localaws shutting down) or after BOOTSTRAP_MAX_EVENTS events.
set -euo pipefail

api="http://${AWS_LAMBDA_RUNTIME_API:?AWS_LAMBDA_RUNTIME_API is not set}/2018-06-01/runtime"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
handled=0

header() {  # header NAME: the value of a response header from the last /next, CR stripped
  grep -i "^$1:" "$work/headers" | head -n1 | cut -d: -f2- | sed -e 's/^ *//' -e 's/\r$//'
}

while :; do
  # No --max-time: the long poll has no timeout (the sandbox is frozen between events). The Runtime API is
  # local, so proxies are bypassed as aws-lambda-cpp does.
  status=$(curl -sS --noproxy '*' -D "$work/headers" -o "$work/event" -w '%{http_code}' "$api/invocation/next")
  if [ "$status" != 200 ]; then
    exit 0
  fi
  request_id=$(header Lambda-Runtime-Aws-Request-Id)
  deadline_ms=$(header Lambda-Runtime-Deadline-Ms)
  function_arn=$(header Lambda-Runtime-Invoked-Function-Arn)
  export _X_AMZN_TRACE_ID
  _X_AMZN_TRACE_ID=$(header Lambda-Runtime-Trace-Id)
  if grep -q '"fail"' "$work/event"; then
    curl -sS --noproxy '*' -o /dev/null -X POST \
      -H 'Lambda-Runtime-Function-Error-Type: Handler.AskedToFail' \
      -H 'Content-Type: application/vnd.aws.lambda.error+json' \
      --data-binary '{"errorMessage":"the event asked to fail","errorType":"Handler.AskedToFail","stackTrace":[]}' \
      "$api/invocation/$request_id/error"
  else
    printf '{"request_id":"%s","deadline_ms":%s,"function_arn":"%s","trace_id":"%s","event":%s}' \
      "$request_id" "$deadline_ms" "$function_arn" "$_X_AMZN_TRACE_ID" "$(cat "$work/event")" > "$work/response"
    curl -sS --noproxy '*' -o /dev/null -X POST -H 'Content-Type: application/json' \
      --data-binary "@$work/response" "$api/invocation/$request_id/response"
  fi
  handled=$((handled + 1))
  if [ -n "${BOOTSTRAP_MAX_EVENTS:-}" ] && [ "$handled" -ge "$BOOTSTRAP_MAX_EVENTS" ]; then
    exit 0
  fi
done
