// The `localaws` executable: binds, prints one JSON line with its endpoints on stdout, then serves until SIGTERM,
// SIGINT or end of stdin (so a test harness that dies takes the server with it).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "ecrs/common/json.hpp"
#include "ecrs/localaws/localaws.hpp"

namespace {

bool parse_credentials(const std::string& spec, ecrs::localaws::Options& o) {
  const auto first = spec.find(':');
  if (first == std::string::npos || first == 0) return false;
  const auto second = spec.find(':', first + 1);
  o.access_key_id = spec.substr(0, first);
  o.secret_access_key = ecrs::Secret(spec.substr(first + 1, second == std::string::npos ? std::string::npos
                                                                                         : second - first - 1));
  if (second != std::string::npos) o.session_token = ecrs::Secret(spec.substr(second + 1));
  return !o.secret_access_key.empty();
}

// The admin routes, for --help (issue #20): what a demo or a test driving the executable can ask besides AWS's APIs.
constexpr const char* kAdminRoutes = R"(Admin routes (under /_localaws/ on the same port; JSON in and out):
  GET  /_localaws/metrics                       per-operation calls, errors, throttles (rate_limited: by --tps); max concurrency
  POST /_localaws/invoke[?timeout_ms=N]         queue a Lambda event (body) for the Runtime API; returns request_id
  GET  /_localaws/outcome/ID[?wait_ms=N]        the function's /response or /error for request ID
  POST /_localaws/ecr/seed                      {"repository","images","tagged","indexes"}: create and push
  GET  /_localaws/ecr/summary?repository=NAME   {"exists","images","tags"}
  GET  /_localaws/responses                     CloudFormation responses PUT to presigned URLs
  POST /_localaws/response-url                  {"key","expires_in"}: a presigned ResponseURL
  POST /_localaws/fault                         {"operation","count","http_status","error_code","message"}:
                                                the next COUNT calls of OPERATION fail so
)";

// "OP=N" or "OP=N:B" (rate N calls/s, bucket of B tokens).
bool parse_tps(const std::string& spec, ecrs::localaws::Options& o) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  const std::string op = spec.substr(0, eq);
  const std::string value = spec.substr(eq + 1);
  const auto colon = value.find(':');
  try {
    std::size_t used = 0;
    const std::string rate_text = value.substr(0, colon);
    const double rate = std::stod(rate_text, &used);
    if (used != rate_text.size() || rate <= 0) return false;
    o.tps[op] = rate;
    if (colon != std::string::npos) {
      const std::string burst_text = value.substr(colon + 1);
      const double burst = std::stod(burst_text, &used);
      if (used != burst_text.size() || burst < 1) return false;
      o.tps_burst[op] = burst;
    }
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ecrs::localaws::Options o;
  CLI::App app{"localaws: a local ECR, S3 response receiver and Lambda Runtime API for tests and demos"};
  std::string credentials = "test:test";
  std::vector<std::string> tps;
  int function_timeout_ms = static_cast<int>(o.function_timeout.count());
  bool ignore_stdin = false;
  app.footer(kAdminRoutes);
  app.add_option("--port", o.port, "TCP port on 127.0.0.1 (0 = ephemeral)")->capture_default_str();
  app.add_option("--credentials", credentials, "KEY:SECRET[:TOKEN] the ECR and Lambda APIs accept")
      ->capture_default_str();
  app.add_option("--region", o.region, "region (signing scope)")->capture_default_str();
  app.add_option("--account-id", o.account_id, "account id (registry id)")->capture_default_str();
  app.add_option("--latency-ms", o.latency_ms,
                 "latency of every ECR call: each reply leaves this long after its request arrived (when it is "
                 "ready, if serving took longer)")
      ->capture_default_str();
  app.add_option("--deny", o.deny,
                 "OP: answer every OP call AccessDeniedException, as IAM does for a role without ecr:OP "
                 "(repeatable; * = every ECR call)");
  app.add_option("--throttle-rate", o.throttle_rate, "fraction of ECR calls answered ThrottlingException")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--tps", tps,
                 "OP=N[:B]: token bucket per operation, ThrottlingException above N calls/s; B = burst (bucket "
                 "size, default N)");
  app.add_option("--error-rate", o.error_rate, "fraction of ECR calls answered 500 ServerException")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", o.seed, "seed for random faults")->capture_default_str();
  app.add_option("--state", o.state_file, "load repositories and images from FILE at start, save at exit");
  app.add_flag("--metrics", o.metrics, "print metrics JSON on stdout at exit");
  app.add_option("--function-timeout-ms", function_timeout_ms, "Lambda function timeout (deadline header)")
      ->capture_default_str();
  app.add_option("--function-name", o.function_name, "Lambda function name")->capture_default_str();
  app.add_option("--threads", o.threads, "io threads")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_flag("--ignore-stdin", ignore_stdin, "do not stop when stdin closes (e.g. started with '&' by a shell)");
  CLI11_PARSE(app, argc, argv);

  if (!parse_credentials(credentials, o)) {
    std::cerr << "localaws: --credentials must be KEY:SECRET[:TOKEN]\n";
    return 2;
  }
  for (const auto& spec : tps) {
    if (!parse_tps(spec, o)) {
      std::cerr << "localaws: --tps wants OP=N or OP=N:B with N > 0 and B >= 1, got '" << spec << "'\n";
      return 2;
    }
  }
  o.function_timeout = std::chrono::milliseconds(function_timeout_ms);

  // Block the stop signals in every thread (the server's threads inherit the mask); main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    ecrs::localaws::LocalAws aws(o);
    aws.start();
    Json::Value line;
    line["endpoint"] = aws.endpoint();
    line["runtime_api"] = aws.runtime_api();
    line["region"] = o.region;
    line["account_id"] = o.account_id;
    line["port"] = aws.port();
    line["pid"] = static_cast<Json::Int64>(::getpid());
    std::cout << ecrs::to_compact_json(line) << std::endl;

    if (!ignore_stdin) {
      std::thread([] {
        char buf[256];
        while (::read(STDIN_FILENO, buf, sizeof buf) > 0) {
        }
        ::kill(::getpid(), SIGTERM);
      }).detach();
    }
    int sig = 0;
    sigwait(&stop_signals, &sig);
    aws.stop();
    if (o.metrics) std::cout << ecrs::to_compact_json(aws.metrics()) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "localaws: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
