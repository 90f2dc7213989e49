// Walks tests/lifecycle/policies: every valid-*.json must produce no finding at all; every invalid-*.json must
// produce exactly the errors its .expected sidecar lists ("Code path" per line, "-" for the whole document).
// The valid-lpx-* files are the policies of https://docs.aws.amazon.com/AmazonECR/latest/userguide/
// lifecycle_policy_examples.html; valid-lpold-* the tagPrefixList versions from the archived
// awsdocs/amazon-ecr-user-guide (doc_source/lifecycle_policy_examples.md), commas restored.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "ecrs/lifecycle/policy_validator.hpp"
#include "lifecycle_test_support.hpp"

namespace ecrs::lifecycle {
namespace {

using testing::policy_dir;
using testing::read_text;

// Counted by hand when the corpus changes, so a moved or emptied directory fails instead of passing vacuously.
constexpr std::size_t kValidPolicies = 20;
constexpr std::size_t kInvalidPolicies = 52;

std::vector<std::filesystem::path> corpus_files(const std::string& prefix) {
  std::vector<std::filesystem::path> out;
  const auto dir = policy_dir();
  if (dir.empty() || !std::filesystem::is_directory(dir)) {
    ADD_FAILURE() << "policy corpus not found at " << dir;
    return out;
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() == ".json" && name.rfind(prefix, 0) == 0) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

using Expected = std::set<std::pair<std::string, std::string>>;

Expected read_expected(const std::filesystem::path& json_file) {
  auto sidecar = json_file;
  sidecar.replace_extension(".expected");
  Expected out;
  std::istringstream lines(read_text(sidecar));
  std::string code, path;
  while (lines >> code >> path) out.emplace(code, path == "-" ? "" : path);
  return out;
}

TEST(PolicyCorpus, AcceptsEveryValidPolicyWithoutAFinding) {
  const auto files = corpus_files("valid-");
  EXPECT_EQ(files.size(), kValidPolicies);
  for (const auto& f : files) {
    const ValidationReport report = validate_policy(read_text(f));
    EXPECT_TRUE(report.findings.empty()) << f.filename() << ":\n" << report.describe();
    EXPECT_EQ(exit_code(report), 0) << f.filename();
    EXPECT_TRUE(parse_policy(read_text(f)).has_value()) << f.filename();
  }
}

TEST(PolicyCorpus, RejectsEveryInvalidPolicyWithTheExpectedFindings) {
  const auto files = corpus_files("invalid-");
  EXPECT_EQ(files.size(), kInvalidPolicies);
  for (const auto& f : files) {
    const Expected expected = read_expected(f);
    ASSERT_FALSE(expected.empty()) << f.filename() << " has no .expected sidecar";
    const ValidationReport report = validate_policy(read_text(f));
    Expected got;
    for (const auto& finding : report.findings) {
      if (finding.severity == Severity::error) got.emplace(finding.code, finding.path);
      EXPECT_FALSE(finding.message.empty()) << f.filename();
    }
    EXPECT_EQ(got, expected) << f.filename() << ":\n" << report.describe();
    EXPECT_EQ(exit_code(report), kExitInvalidPolicy) << f.filename();
    const auto parsed = parse_policy(read_text(f));
    ASSERT_FALSE(parsed.has_value()) << f.filename();
    EXPECT_EQ(parsed.error().code, "InvalidLifecyclePolicy");
  }
}

}  // namespace
}  // namespace ecrs::lifecycle
