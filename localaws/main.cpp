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

}  // namespace

int main(int argc, char** argv) {
  ecrs::localaws::Options o;
  CLI::App app{"localaws: a local ECR, S3 response receiver and Lambda Runtime API for tests and demos"};
  std::string credentials = "test:test";
  std::vector<std::string> tps;
  int latency_ms = 0;
  int function_timeout_ms = static_cast<int>(o.function_timeout.count());
  bool ignore_stdin = false;
  app.add_option("--port", o.port, "TCP port on 127.0.0.1 (0 = ephemeral)");
  app.add_option("--credentials", credentials, "KEY:SECRET[:TOKEN] the ECR and Lambda APIs accept");
  app.add_option("--region", o.region, "region (signing scope)");
  app.add_option("--account-id", o.account_id, "account id (registry id)");
  app.add_option("--latency-ms", latency_ms, "added latency for every ECR call");
  app.add_option("--throttle-rate", o.throttle_rate, "fraction of ECR calls answered ThrottlingException")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--tps", tps, "OP=N: token bucket per operation, ThrottlingException above N calls/s");
  app.add_option("--error-rate", o.error_rate, "fraction of ECR calls answered 500 ServerException")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", o.seed, "seed for random faults");
  app.add_option("--state", o.state_file, "load repositories and images from FILE at start, save at exit");
  app.add_flag("--metrics", o.metrics, "print metrics JSON on stdout at exit");
  app.add_option("--function-timeout-ms", function_timeout_ms, "Lambda function timeout (deadline header)");
  app.add_option("--function-name", o.function_name, "Lambda function name");
  app.add_option("--threads", o.threads, "io threads")->check(CLI::Range(1, 64));
  app.add_flag("--ignore-stdin", ignore_stdin, "do not stop when stdin closes (e.g. started with '&' by a shell)");
  CLI11_PARSE(app, argc, argv);

  if (!parse_credentials(credentials, o)) {
    std::cerr << "localaws: --credentials must be KEY:SECRET[:TOKEN]\n";
    return 2;
  }
  for (const auto& spec : tps) {
    const auto eq = spec.find('=');
    double rate = 0;
    try {
      rate = eq == std::string::npos ? 0 : std::stod(spec.substr(eq + 1));
    } catch (const std::exception&) {
      rate = 0;
    }
    if (eq == std::string::npos || eq == 0 || rate <= 0) {
      std::cerr << "localaws: --tps wants OP=N with N > 0, got '" << spec << "'\n";
      return 2;
    }
    o.tps[spec.substr(0, eq)] = rate;
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
    if (latency_ms > 0) aws.set_latency("*", std::chrono::milliseconds(latency_ms));
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
