// Lambda Runtime API 2018-06-01 (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) and the
// Lambda Invoke API (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html) sharing one event queue.
#include "ecrs/localaws/runtime_api.hpp"

#include <json/value.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <utility>

#include "ecrs/common/json.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::localaws {
namespace {

constexpr std::string_view kRuntimePrefix = "/2018-06-01/runtime/";
constexpr std::string_view kNextPath = "/2018-06-01/runtime/invocation/next";
constexpr std::string_view kInvocationPrefix = "/2018-06-01/runtime/invocation/";
constexpr std::string_view kInitErrorPath = "/2018-06-01/runtime/init/error";
constexpr std::string_view kInvokePrefix = "/2015-03-31/functions/";
constexpr std::string_view kInvokeSuffix = "/invocations";
// SigV4 requests older or newer than this are refused ("Signature expired"), as every AWS endpoint does
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html).
constexpr std::chrono::minutes kMaxClockSkew{15};
constexpr std::string_view kLatest = "$LATEST";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> find_header(const HttpRequest& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (sigv4::uri_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : sigv4::uri_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  for (std::size_t i = in.size(); i > 0 && in[i - 1] == '=' && len > 0; --i) --len;
  out.resize(len);
  return out;
}

// splitmix64: a bijection, so distinct counters give distinct ids without a random source.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

HttpResponse json_response(int status, const Json::Value& body) {
  HttpResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = to_compact_json(body);
  return r;
}

// The Runtime API's error document (runtime-api.zip OpenAPI: ErrorResponse).
HttpResponse runtime_error(int status, std::string_view type, std::string_view message) {
  Json::Value v(Json::objectValue);
  v["errorMessage"] = std::string(message);
  v["errorType"] = std::string(type);
  return json_response(status, v);
}

HttpResponse status_ok(int status) {
  Json::Value v(Json::objectValue);
  v["status"] = "OK";
  return json_response(status, v);
}

// restJson1 errors as Lambda sends them: the code in x-amzn-ErrorType, a "Type" of User for modelled client
// errors. Signature failures come from the front door and carry only "message".
HttpResponse lambda_error(int status, std::string_view code, std::string_view message, const std::string& request_id,
                          bool user_type = true) {
  Json::Value v(Json::objectValue);
  if (user_type) v["Type"] = "User";
  v["message"] = std::string(message);
  HttpResponse r = json_response(status, v);
  r.headers.emplace_back("x-amzn-ErrorType", std::string(code));
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  return r;
}

struct Event {
  std::string request_id;
  std::string body;
  std::optional<std::chrono::milliseconds> timeout;
  std::string client_context;
  std::string cognito_identity;
  std::string invoked_arn;
};

using Pending = std::vector<std::pair<Responder, HttpResponse>>;

void deliver(Pending& pending) {
  for (auto& [respond, response] : pending) respond(std::move(response));
}

}  // namespace

struct RuntimeApi::Impl {
  explicit Impl(RuntimeOptions o) : options(std::move(o)), clock(options.clock ? *options.clock : system_clock) {}

  RuntimeOptions options;
  SystemClock system_clock;
  const Clock& clock;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Event> queue;
  std::deque<Responder> pollers;                  // waiting GET /next
  std::map<std::string, Event> in_flight;         // handed to the runtime, no outcome yet
  std::map<std::string, Responder> sync_invokes;  // RequestResponse callers waiting for the outcome
  std::vector<InvocationOutcome> outcomes;
  std::map<std::string, std::size_t> outcome_index;
  std::vector<std::string> invoked_by_api;
  std::optional<std::string> init_error;
  std::uint64_t counter = 0;
  bool shut_down = false;

  std::string function_arn() const {
    return "arn:aws:lambda:" + options.region + ":" + options.account_id + ":function:" + options.function_name;
  }

