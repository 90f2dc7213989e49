"""A minimal Lambda Runtime API client for Python handlers (what the managed python3.x runtime's bootstrap
does, minus logging and X-Ray): import the handler module (the init phase), then loop
GET /next -> handler(event, context) -> POST /response or /error. Only the benchmark uses it.

usage: python3 runtime_shim.py HANDLER_DIR MODULE.FUNCTION
HANDLER_DIR goes first on sys.path, as /var/task does in Lambda; this directory (with cfnresponse.py, which
Lambda provides to inline ZipFile code) goes after it.
"""
import http.client
import importlib
import json
import os
import sys
import time
import traceback


class Context:
    def __init__(self, request_id, deadline_ms, function_arn):
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = "128"
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "2026/01/01/[$LATEST]bench"
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return int(self._deadline_ms - time.time() * 1000)


def main():
    handler_dir, spec = sys.argv[1], sys.argv[2]
    sys.path.insert(0, handler_dir)
    sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))
    module_name, function_name = spec.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
    conn = http.client.HTTPConnection(host, int(port))
    base = "/2018-06-01/runtime/invocation/"
    while True:
        conn.request("GET", base + "next")
        res = conn.getresponse()
        body = res.read()
        if res.status != 200:
            sys.exit("runtime_shim: /next answered %d" % res.status)
        request_id = res.getheader("Lambda-Runtime-Aws-Request-Id")
        context = Context(request_id, int(res.getheader("Lambda-Runtime-Deadline-Ms", "0")),
                          res.getheader("Lambda-Runtime-Invoked-Function-Arn", ""))
        try:
            result = handler(json.loads(body), context)
            conn.request("POST", base + request_id + "/response", body=json.dumps(result))
        except Exception as e:  # the managed runtime reports any exception as the invocation's error
            traceback.print_exc()
            error = {"errorType": type(e).__name__, "errorMessage": str(e)}
            conn.request("POST", base + request_id + "/error", body=json.dumps(error))
        conn.getresponse().read()


if __name__ == "__main__":
    main()
