#include "ecrs/handler/app.hpp"

#include <algorithm>
#include <optional>
#include <thread>

#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/handler/aws_backend.hpp"
#include "ecrs/handler/custom_resource.hpp"
#include "ecrs/handler/modes.hpp"
#include "ecrs/handler/runtime_client.hpp"
#include "ecrs/handler/runtime_http_transport.hpp"
#include "ecrs/handler/runtime_loop.hpp"

#ifndef ECRS_VERSION
#define ECRS_VERSION "0.0.0"
#endif
#ifndef ECRS_GIT_REVISION
#define ECRS_GIT_REVISION "unknown"
#endif

namespace ecrs::handler {

namespace {
Json::Value one(const char* k, Json::Value v) {
  Json::Value f(Json::objectValue);
  f[k] = std::move(v);
  return f;
}
}  // namespace

namespace {
std::optional<LogLevel> parse_level(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Lambda's ApplicationLogLevel adds TRACE (finer than DEBUG) and FATAL (coarser than ERROR); our logger has
  // neither, so each maps to its nearest level.
  if (s == "debug" || s == "trace") return LogLevel::debug;
  if (s == "info") return LogLevel::info;
  if (s == "warn" || s == "warning") return LogLevel::warn;
  if (s == "error" || s == "fatal") return LogLevel::error;
  return std::nullopt;
}
}  // namespace

LogLevel log_level_from_env(const Environment& env, LogLevel fallback) {
  auto v = env.get("ECRS_LOG_LEVEL");
  if (!v) return fallback;
  return parse_level(*v).value_or(fallback);
}

LogLevel lambda_log_level(const Environment& env) {
  // Lambda sets AWS_LAMBDA_LOG_LEVEL from the function's LoggingConfig.ApplicationLogLevel (advanced logging
  // controls, JSON log format) and drops lines below it anyway; it wins, so the console's setting takes effect.
  if (auto v = env.get("AWS_LAMBDA_LOG_LEVEL")) {
    if (auto level = parse_level(*v)) return *level;
  }
  return log_level_from_env(env, LogLevel::info);
}

std::string version_string() { return std::string("ecr-sweeper ") + ECRS_VERSION + " (" + ECRS_GIT_REVISION + ")"; }

bool should_run_lambda(const std::vector<std::string>& args, const Environment& env) {
  auto api = env.get("AWS_LAMBDA_RUNTIME_API");
  if (!api || api->empty()) return false;
  if (args.size() <= 1) return true;
  const std::string& argv0 = args.front();
  auto slash = argv0.find_last_of('/');
  return (slash == std::string::npos ? argv0 : argv0.substr(slash + 1)) == "bootstrap";
}

int run_lambda(const Environment& env, LogSink& sink, const std::atomic<bool>* stop) {
  SystemClock clock;
  RealSleeper sleeper;
  SystemRandom random;
  Logger logger(sink, clock, lambda_log_level(env));
  const std::string runtime_api = env.get("AWS_LAMBDA_RUNTIME_API").value_or("");
  // Plain HTTP on the sandbox's loopback: the Runtime API never needs libcurl or TLS (cold start).
  RuntimeHttpTransport runtime_transport;
  RuntimeClient client(runtime_transport, runtime_api);
  // Off the critical path: the first event's first ECR call would otherwise wait ~5 ms for it (libcurl's and
  // OpenSSL's first use). Started once the first GET /next is out, while it waits for an event: started during
  // init, it slowed the way to that request by ~1.4 ms (bench cold start, side by side). Joined on return.
  std::jthread warm_up;
  runtime_transport.after_next_write([&warm_up] { warm_up = std::jthread([] { aws::prepare_first_call(); }); });

  auto init_failed = [&](const Error& e) {
    logger.error("init failed", one("error", e.describe()));
    auto posted = client.post_init_error("InitError", e.describe());
    if (!posted) logger.error("Runtime API /init/error failed", one("error", posted.error().describe()));
    return 1;
  };
  auto config = flow_config_from_env(env);
  if (!config) return init_failed(config.error());
  // One session for the whole process: the custom-resource flow and every mode share its transport, its
  // credential chain (resolved once) and its clients. ECR and Lambda are built now so a bad region, endpoint
  // or retry setting is an init error Lambda reports, not a failure of the first stack deletion.
  AwsSession session(env, clock, sleeper, random, logger);
  auto region = session.region();
  if (!region) return init_failed(region.error());
  auto ecr_aws = session.client(aws::kEcr);
  if (!ecr_aws) return init_failed(ecr_aws.error());
  auto lambda_aws = session.client(aws::kLambda);
  if (!lambda_aws) return init_failed(lambda_aws.error());
  if (auto registered = session.register_redactions(); !registered) {
    // Not fatal: every call will fail with this error in its context, and CloudFormation hears FAILED.
    logger.warn("credentials unavailable at start", one("error", registered.error().describe()));
  }
  Json::Value start(Json::objectValue);
  start["version"] = version_string();
  start["region"] = *region;
  start["max_invocations"] = config->max_invocations;
  start["concurrency"] = config->concurrency;
  logger.info("runtime started", start);

  ecr::EcrClient ecr(**ecr_aws);
  AwsBackend backend(ecr, **lambda_aws, clock, sleeper, random, logger);
  CustomResourceFlow flow(backend, session.transport(), *config, clock, sleeper, random, logger);
  // Modes build their own clients on first use, so an environment serving only custom resources pays nothing.
  auto modes = make_event_modes(session);
  std::vector<EventMode*> mode_ptrs;
  for (auto& m : modes) mode_ptrs.push_back(m.get());
  RuntimeLoop loop(client, flow, logger, sleeper, std::move(mode_ptrs));
  int rc = loop.run(stop);
  logger.info("runtime stopped", one("served", static_cast<Json::UInt64>(loop.served())));
  return rc;
}

}  // namespace ecrs::handler