  // UUID v4 layout, as Lambda's request ids.
  std::string next_request_id() {
    const std::uint64_t n = ++counter;
    const std::uint64_t hi = mix(n);
    const std::uint64_t lo = mix(n ^ 0xA5A5A5A5A5A5A5A5ULL);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFF),
                  static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3FFF)),
                  static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    return buf;
  }

  // X-Ray trace header
  // (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader): Root=1-<epoch
  // seconds, 8 hex>-<96-bit id, 24 hex>;Parent=<64-bit, 16 hex>;Sampled=0
  std::string trace_id(const std::string& request_id) const {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    const std::uint64_t a = mix(std::hash<std::string>{}(request_id));
    const std::uint64_t b = mix(a);
    char buf[96];
    std::snprintf(buf, sizeof buf, "Root=1-%08llx-%08llx%016llx;Parent=%016llx;Sampled=0",
                  static_cast<unsigned long long>(secs) & 0xFFFFFFFFULL, static_cast<unsigned long long>(a >> 32),
                  static_cast<unsigned long long>(b), static_cast<unsigned long long>(mix(b)));
    return buf;
  }

  HttpResponse next_response(Event& ev) {
    const auto timeout = ev.timeout.value_or(options.function_timeout);
    const auto deadline_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>((clock.now() + timeout).time_since_epoch()).count();
    HttpResponse r;
    r.status = 200;
    r.headers = {{"Content-Type", "application/json"},
                 {"Lambda-Runtime-Aws-Request-Id", ev.request_id},
                 {"Lambda-Runtime-Deadline-Ms", std::to_string(deadline_ms)},
                 {"Lambda-Runtime-Invoked-Function-Arn", ev.invoked_arn.empty() ? function_arn() : ev.invoked_arn},
                 {"Lambda-Runtime-Trace-Id", trace_id(ev.request_id)}};
    if (!ev.client_context.empty()) r.headers.emplace_back("Lambda-Runtime-Client-Context", ev.client_context);
    if (!ev.cognito_identity.empty()) r.headers.emplace_back("Lambda-Runtime-Cognito-Identity", ev.cognito_identity);
    r.body = ev.body;
    return r;
  }

  // Caller holds mu. Hands queued events to waiting pollers; the replies go out after the lock is released.
  void dispatch(Pending& out) {
    while (!queue.empty() && !pollers.empty()) {
      Event ev = std::move(queue.front());
      queue.pop_front();
      Responder poller = std::move(pollers.front());
      pollers.pop_front();
      out.emplace_back(std::move(poller), next_response(ev));
      in_flight.emplace(ev.request_id, std::move(ev));
    }
  }

  // Caller holds mu.
  std::string enqueue(Event ev, Pending& out) {
    ev.request_id = next_request_id();
    std::string id = ev.request_id;
    queue.push_back(std::move(ev));
    dispatch(out);
    return id;
  }

  void handle_runtime(const HttpRequest& req, const Responder& respond);
  void handle_invoke(const HttpRequest& req, const Responder& respond);
  std::optional<HttpResponse> verify_signature(const HttpRequest& req, const std::string& request_id) const;
  // "name", "name:qualifier", "account:function:name[:qualifier]" or a full ARN; nullopt when not ours.
  std::optional<std::string> resolve_function(const std::string& name_or_arn, std::string qualifier) const;
};

