// Resolves what botocore's Session would, from this process's environment and shared files, and prints it as
// one JSON object: the second-opinion test (botocore_second_opinion.py) asks botocore the same questions.
//   credentials_probe [--profile NAME]
#include <iostream>
#include <string>

#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/aws/retry.hpp"
#include "ecrs/aws/shared_config.hpp"
#include "ecrs/common/json.hpp"

namespace {

Json::Value error_json(const ecrs::Error& e) {
  Json::Value j;
  j["ok"] = false;
  j["code"] = e.code;
  j["message"] = e.describe();
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ecrs;
  std::optional<std::string> profile;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--profile") profile = argv[i + 1];
  ProcessEnvironment env;
  SystemClock clock;
  RealSleeper sleeper;
  SystemRandom random;
  aws::CurlTransport transport(env);
  Json::Value out;

  aws::CredentialContext ctx{env, transport, clock, sleeper, random, nullptr, profile, std::nullopt};
  auto creds = aws::make_default_chain(ctx)->credentials();
  if (creds) {
    Json::Value c;
    c["ok"] = true;
    c["access_key_id"] = creds->access_key_id;
    c["has_token"] = !creds->session_token.empty();
    if (creds->expiration)
      c["expiration"] = static_cast<Json::Int64>(
          std::chrono::duration_cast<std::chrono::seconds>(creds->expiration->time_since_epoch()).count());
    out["credentials"] = c;
  } else {
    out["credentials"] = error_json(creds.error());
  }

  auto config = aws::ConfigView::load(env, profile);
  if (!config) {
    out["config_error"] = config.error().describe();
    std::cout << to_compact_json(out) << "\n";
    return 0;
  }
  auto region = aws::resolve_region(std::nullopt, *config);
  out["region"] = region ? Json::Value(*region) : Json::Value();
  auto retry = aws::resolve_retry_config(*config);
  if (retry) {
    out["retry"]["mode"] = std::string(aws::to_string(retry->mode));
    out["retry"]["max_attempts"] = retry->max_attempts;
  } else {
    out["retry"] = error_json(retry.error());
  }
  const std::string endpoint_region = region ? *region : "us-east-1";
  for (const auto* service : {&aws::kEcr, &aws::kSts, &aws::kLambda, &aws::kAppRunner, &aws::kSso}) {
    auto ep = aws::resolve_endpoint(*service, endpoint_region, *config);
    out["endpoints"][aws::services_section_key(*service)] = ep ? Json::Value(ep->url) : error_json(ep.error());
  }
  std::cout << to_compact_json(out) << "\n";
  return 0;
}
