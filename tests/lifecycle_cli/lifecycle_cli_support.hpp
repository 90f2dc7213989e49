#pragma once
// An in-process `ecr-sweeper lifecycle` over LocalAws: an AwsSession on a MapEnvironment pointing every service
// at the emulator (credentials test:test), the verb parsed by CLI11 as the binary would, output captured.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/lifecycle_mode.hpp"
#include "ecrs/localaws/localaws.hpp"

namespace ecrs::lifecycle_cli_test {

inline std::map<std::string, std::string> session_env(const std::string& endpoint) {
  return {{"AWS_ENDPOINT_URL", endpoint},
          {"AWS_REGION", "us-east-1"},
          {"AWS_ACCESS_KEY_ID", "test"},
          {"AWS_SECRET_ACCESS_KEY", "test"},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_CONFIG_FILE", "/nonexistent/ecrs-config"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ecrs-credentials"}};
}

struct VerbRun {
  int rc = -1;
  std::string out;
  std::string err;
};

// A session over `endpoint`; the objects it borrows live beside it.
class Session {
 public:
  explicit Session(const std::string& endpoint)
      : env_(session_env(endpoint)), logger_(sink_, clock_, LogLevel::debug),
        session_(env_, clock_, sleeper_, random_, logger_) {}
  handler::AwsSession& get() { return session_; }
  CaptureSink& sink() { return sink_; }

  VerbRun run(std::vector<std::string> args, handler::LifecycleVerbOptions options = {}) {
    if (!options.table) options.table = false;
    if (!options.confirm) {
      options.confirm = [](std::ostream&, const std::string&) -> std::optional<bool> { return std::nullopt; };
    }
    CLI::App app("ecr-sweeper");
    auto verb = handler::make_lifecycle_verb(std::move(options));
    CLI::App* sub = verb->add_to(app);
    args.insert(args.begin(), "ecr-sweeper");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    VerbRun r;
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      r.err = e.what();
      r.rc = 2;
      return r;
    }
    EXPECT_TRUE(sub->parsed());
    std::ostringstream out, err;
    handler::CliContext io{out, err, false, &sink_};
    r.rc = verb->run(session_, io);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

 private:
  MapEnvironment env_;
  SystemClock clock_;
  RealSleeper sleeper_;
  SystemRandom random_;
  CaptureSink sink_;
  Logger logger_;
  handler::AwsSession session_;
};

// A file under the test's temporary directory, removed with the object.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& content) {
    path_ = std::filesystem::temp_directory_path() /
            ("ecrs-lifecycle-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) + "-" + name);
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

inline std::string source_dir() {
  if (const char* s = std::getenv("ECRS_SOURCE_DIR")) return s;
  return ECRS_DEFAULT_SOURCE_DIR;
}

// Keeps the newest untagged image; every policy text must be ≥100 characters (LifecyclePolicyText min).
inline const std::string kUntaggedPolicy =
    R"({"rules":[{"rulePriority":1,"description":"Keep only the newest untagged image",)"
    R"("selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},)"
    R"("action":{"type":"expire"}}]})";

}  // namespace ecrs::lifecycle_cli_test
