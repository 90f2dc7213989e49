#include "ecrs/handler/response_sender.hpp"

#include <algorithm>

namespace ecrs::handler {

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
  aws::HttpRequest req{"PUT", response_url, {{"Content-Type", ""}}, body};
  aws::RequestOptions opts;
  opts.connect_timeout = policy.connect_timeout;
  opts.total_timeout = policy.attempt_timeout;
  const std::string where = redact_url(response_url);
  Error last = make_error("ResponseNotDelivered", "no attempt made", "PUT " + where);
  PutOutcome out;
  for (int attempt = 1; attempt <= policy.max_attempts; ++attempt) {
    out.attempts = attempt;
    auto resp = transport.send(req, opts);
    if (resp && resp->status / 100 == 2) {
      out.http_status = resp->status;
      log.info("response delivered", [&] {
        Json::Value f(Json::objectValue);
        f["url"] = where;
        f["attempts"] = attempt;
        f["http_status"] = resp->status;
        f["bytes"] = static_cast<Json::UInt64>(body.size());
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
