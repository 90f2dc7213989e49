#include "ecrs/aws/client.hpp"

#include "ecrs/aws/xml.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::aws {
namespace {

std::string request_id_of(const HttpResponse& r) {
  for (const char* name : {"x-amzn-RequestId", "x-amz-request-id", "x-amzn-request-id"})
    if (r.has_header(name)) return r.header(name);
  return {};
}

std::string status_code_name(int status) { return "HttpStatus" + std::to_string(status); }

bool looks_like_xml(std::string_view body) {
  auto pos = body.find_first_not_of(" \t\r\n");
  return pos != std::string_view::npos && body[pos] == '<';
}

Error parse_any_error(const HttpResponse& r) { return looks_like_xml(r.body) ? parse_xml_error(r) : parse_json_error(r); }

std::string call_context(std::string_view operation, const std::string& extra) {
  std::string out(operation);
  if (!extra.empty()) out += " " + extra;
  return out;
}

}  // namespace

std::string normalize_error_code(std::string_view raw) {
  auto colon = raw.find(':');
  if (colon != std::string_view::npos) raw = raw.substr(0, colon);
  auto hash = raw.rfind('#');
  if (hash != std::string_view::npos) raw = raw.substr(hash + 1);
  while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
  while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
  return std::string(raw);
}

Error parse_json_error(const HttpResponse& r) {
  Error e;
  e.http_status = r.status;
  e.request_id = request_id_of(r);
  std::string raw_code = r.header("x-amzn-ErrorType");
  auto body = r.body.empty() ? Result<Json::Value>(Json::Value(Json::objectValue)) : parse_json(r.body);
  if (body && body->isObject()) {
    if (raw_code.empty()) raw_code = get_string(*body, "code").value_or("");
    if (raw_code.empty()) raw_code = get_string(*body, "__type").value_or("");
    e.message = get_string(*body, "message").value_or(get_string(*body, "Message").value_or(""));
  }
  e.code = normalize_error_code(raw_code);
  if (e.code.empty()) e.code = status_code_name(r.status);
  if (e.message.empty() && !body) e.message = "HTTP " + std::to_string(r.status) + " with an unparsable error body";
  return classify(std::move(e));
}

Error parse_xml_error(const HttpResponse& r) {
  Error e;
  e.http_status = r.status;
  e.code = normalize_error_code(xml_text(r.body, "Code").value_or(""));
  if (e.code.empty()) e.code = status_code_name(r.status);
  e.message = xml_text(r.body, "Message").value_or("");
  e.request_id = xml_text(r.body, "RequestId").value_or(request_id_of(r));
  return classify(std::move(e));
}

AwsClient::AwsClient(AwsContext context, Endpoint endpoint, ClientConfig config)
    : ctx_(context), endpoint_(std::move(endpoint)), config_(config) {}

Result<HttpResponse> AwsClient::send_signed(HttpRequest request, const CallOptions& options, std::string_view operation) {
  return send_with_retry(std::move(request), options, operation, &parse_any_error);
}