void RuntimeApi::Impl::handle_runtime(const HttpRequest& req, const Responder& respond) {
  Pending pending;
  HttpResponse immediate;
  bool answer_now = true;
  {
    std::lock_guard lock(mu);
    if (req.path == kNextPath) {
      if (req.method != "GET") {
        immediate = runtime_error(405, "MethodNotAllowed", "Use GET for invocation/next");
      } else if (shut_down) {
        immediate = runtime_error(500, "Runtime.ExitError", "localaws is shutting down");
      } else {
        // No timeout on this poll: in Lambda the sandbox is frozen until the next event (runtimes-api.html).
        pollers.push_back(respond);
        dispatch(pending);
        answer_now = false;
      }
    } else if (req.path == kInitErrorPath) {
      if (req.method != "POST") {
        immediate = runtime_error(405, "MethodNotAllowed", "Use POST for init/error");
      } else {
        init_error = req.body;
        immediate = status_ok(202);
      }
    } else if (req.path.rfind(kInvocationPrefix, 0) == 0) {
      const std::string rest = req.path.substr(kInvocationPrefix.size());
      const auto slash = rest.find('/');
      const std::string id = rest.substr(0, slash);
      const std::string kind = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
      if ((kind != "response" && kind != "error") || id.empty()) {
        immediate = runtime_error(404, "NotFound", "Unknown Runtime API path");
      } else if (req.method != "POST") {
        immediate = runtime_error(405, "MethodNotAllowed", "Use POST for invocation/{id}/" + kind);
      } else if (req.body.size() > kMaxSyncPayloadBytes) {
        // The invocation stays open, so the runtime can still report the failure through /error.
        immediate = runtime_error(
            413, "RequestEntityTooLarge",
            "Exceeded maximum allowed payload size (" + std::to_string(kMaxSyncPayloadBytes) + " bytes).");
      } else if (auto it = in_flight.find(id); it == in_flight.end()) {
        immediate = outcome_index.count(id) != 0
                        ? runtime_error(400, "InvalidStateTransition", "Invocation already has an outcome")
                        : runtime_error(400, "InvalidRequestID", "Invalid request ID");
      } else {
        in_flight.erase(it);
        InvocationOutcome outcome{id, kind, req.body,
                                  kind == "error"
                                      ? find_header(req, "Lambda-Runtime-Function-Error-Type").value_or(std::string())
                                      : std::string()};
        if (auto waiter = sync_invokes.find(id); waiter != sync_invokes.end()) {
          HttpResponse r;
          r.status = 200;
          r.headers = {{"Content-Type", "application/json"},
                       {"X-Amz-Executed-Version", std::string(kLatest)},
                       {"x-amzn-RequestId", id}};
          // Lambda marks any error the runtime posted as "Unhandled" (API_Invoke.html, X-Amz-Function-Error).
          if (kind == "error") r.headers.emplace_back("X-Amz-Function-Error", "Unhandled");
          r.body = req.body;
          pending.emplace_back(std::move(waiter->second), std::move(r));
          sync_invokes.erase(waiter);
        }
        outcome_index[id] = outcomes.size();
        outcomes.push_back(std::move(outcome));
        immediate = status_ok(202);
      }
    } else {
      immediate = runtime_error(404, "NotFound", "Unknown Runtime API path");
    }
  }
  cv.notify_all();
  deliver(pending);
  if (answer_now) respond(std::move(immediate));
}

std::optional<HttpResponse> RuntimeApi::Impl::verify_signature(const HttpRequest& req,
                                                               const std::string& request_id) const {
  const auto authorization = find_header(req, "Authorization");
  if (!authorization)
    return lambda_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token", request_id, false);
  auto auth = sigv4::parse_authorization(*authorization);
  if (!auth) return lambda_error(403, "IncompleteSignatureException", auth.error().message, request_id, false);
  if (auth->access_key_id != options.access_key_id) {
    return lambda_error(403, "UnrecognizedClientException", "The security token included in the request is invalid.",
                        request_id, false);
  }
  const auto token = find_header(req, "X-Amz-Security-Token").value_or(std::string());
  if (token.size() != options.session_token.reveal().size() ||
      CRYPTO_memcmp(token.data(), options.session_token.reveal().data(), token.size()) != 0) {
    return lambda_error(403, "UnrecognizedClientException", "The security token included in the request is invalid.",
                        request_id, false);
  }
  if (auth->service != "lambda" || auth->region != options.region) {
    return lambda_error(403, "InvalidSignatureException",
                        "Credential should be scoped to a valid region and to the service 'lambda'.", request_id,
                        false);
  }
  const auto amz_date = find_header(req, "X-Amz-Date");
  const auto request_time = amz_date ? sigv4::parse_amz_date(*amz_date) : std::nullopt;
  if (!request_time) {
    return lambda_error(403, "IncompleteSignatureException", "Authorization requires a valid X-Amz-Date header.",
                        request_id, false);
  }
  const auto now = clock.now();
  if (*request_time < now - kMaxClockSkew || *request_time > now + kMaxClockSkew) {
    return lambda_error(403, "InvalidSignatureException",
                        "Signature expired: " + *amz_date + " is now earlier than " +
                            sigv4::format_amz_date(now - kMaxClockSkew) + " (" + sigv4::format_amz_date(now) +
                            " - 15 min.)",
                        request_id, false);
  }
  sigv4::Request sreq{req.method, req.path, req.query, req.headers, req.body};
  auto expected = sigv4::compute_for_verification(sreq, *auth, options.secret_access_key, *request_time);
  if (!expected) return lambda_error(403, "IncompleteSignatureException", expected.error().message, request_id, false);
  const std::string& want = expected->signature;
  if (want.size() != auth->signature.size() || CRYPTO_memcmp(want.data(), auth->signature.data(), want.size()) != 0) {
    return lambda_error(403, "InvalidSignatureException",
                        "The request signature we calculated does not match the signature you provided. Check your "
                        "AWS Secret Access Key and signing method. Consult the service documentation for details.",
                        request_id, false);
  }
  return std::nullopt;
}

