#include "ecrs/handler/runtime_client.hpp"

#include <json/value.h>

#include <charconv>

#include "ecrs/common/json.hpp"
#include "ecrs/common/redaction.hpp"

namespace ecrs::handler {

namespace {
aws::RequestOptions local_options(std::chrono::milliseconds total) {
  aws::RequestOptions o;
  o.connect_timeout = kRuntimeConnectTimeout;
  o.total_timeout = total;
  o.no_proxy = true;
  o.max_response_bytes = kMaxRuntimeResponseBytes;
  o.allow_http = true;  // the Runtime API is plain HTTP by definition (runtimes-api: http://${AWS_LAMBDA_RUNTIME_API})
  return o;
}

std::optional<std::chrono::system_clock::time_point> parse_deadline_ms(const std::string& s) {
  long long ms = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
  if (ec != std::errc() || ptr != s.data() + s.size() || ms <= 0) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}
}  // namespace

bool runtime_api_is_local(const Environment& env) {
  auto api = env.get("AWS_LAMBDA_RUNTIME_API");
  if (!api || api->empty()) return false;
  auto url = aws::parse_url("http://" + *api + "/");
  return url && aws::is_loopback_host(url->host);
}

std::string runtime_error_body(const std::string& error_type, const std::string& message) {
  Json::Value v(Json::objectValue);
  v["errorMessage"] = message;
  v["errorType"] = error_type;
  v["stackTrace"] = Json::Value(Json::arrayValue);
  return to_compact_json(v);
}

RuntimeClient::RuntimeClient(aws::Transport& transport, std::string runtime_api)
    : transport_(&transport), base_("http://" + std::move(runtime_api) + "/" + kRuntimeApiVersion) {}

Result<Invocation> RuntimeClient::next() {
  aws::HttpRequest req{"GET", base_ + "/runtime/invocation/next", {}, {}};
  auto resp = transport_->send(req, local_options(std::chrono::milliseconds(0)));
  if (!resp) {
    Error e = resp.error();
    e.context = "Runtime API /next";
    return e;
  }
  if (resp->status != 200) {
    Error e = make_error("RuntimeApiError", "GET /next answered HTTP " + std::to_string(resp->status),
                         "Runtime API /next");
    e.http_status = resp->status;
    return e;
  }
  Invocation inv;
  inv.request_id = resp->header("Lambda-Runtime-Aws-Request-Id");
  if (inv.request_id.empty()) {
    return make_error("RuntimeApiError", "/next answered without Lambda-Runtime-Aws-Request-Id", "Runtime API /next");
  }
  inv.deadline = parse_deadline_ms(resp->header("Lambda-Runtime-Deadline-Ms"));
  inv.function_arn = resp->header("Lambda-Runtime-Invoked-Function-Arn");
  inv.trace_id = resp->header("Lambda-Runtime-Trace-Id");
  inv.body = std::move(resp->body);
  return inv;
}

Result<void> RuntimeClient::post(const std::string& path, const std::string& body, const aws::HeaderList& headers,
                                 const std::string& what) {
  // What leaves for the Runtime API reaches Step Functions, CloudWatch and the invoker: no credential in it,
  // whatever AWS error text the body quotes.
  aws::HttpRequest req{"POST", base_ + path, headers, redact_secrets(body)};
  auto resp = transport_->send(req, local_options(kRuntimePostTimeout));
  if (!resp) {
    Error e = resp.error();
    e.context = what;
    return e;
  }
  if (resp->status / 100 != 2) {
    Error e = make_error("RuntimeApiError", what + " answered HTTP " + std::to_string(resp->status), what);
    e.http_status = resp->status;
    return e;
  }
  return {};
}

Result<void> RuntimeClient::post_response(const std::string& request_id, const std::string& body) {
  return post("/runtime/invocation/" + request_id + "/response", body, {{"Content-Type", "application/json"}},
              "Runtime API /response");
}

Result<void> RuntimeClient::post_error(const std::string& request_id, const std::string& error_type,
                                       const std::string& message) {
  return post("/runtime/invocation/" + request_id + "/error", runtime_error_body(error_type, message),
              {{"Content-Type", "application/vnd.aws.lambda.error+json"},
               {"Lambda-Runtime-Function-Error-Type", "Runtime." + error_type}},
              "Runtime API /error");
}

Result<void> RuntimeClient::post_init_error(const std::string& error_type, const std::string& message) {
  return post("/runtime/init/error", runtime_error_body(error_type, message),
              {{"Content-Type", "application/vnd.aws.lambda.error+json"},
               {"Lambda-Runtime-Function-Error-Type", "Runtime." + error_type}},
              "Runtime API /init/error");
}

}  // namespace ecrs::handler
