#pragma once
// An in-process `ecr-sweeper lifecycle` over LocalAws (the shared CliVerbHarness), temporary policy files and
// the policies the tests share.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "ecrs/handler/lifecycle_mode.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "support/cli_verb_harness.hpp"

namespace ecrs::lifecycle_cli_test {

using test_support::VerbRun;

// The verb in process over `endpoint` (tests/support/cli_verb_harness.hpp); logs captured at debug.
class Session : public test_support::CliVerbHarness {
 public:
  explicit Session(const std::string& endpoint) : CliVerbHarness(test_support::local_cli_env(endpoint)) {}
  handler::AwsSession& get() { return session(); }

  // ARGS start at "lifecycle". Unless the test says otherwise: plain lines, and nobody to confirm.
  VerbRun run(std::vector<std::string> args, handler::LifecycleVerbOptions options = {}) {
    if (!options.table) options.table = false;
    if (!options.confirm) {
      options.confirm = [](std::ostream&, const std::string&) -> std::optional<bool> { return std::nullopt; };
    }
    auto verb = handler::make_lifecycle_verb(std::move(options));
    return CliVerbHarness::run(*verb, std::move(args));
  }
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