std::optional<std::string> RuntimeApi::Impl::resolve_function(const std::string& name_or_arn,
                                                              std::string qualifier) const {
  const auto parts = split(name_or_arn, ':');
  std::string name, account = options.account_id, region = options.region, path_qualifier;
  if (parts.size() == 1 || parts.size() == 2) {
    name = parts[0];
    if (parts.size() == 2) path_qualifier = parts[1];
  } else if ((parts.size() == 3 || parts.size() == 4) && parts[1] == "function") {
    account = parts[0];
    name = parts[2];
    if (parts.size() == 4) path_qualifier = parts[3];
  } else if ((parts.size() == 7 || parts.size() == 8) && parts[0] == "arn" && parts[2] == "lambda" &&
             parts[5] == "function") {
    region = parts[3];
    account = parts[4];
    name = parts[6];
    if (parts.size() == 8) path_qualifier = parts[7];
  } else {
    return std::nullopt;
  }
  if (!path_qualifier.empty()) {
    if (!qualifier.empty() && qualifier != path_qualifier) return std::nullopt;
    qualifier = path_qualifier;
  }
  // Only the unpublished version exists here: no versions or aliases are ever published.
  if (name != options.function_name || account != options.account_id || region != options.region ||
      (!qualifier.empty() && qualifier != kLatest)) {
    return std::nullopt;
  }
  return function_arn() + (qualifier.empty() ? std::string() : ":" + qualifier);
}

void RuntimeApi::Impl::handle_invoke(const HttpRequest& req, const Responder& respond) {
  Pending pending;
  HttpResponse immediate;
  bool answer_now = true;
  {
    std::lock_guard lock(mu);
    // Until an invocation exists this id only labels the error reply.
    const std::string front_door_id = next_request_id();
    const std::string encoded_name =
        req.path.substr(kInvokePrefix.size(), req.path.size() - kInvokePrefix.size() - kInvokeSuffix.size());
    const std::string name = sigv4::uri_decode(encoded_name);
    const std::string qualifier = query_param(req.query, "Qualifier").value_or(std::string());
    const std::string type = find_header(req, "X-Amz-Invocation-Type").value_or("RequestResponse");
    if (req.method != "POST") {
      immediate = lambda_error(405, "MethodNotAllowedException", "Use POST to invoke a function", front_door_id);
    } else if (auto denied = verify_signature(req, front_door_id)) {
      immediate = std::move(*denied);
    } else if (auto arn = resolve_function(name, qualifier); !arn) {
      const std::string shown = name.rfind("arn:", 0) == 0 ? name
                                                           : "arn:aws:lambda:" + options.region + ":" +
                                                                 options.account_id + ":function:" + name;
      immediate = lambda_error(404, "ResourceNotFoundException", "Function not found: " + shown, front_door_id);
    } else if (type != "Event" && type != "RequestResponse" && type != "DryRun") {
      immediate = lambda_error(400, "InvalidParameterValueException",
                               "1 validation error detected: Value '" + type +
                                   "' at 'invocationType' failed to satisfy constraint: Member must satisfy enum "
                                   "value set: [Event, RequestResponse, DryRun]",
                               front_door_id);
    } else if (type == "DryRun") {
      immediate.status = 204;
      immediate.headers = {{"x-amzn-RequestId", front_door_id}};
    } else if (req.body.size() > (type == "Event" ? kMaxAsyncPayloadBytes : kMaxSyncPayloadBytes)) {
      immediate = lambda_error(413, "RequestTooLargeException",
                               "Request must be smaller than " +
                                   std::to_string(type == "Event" ? kMaxAsyncPayloadBytes : kMaxSyncPayloadBytes) +
                                   " bytes for the InvokeFunction operation",
                               front_door_id);
    } else if (shut_down) {
      immediate = lambda_error(500, "ServiceException", "localaws is shutting down", front_door_id, false);
    } else {
      Event ev;
      ev.body = req.body;
      ev.invoked_arn = *arn;
      if (const auto cc = find_header(req, "X-Amz-Client-Context"); cc && !cc->empty()) {
        // The Invoke API takes it base64-encoded; the runtime receives the decoded JSON.
        ev.client_context = base64_decode(*cc).value_or(std::string());
      }
      const std::string id = next_request_id();
      ev.request_id = id;
      queue.push_back(std::move(ev));
      invoked_by_api.push_back(id);
      if (type == "Event") {
        immediate.status = 202;
        immediate.headers = {{"x-amzn-RequestId", id}};
      } else {
        sync_invokes.emplace(id, respond);
        answer_now = false;
      }
      dispatch(pending);
    }
  }
  cv.notify_all();
  deliver(pending);
  if (answer_now) respond(std::move(immediate));
}