Result<HttpResponse> AwsClient::send_with_retry(HttpRequest request, const CallOptions& options,
                                                std::string_view operation, ErrorParser parse_error) {
  const std::string context = call_context(operation, options.context);
  auto with_context = [&](Error e) {
    if (e.context.empty()) e.context = context;
    else e.context = context + ": " + e.context;
    return e;
  };
  auto url = parse_url(request.url);
  if (!url) return with_context(url.error());
  if (!find_header(request.headers, "Host")) request.headers.emplace_back("Host", url->host_header());
  const int max_attempts = std::max(1, options.max_attempts.value_or(ctx_.retry.max_attempts()));
  CallStats local;
  CallStats& stats = options.stats != nullptr ? *options.stats : local;
  int last_retry_cost = 0;

  for (int attempt = 1;; ++attempt) {
    auto creds = ctx_.credentials.credentials();
    if (!creds) return with_context(creds.error());
    HttpRequest signed_request = request;
    sigv4::Request to_sign{signed_request.method, url->path, url->query, signed_request.headers, signed_request.body};
    sigv4::SigningParams params;
    params.region = endpoint_.signing_region;
    params.service = endpoint_.signing_name;
    params.time = ctx_.clock.now() + skew_.offset();
    params.normalize_path = config_.normalize_path;
    params.sign_body = config_.sign_body;
    auto signature = signer_.sign_headers(to_sign, *creds, params);
    if (!signature) return with_context(signature.error());
    for (auto& h : signature->headers_to_add) signed_request.headers.push_back(std::move(h));

    if (auto wait = ctx_.retry.before_send(ctx_.clock.monotonic()); wait.count() > 0) ctx_.sleeper.sleep_for(wait);
    ++stats.attempts;
    auto response = ctx_.transport.send(signed_request, options.request);
    if (response && response->status >= 200 && response->status < 300) {
      ctx_.retry.on_attempt_result(false, ctx_.clock.monotonic());
      ctx_.retry.on_success(last_retry_cost);
      return response;
    }
    Error err = response ? parse_error(*response) : classify(response.error());
    err = with_context(std::move(err));
    ctx_.retry.on_attempt_result(is_throttling(err), ctx_.clock.monotonic());
    if (is_throttling(err)) ++stats.throttled;

    // Clock skew: learn the server's time from its Date header and retry at once with corrected signing time.
    if (response && is_clock_skew_error(err) && attempt < max_attempts) {
      auto server_time = parse_http_date(response->header("Date"));
      if (server_time && skew_.update(*server_time, ctx_.clock.now())) {
        ++stats.retried;
        if (ctx_.logger != nullptr) {
          Json::Value f;
          f["op"] = context;
          f["code"] = err.code;
          f["clock_offset_ms"] = static_cast<Json::Int64>(skew_.offset().count());
          ctx_.logger->warn("clock skew detected; retrying with corrected signing time", f);
        }
        continue;
      }
    }

    RetryDecision decision = ctx_.retry.on_failure(err, attempt, max_attempts, ctx_.random);
    if (!decision.retry) return err;
    last_retry_cost = decision.cost;
    ++stats.retried;
    stats.backoff += decision.delay;
    if (ctx_.logger != nullptr) {
      Json::Value f;
      f["op"] = context;
      f["attempt"] = attempt;
      f["code"] = err.code;
      f["http_status"] = err.http_status;
      f["request_id"] = err.request_id;
      f["delay_ms"] = static_cast<Json::Int64>(decision.delay.count());
      ctx_.logger->warn("retrying AWS call", f);
    }
    ctx_.sleeper.sleep_for(decision.delay);
  }
}

Result<HttpResponse> send_unsigned(Transport& transport, const HttpRequest& request, const RequestOptions& options,
                                   RetryStrategy& retry, Sleeper& sleeper, Random& random) {
  for (int attempt = 1;; ++attempt) {
    auto response = transport.send(request, options);
    Error err;
    if (response) {
      if (response->status < 500 && response->status != 429) return response;
      err = parse_any_error(*response);
    } else {
      err = classify(response.error());
    }
    RetryDecision decision = retry.on_failure(err, attempt, retry.max_attempts(), random);
    if (!decision.retry) return response ? std::move(response) : Result<HttpResponse>(err);
    sleeper.sleep_for(decision.delay);
  }
}

Result<Json::Value> AwsClient::json_call(std::string_view target_prefix, std::string_view operation,
                                         const Json::Value& input, const CallOptions& options,
                                         std::string_view json_version) {
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint_.url + "/";
  req.headers = {{"Content-Type", "application/x-amz-json-" + std::string(json_version)},
                 {"X-Amz-Target", std::string(target_prefix) + "." + std::string(operation)}};
  req.body = input.isNull() ? std::string("{}") : to_compact_json(input);
  auto res = send_with_retry(std::move(req), options, operation, &parse_json_error);
  if (!res) return res.error();
  if (res->body.empty()) return Json::Value(Json::objectValue);
  auto json = parse_json(res->body, call_context(operation, options.context));
  if (!json) {
    Error e = json.error();
    e.http_status = res->status;
    e.request_id = request_id_of(*res);
    return e;
  }
  return json;
}

Result<HttpResponse> AwsClient::rest_call(std::string_view method, std::string_view path, std::string body,
                                          HeaderList headers, const CallOptions& options, std::string_view operation) {
  HttpRequest req;
  req.method = std::string(method);
  req.url = endpoint_.url + (path.empty() || path.front() != '/' ? "/" : "") + std::string(path);
  req.headers = std::move(headers);
  req.body = std::move(body);
  return send_with_retry(std::move(req), options, operation, &parse_json_error);
}

Result<std::string> AwsClient::query_call(std::string_view action,
                                          const std::vector<std::pair<std::string, std::string>>& params,
                                          std::string_view version, const CallOptions& options) {
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint_.url + "/";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  req.body = "Action=" + form_encode(action) + "&Version=" + form_encode(version);
  for (const auto& [k, v] : params) req.body += "&" + form_encode(k) + "=" + form_encode(v);
  auto res = send_with_retry(std::move(req), options, action, &parse_xml_error);
  if (!res) return res.error();
  return std::move(res->body);
}

}  // namespace ecrs::aws
