#pragma once
// Shared by the lifecycle tests: where the policy corpus lives and how to read one file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ecrs::lifecycle::testing {

// ECRS_SOURCE_DIR comes from ECRS_TEST_ENV under ctest; the configured source dir is the fallback for a direct run.
// A missing corpus then fails the corpus test (it counts the files it found) rather than skipping.
inline std::filesystem::path policy_dir() {
  const char* src = std::getenv("ECRS_SOURCE_DIR");
  const std::filesystem::path root = src != nullptr ? std::filesystem::path(src) : std::filesystem::path(ECRS_DEFAULT_SOURCE_DIR);
  return root / "tests" / "lifecycle" / "policies";
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << p;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ecrs::lifecycle::testing