RuntimeApi::RuntimeApi(RuntimeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

// Pending responders are dropped, not answered: the server that owns them may already be gone; a running
// server calls shutdown() first.
RuntimeApi::~RuntimeApi() = default;

bool RuntimeApi::handle(const HttpRequest& req, const Responder& respond) {
  if (req.path.rfind(kRuntimePrefix, 0) == 0) {
    impl_->handle_runtime(req, respond);
    return true;
  }
  if (req.path.size() > kInvokePrefix.size() + kInvokeSuffix.size() && req.path.rfind(kInvokePrefix, 0) == 0 &&
      req.path.compare(req.path.size() - kInvokeSuffix.size(), kInvokeSuffix.size(), kInvokeSuffix) == 0) {
    impl_->handle_invoke(req, respond);
    return true;
  }
  return false;
}

void RuntimeApi::shutdown() {
  Pending pending;
  {
    std::lock_guard lock(impl_->mu);
    impl_->shut_down = true;
    for (auto& poller : impl_->pollers) {
      pending.emplace_back(std::move(poller), runtime_error(500, "Runtime.ExitError", "localaws is shutting down"));
    }
    impl_->pollers.clear();
    for (auto& [id, waiter] : impl_->sync_invokes) {
      pending.emplace_back(std::move(waiter),
                           lambda_error(500, "ServiceException", "localaws is shutting down", id, false));
    }
    impl_->sync_invokes.clear();
  }
  impl_->cv.notify_all();
  deliver(pending);
}

std::string RuntimeApi::invoke(std::string event_json, std::optional<std::chrono::milliseconds> timeout) {
  InvokeOptions o;
  o.timeout = timeout;
  return invoke(std::move(event_json), std::move(o));
}

std::string RuntimeApi::invoke(std::string event_json, InvokeOptions options) {
  Pending pending;
  std::string id;
  {
    std::lock_guard lock(impl_->mu);
    Event ev;
    ev.body = std::move(event_json);
    ev.timeout = options.timeout;
    ev.client_context = std::move(options.client_context);
    ev.cognito_identity = std::move(options.cognito_identity);
    id = impl_->enqueue(std::move(ev), pending);
  }
  impl_->cv.notify_all();
  deliver(pending);
  return id;
}

std::optional<InvocationOutcome> RuntimeApi::wait_outcome(const std::string& request_id,
                                                          std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return impl_->outcome_index.count(request_id) != 0 || impl_->shut_down; });
  const auto it = impl_->outcome_index.find(request_id);
  if (it == impl_->outcome_index.end()) return std::nullopt;
  return impl_->outcomes[it->second];
}

std::vector<InvocationOutcome> RuntimeApi::outcomes() const {
  std::lock_guard lock(impl_->mu);
  return impl_->outcomes;
}

std::vector<std::string> RuntimeApi::invoked_by_api() const {
  std::lock_guard lock(impl_->mu);
  return impl_->invoked_by_api;
}

std::optional<std::string> RuntimeApi::init_error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->init_error;
}

std::size_t RuntimeApi::pending() const {
  std::lock_guard lock(impl_->mu);
  return impl_->queue.size();
}

bool RuntimeApi::wait_polling(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return !impl_->pollers.empty(); });
}

bool RuntimeApi::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->queue.empty() && impl_->in_flight.empty(); });
}

}  // namespace ecrs::localaws
