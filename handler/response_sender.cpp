#include "ecrs/handler/response_sender.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ecrs/common/redaction.hpp"

namespace ecrs::handler {

namespace {

bool is_region_like(std::string_view s) {
  if (s.size() < 4 || s.find('-') == std::string_view::npos) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.back() >= '0' && s.back() <= '9';  // "us-east-1", "cn-north-1", "us-gov-west-1"
}

bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::vector<std::string_view> labels_of(std::string_view host) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const auto dot = host.find('.', start);
    out.push_back(host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// The labels before ".amazonaws.com[.cn]": [BUCKET labels...] S3 [dualstack] [REGION] in the forms listed in
// response_sender.hpp.
bool is_s3_endpoint(std::string_view host) {
  std::string_view rest;
  for (std::string_view suffix : {std::string_view(".amazonaws.com"), std::string_view(".amazonaws.com.cn")}) {
    if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix) {
      rest = host.substr(0, host.size() - suffix.size());
    }
  }
  if (rest.empty()) return false;
  const auto labels = labels_of(rest);
  for (auto l : labels) {
    if (!is_dns_label(l)) return false;
  }
  // The S3 label is the last one that names the service; what follows is [dualstack.]REGION or nothing.
  for (std::size_t i = labels.size(); i-- > 0;) {
    const std::string_view l = labels[i];
    const std::size_t after = labels.size() - i - 1;
    if (l == "s3" || l == "s3-fips") {
      if (after == 0) return l == "s3";  // s3.amazonaws.com; FIPS always names a region
      if (after == 1) return is_region_like(labels[i + 1]);
      return after == 2 && labels[i + 1] == "dualstack" && is_region_like(labels[i + 2]);
    }
    if (l.starts_with("s3-")) {
      // s3-REGION, s3-external-1, s3-fips-REGION (legacy dash forms): nothing may follow.
      const std::string_view tail = l.starts_with("s3-fips-") ? l.substr(8) : l.substr(3);
      return after == 0 && (tail == "external-1" || is_region_like(tail));
    }
  }
  return false;
}

}  // namespace

Result<void> check_response_url(std::string_view url, bool loopback_http_allowed) {
  auto parsed = aws::parse_url(url);
  if (!parsed) return make_error("InvalidResponseURL", "the ResponseURL is not an absolute http(s) URL", "ResponseURL");
  std::string host = parsed->host;
  for (char& c : host) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  const std::string where = "ResponseURL host " + host;
  if (parsed->scheme == "http") {
    if (loopback_http_allowed && aws::is_loopback_host(host)) return {};
    return make_error("InvalidResponseURL",
                      loopback_http_allowed ? "plain http is accepted only to a loopback host"
                                            : "plain http is accepted only when the Runtime API is local",
                      where);
  }
  constexpr std::uint16_t kHttpsPort = 443;
  if (parsed->port != kHttpsPort) return make_error("InvalidResponseURL", "https must use port 443", where);
  if (!is_s3_endpoint(host)) {
    return make_error("InvalidResponseURL", "not an Amazon S3 endpoint (CloudFormation presigns S3 URLs)", where);
  }
  return {};
}

namespace {
bool retryable_status(int status) { return status >= 500 || status == 429 || status == 408; }

std::chrono::milliseconds cap_for(const PutPolicy& p, int attempt) {
  auto d = p.base_delay;
  for (int i = 1; i < attempt && d < p.max_delay; ++i) d *= 2;
  return std::min(d, p.max_delay);
}
}  // namespace

std::chrono::milliseconds worst_case_duration(const PutPolicy& policy) {
  std::chrono::milliseconds total{0};
  for (int a = 1; a <= policy.max_attempts; ++a) {
    total += policy.attempt_timeout;
    if (a < policy.max_attempts) total += cap_for(policy, a);
  }
  return total;
}

Result<PutOutcome> put_response(aws::Transport& transport, const std::string& response_url, const std::string& body,
                                const PutPolicy& policy, const Clock& clock, Sleeper& sleeper, Random& random,
                                Logger& log) {
  // Content-Type present but empty, as cfn-response and the CDK handler send it; no Expect: 100-continue.
  // The Reason may quote an AWS error that quotes a credential: every registered secret is blanked on the way out.
  aws::HttpRequest req{"PUT", response_url, {{"Content-Type", ""}}, redact_secrets(body)};
  aws::RequestOptions opts;
  opts.connect_timeout = policy.connect_timeout;
  opts.total_timeout = policy.attempt_timeout;
  const std::string where = redact_url(response_url);
  if (auto ok = check_response_url(response_url, policy.loopback_http_allowed); !ok) {
    Json::Value f(Json::objectValue);
    f["url"] = where;
    f["error"] = ok.error().describe();
    log.error("ResponseURL refused; no PUT", f);
    return ok.error();
  }
  Error last = make_error("ResponseNotDelivered", "no attempt made", "PUT " + where);
  PutOutcome out;
  for (int attempt = 1; attempt <= policy.max_attempts; ++attempt) {
    if (policy.give_up_at) {
      // Each attempt gets only the time left before the deadline; one that cannot finish is not started, so the
      // PUT never runs past it and the runtime can still post its reply.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*policy.give_up_at - clock.now());
      if (left < kMinPutAttempt) {
        Json::Value f(Json::objectValue);
        f["url"] = where;
        f["attempt"] = attempt;
        f["time_left_ms"] = static_cast<Json::Int64>(left.count());
        log.error("response not delivered before the deadline", f);
        if (attempt == 1) last = make_error("ResponseNotDelivered", "no time left before the deadline", "PUT " + where);
        break;
      }
      opts.total_timeout = std::min(policy.attempt_timeout, left);
      opts.connect_timeout = std::min(policy.connect_timeout, left);
    }
    out.attempts = attempt;
    auto resp = transport.send(req, opts);
    if (resp && resp->status / 100 == 2) {
      out.http_status = resp->status;
      log.info("response delivered", [&] {
        Json::Value f(Json::objectValue);
        f["url"] = where;
        f["attempts"] = attempt;
        f["http_status"] = resp->status;
        f["bytes"] = static_cast<Json::UInt64>(req.body.size());
        return f;
      }());
      return out;
    }
    bool retry;
    if (resp) {
      out.http_status = resp->status;
      last = make_error("ResponseNotDelivered", "S3 answered HTTP " + std::to_string(resp->status), "PUT " + where);
      last.http_status = resp->status;
      last.request_id = resp->header("x-amz-request-id");
      retry = retryable_status(resp->status);
    } else {
      last = resp.error();
      last.context = "PUT " + where;
      last.message = "transport error: " + last.message;
      retry = true;
    }
    Json::Value f(Json::objectValue);
    f["url"] = where;
    f["attempt"] = attempt;
    f["error"] = last.describe();
    if (!retry || attempt == policy.max_attempts) {
      log.error("response not delivered", f);
      break;
    }
    auto delay = std::chrono::milliseconds(
        static_cast<long long>(random.uniform01() * static_cast<double>(cap_for(policy, attempt).count())));
    if (policy.give_up_at && clock.now() + delay >= *policy.give_up_at) {
      f["reason"] = "deadline";
      log.error("response not delivered before the deadline", f);
      break;
    }
    f["retry_in_ms"] = static_cast<Json::Int64>(delay.count());
    log.warn("response PUT failed, retrying", f);
    sleeper.sleep_for(delay);
  }
  return last;
}

}  // namespace ecrs::handler
