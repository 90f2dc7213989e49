// `ecr-sweeper lifecycle validate|preview|apply`, in process, on LocalAws.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "ecrs/common/json.hpp"
#include "ecrs/lifecycle/policy_validator.hpp"
#include "lifecycle_cli_support.hpp"

namespace ecrs::lifecycle_cli_test {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;
constexpr int kRepositories = 200;
constexpr hours kDay{24};

std::string repo_name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "app-%03d", i);
  return buf;
}

// 200 repositories app-000..app-199 (plus two that no pattern below matches), each with three untagged images
// pushed 10, 9 and 8 days ago and two tagged ones. Returns, per repository, the untagged digests oldest first.
std::map<std::string, std::vector<std::string>> seed(localaws::LocalAws& aws) {
  std::map<std::string, std::vector<std::string>> untagged;
  const auto now = system_clock::now();
  for (int i = 0; i < kRepositories; ++i) {
    const std::string name = repo_name(i);
    aws.ecr().create_repository(name);
    for (int age : {10, 9, 8}) untagged[name].push_back(aws.ecr().put_image(name, "", now - age * kDay));
    aws.ecr().put_image(name, "v1", now - 7 * kDay);
    aws.ecr().put_image(name, "v2", now - 6 * kDay);
  }
  for (const char* other : {"other-1", "team/app-000"}) {
    aws.ecr().create_repository(other);
    aws.ecr().put_image(other, "", now - 30 * kDay);
    aws.ecr().put_image(other, "", now - 20 * kDay);
  }
  return untagged;
}

std::uint64_t calls(const localaws::LocalAws& aws, const char* op) {
  const Json::Value m = aws.metrics();
  return m["operations"].isMember(op) ? m["operations"][op]["calls"].asUInt64() : 0;
}

std::set<std::string> member_names(const Json::Value& v) {
  auto names = v.getMemberNames();
  return {names.begin(), names.end()};
}

// A line of `text` starting with `prefix` and containing `needle`.
bool has_line(const std::string& text, const std::string& prefix, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0 && line.find(needle) != std::string::npos) return true;
  }
  return false;
}

class LifecycleCli : public ::testing::Test {
 protected:
  void SetUp() override { aws_.start(); }
  localaws::LocalAws aws_{localaws::Options{}};
};

// ---- validate ---------------------------------------------------------------------------------------------

TEST(LifecycleValidate, ExitCodesFollowTheCorpusAndFindingsNameRuleAndPath) {
  const std::filesystem::path dir = std::filesystem::path(source_dir()) / "tests/lifecycle/policies";
  Session session("http://127.0.0.1:9");  // validate makes no call
  int valid = 0, invalid = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    const std::string stem = entry.path().stem().string();
    const auto r = session.run({"lifecycle", "validate", entry.path().string()});
    if (stem.rfind("valid-", 0) == 0) {
      ++valid;
      EXPECT_EQ(r.rc, 0) << stem << "\n" << r.out << r.err;
      EXPECT_NE(r.out.find("valid: 0 error(s)"), std::string::npos) << stem << "\n" << r.out;
    } else {
      ++invalid;
      EXPECT_EQ(r.rc, lifecycle::kExitInvalidPolicy) << stem << "\n" << r.out << r.err;
      std::ifstream in(dir / (stem + ".expected"));
      std::string code, path;
      in >> code >> path;
      ASSERT_FALSE(code.empty()) << "no .expected beside " << stem;
      EXPECT_NE(r.out.find("[" + code + "]"), std::string::npos) << stem << "\n" << r.out;
      // "-" in .expected: a finding about the whole document, which the verb prints as <policy>.
      EXPECT_NE(r.out.find("error " + (path == "-" ? std::string("<policy>") : path)), std::string::npos)
          << stem << "\n" << r.out;
    }
  }
  // The corpus is data: a moved directory must fail, not pass with nothing checked.
  EXPECT_GE(valid, 15);
  EXPECT_GE(invalid, 50);
}

TEST(LifecycleValidate, UnreadableFileIsAUsageError) {
  Session session("http://127.0.0.1:9");
  const auto r = session.run({"lifecycle", "validate", "/nonexistent/policy.json"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("policy file: cannot read '/nonexistent/policy.json': No such file or directory"),
            std::string::npos)
      << r.err;
}

// ---- preview ----------------------------------------------------------------------------------------------

TEST_F(LifecycleCli, PreviewJsonListsWhatExpiresInTwoHundredRepositoriesInTheDocumentedShape) {
  const auto untagged = seed(aws_);
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws_.endpoint());
  // The in-use seam: one image the policy would expire is running somewhere.
  const std::string running = untagged.at("app-007").front();
  handler::LifecycleVerbOptions options;
  options.in_use = [&](const std::string& repo, const std::vector<lifecycle::Image>&) -> Result<std::set<std::string>> {
    if (repo == "app-007") return std::set<std::string>{running};
    return std::set<std::string>{};
  };
  const auto r = session.run({"lifecycle", "preview", policy.path(), "--repos", "app-*", "--output", "json"}, options);
  ASSERT_EQ(r.rc, 0) << r.err;
  auto doc = parse_json(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ(member_names(*doc), (std::set<std::string>{"repositories"}));
  const Json::Value& repos = (*doc)["repositories"];
  ASSERT_EQ(repos.size(), static_cast<Json::ArrayIndex>(kRepositories));
  for (Json::ArrayIndex i = 0; i < repos.size(); ++i) {
    const Json::Value& repo = repos[i];
    EXPECT_EQ(member_names(repo), (std::set<std::string>{"repositoryName", "expire", "transition", "kept"}));
    const std::string name = repo["repositoryName"].asString();
    ASSERT_EQ(name, repo_name(static_cast<int>(i)));  // sorted by name; other-1 and team/app-000 not matched
    EXPECT_EQ(repo["kept"].asUInt(), 3u);  // newest untagged + v1 + v2
    const auto& want = untagged.at(name);
    ASSERT_EQ(repo["expire"].size(), 2u);
    for (Json::ArrayIndex k = 0; k < 2; ++k) {
      const Json::Value& e = repo["expire"][k];
      EXPECT_EQ(member_names(e), (std::set<std::string>{"imageDigest", "imageTags", "rulePriority", "inUse"}));
      EXPECT_EQ(e["imageDigest"].asString(), want[k]);  // oldest first
      EXPECT_TRUE(e["imageTags"].isArray() && e["imageTags"].empty());
      EXPECT_EQ(e["rulePriority"].asInt64(), 1);
      EXPECT_EQ(e["inUse"].asBool(), name == "app-007" && want[k] == running);
    }
  }
  EXPECT_EQ(calls(aws_, "DescribeImages"), static_cast<std::uint64_t>(kRepositories));
  EXPECT_EQ(calls(aws_, "PutLifecyclePolicy"), 0u);
}

TEST_F(LifecycleCli, PreviewTextSaysWhyAndFlagsImagesInUse) {
  const auto untagged = seed(aws_);
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws_.endpoint());
  handler::LifecycleVerbOptions options;
  options.in_use = [&](const std::string&, const std::vector<lifecycle::Image>&) -> Result<std::set<std::string>> {
    return std::set<std::string>{untagged.at("app-001")[1]};
  };
  const auto r = session.run({"lifecycle", "preview", policy.path(), "--repos", "app-001", "team/*"}, options);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("app-001: 2 to expire, 3 kept"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("team/app-000: 1 to expire, 1 kept"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expire " + untagged.at("app-001")[1] + " <untagged> by rule 1 (Keep only the newest "
                                                                "untagged image)  IN USE"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("2 repositories, 3 images would expire, 1 of them IN USE"), std::string::npos) << r.out;
}

TEST_F(LifecycleCli, PreviewRefusesAnInvalidPolicyWithExitTwo) {
  seed(aws_);
  TempFile policy("bad.json", R"({"rules":[{"rulePriority":1,"description":"count zero is not allowed by ECR at all",)"
                              R"("selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":0},)"
                              R"("action":{"type":"expire"}}]})");
  Session session(aws_.endpoint());
  const auto r = session.run({"lifecycle", "preview", policy.path(), "--repos", "app-*"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("rules[0].selection.countNumber"), std::string::npos) << r.err;
  EXPECT_EQ(calls(aws_, "DescribeRepositories"), 0u);
}

TEST_F(LifecycleCli, RemotePreviewAgreesWithLocalAwsOnFiveRepositories) {
  seed(aws_);
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws_.endpoint());
  handler::LifecycleVerbOptions options;
  options.remote.poll_interval = std::chrono::milliseconds(1);
  const auto r = session.run({"lifecycle", "preview", policy.path(), "--repos", "app-00?", "--remote"},
                             options);
  ASSERT_EQ(r.rc, 0) << r.err << r.out;
  std::size_t agree = 0;
  for (auto pos = r.out.find("ECR's preview agrees"); pos != std::string::npos;
       pos = r.out.find("ECR's preview agrees", pos + 1)) {
    ++agree;
  }
  EXPECT_EQ(agree, 10u) << r.out;
  EXPECT_EQ(calls(aws_, "StartLifecyclePolicyPreview"), 10u);
}

// ---- apply ------------------------------------------------------------------------------------------------

TEST_F(LifecycleCli, ApplyPutsThePolicyOnTwoHundredRepositoriesThenSkipsThemAll) {
  seed(aws_);
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws_.endpoint());
  const auto first = session.run({"lifecycle", "apply", policy.path(), "--repos", "app-*", "--yes"});
  ASSERT_EQ(first.rc, 0) << first.err;
  EXPECT_NE(first.out.find("200 to change, 0 unchanged, 0 failed to read"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("200 applied, 0 unchanged, 0 failed"), std::string::npos) << first.out;
  for (int i = 0; i < kRepositories; ++i) {
    const auto repo = aws_.ecr().repository(repo_name(i));
    ASSERT_TRUE(repo && repo->lifecycle_policy) << repo_name(i);
    EXPECT_EQ(*repo->lifecycle_policy, kUntaggedPolicy);
  }
  EXPECT_FALSE(aws_.ecr().repository("other-1")->lifecycle_policy);
  EXPECT_EQ(calls(aws_, "PutLifecyclePolicy"), static_cast<std::uint64_t>(kRepositories));

  // Idempotent: nothing to change, no confirmation needed, no PutLifecyclePolicy.
  const auto second = session.run({"lifecycle", "apply", policy.path(), "--repos", "app-*"});
  EXPECT_EQ(second.rc, 0) << second.err;
  EXPECT_NE(second.out.find("0 to change, 200 unchanged"), std::string::npos) << second.out;
  EXPECT_EQ(calls(aws_, "PutLifecyclePolicy"), static_cast<std::uint64_t>(kRepositories));
}

TEST_F(LifecycleCli, ApplyComparesNormalisedJsonAndShowsTheDiffOfAChangedPolicy) {
  seed(aws_);
  {
    std::lock_guard lock(aws_.ecr().mutex());
    auto& repos = aws_.ecr().repositories_unlocked();
    // Same policy, reformatted with keys reordered: not a change.
    auto doc = parse_json(kUntaggedPolicy);
    repos.at("app-000").lifecycle_policy = handler::pretty_policy(kUntaggedPolicy);
    ASSERT_TRUE(doc);
    // A different countNumber: an update.
    std::string changed = kUntaggedPolicy;
    changed.replace(changed.find("\"countNumber\":1"), 15, "\"countNumber\":5");
    repos.at("app-001").lifecycle_policy = changed;
  }
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws_.endpoint());
  const auto r = session.run({"lifecycle", "apply", policy.path(), "--repos", "app-000", "app-001", "app-002", "--yes"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("2 to change, 1 unchanged"), std::string::npos) << r.out;
  EXPECT_TRUE(has_line(r.out, "- ", "\"countNumber\" : 5")) << r.out;
  EXPECT_TRUE(has_line(r.out, "+ ", "\"countNumber\" : 1")) << r.out;
  EXPECT_NE(r.out.find("app-000: unchanged"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("app-001: updated"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("app-002: created"), std::string::npos) << r.out;
  EXPECT_EQ(calls(aws_, "PutLifecyclePolicy"), 2u);
}

TEST_F(LifecycleCli, ApplyRefusesWithoutATerminalOrYesAndChangesNothing) {
  seed(aws_);
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws_.endpoint());
  const auto r = session.run({"lifecycle", "apply", policy.path(), "--repos", "app-*"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("pass --yes"), std::string::npos) << r.err;
  EXPECT_EQ(calls(aws_, "PutLifecyclePolicy"), 0u);

  handler::LifecycleVerbOptions decline;
  std::string asked;
  decline.confirm = [&](std::ostream&, const std::string& q) -> std::optional<bool> {
    asked = q;
    return false;
  };
  const auto no = session.run({"lifecycle", "apply", policy.path(), "--repos", "app-*"}, decline);
  EXPECT_EQ(no.rc, 1);
  EXPECT_EQ(asked, "Apply the policy to 200 repositories? [y/N] ");
  EXPECT_EQ(calls(aws_, "PutLifecyclePolicy"), 0u);

  handler::LifecycleVerbOptions accept;
  accept.confirm = [](std::ostream&, const std::string&) -> std::optional<bool> { return true; };
  const auto yes = session.run({"lifecycle", "apply", policy.path(), "--repos", "app-01*"}, accept);
  EXPECT_EQ(yes.rc, 0) << yes.err;
  EXPECT_EQ(calls(aws_, "PutLifecyclePolicy"), 10u);
}

TEST_F(LifecycleCli, ApplySelectsRepositoriesByResourceTag) {
  seed(aws_);
  {
    std::lock_guard lock(aws_.ecr().mutex());
    auto& repos = aws_.ecr().repositories_unlocked();
    for (int i = 0; i < kRepositories; i += 20) repos.at(repo_name(i)).tags["team"] = "a";
    repos.at(repo_name(1)).tags["team"] = "b";
  }
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws_.endpoint());
  const auto r = session.run({"lifecycle", "apply", policy.path(), "--tag", "team=a", "--yes"});
  ASSERT_EQ(r.rc, 0) << r.err;
  for (int i = 0; i < kRepositories; ++i) {
    EXPECT_EQ(aws_.ecr().repository(repo_name(i))->lifecycle_policy.has_value(), i % 20 == 0) << repo_name(i);
  }
  EXPECT_NE(r.out.find("10 applied"), std::string::npos) << r.out;
  const auto bad = session.run({"lifecycle", "apply", policy.path(), "--tag", "team", "--yes"});
  EXPECT_EQ(bad.rc, 2);
}

}  // namespace
}  // namespace ecrs::lifecycle_cli_test

namespace ecrs::lifecycle_cli_test {
namespace {

TEST(LifecycleCliFaults, ApplyRidesOutThrottlingAndReportsEveryRepository) {
  localaws::Options o;
  o.throttle_rate = 0.1;  // one ECR call in ten answers ThrottlingException; the AwsClient retries
  o.seed = 7;
  localaws::LocalAws aws(o);
  aws.start();
  constexpr int kThrottledRepositories = 30;  // retries back off for real: keep the test to a few seconds
  for (int i = 0; i < kThrottledRepositories; ++i) aws.ecr().create_repository("t-" + std::to_string(i));
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws.endpoint());
  const auto r = session.run({"lifecycle", "apply", policy.path(), "--repos", "t-*", "--yes", "--concurrency", "8"});
  ASSERT_EQ(r.rc, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("30 applied, 0 unchanged, 0 failed"), std::string::npos) << r.out;
  for (int i = 0; i < kThrottledRepositories; ++i) {
    EXPECT_TRUE(aws.ecr().repository("t-" + std::to_string(i))->lifecycle_policy) << i;
  }
  EXPECT_GT(aws.metrics()["operations"]["PutLifecyclePolicy"]["throttled"].asUInt64() +
                aws.metrics()["operations"]["GetLifecyclePolicy"]["throttled"].asUInt64(),
            0u)
      << "the seed should throttle some calls, or this test proves nothing";
}

TEST(LifecycleCliOutput, PreviewTableOnATerminalHasAHeaderAndOneRowPerExpiry) {
  localaws::LocalAws aws{localaws::Options{}};
  aws.start();
  aws.ecr().create_repository("web");
  const auto now = std::chrono::system_clock::now();
  const auto old = aws.ecr().put_image("web", "", now - std::chrono::hours(48));
  aws.ecr().put_image("web", "", now - std::chrono::hours(24));
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws.endpoint());
  handler::LifecycleVerbOptions options;
  options.table = true;
  const auto r = session.run({"lifecycle", "preview", policy.path(), "--repos", "web"}, options);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.rfind("REPOSITORY", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("web"), std::string::npos);
  EXPECT_NE(r.out.find(old.substr(0, 19)), std::string::npos) << r.out;  // sha256: + 12 hex
  EXPECT_NE(r.out.find("1 repositories, 1 images would expire"), std::string::npos) << r.out;

  // --remote with --output json: each repository also carries remoteDiff (empty when ECR agrees).
  options.remote.poll_interval = std::chrono::milliseconds(1);
  const auto j = session.run({"lifecycle", "preview", policy.path(), "--repos", "web", "--remote", "--output", "json"},
                             options);
  ASSERT_EQ(j.rc, 0) << j.err;
  auto doc = parse_json(j.out);
  ASSERT_TRUE(doc) << j.out;
  EXPECT_TRUE((*doc)["repositories"][0]["remoteDiff"].isArray());
  EXPECT_EQ((*doc)["repositories"][0]["remoteDiff"].size(), 0u) << j.out;
}

}  // namespace
}  // namespace ecrs::lifecycle_cli_test

namespace ecrs::lifecycle_cli_test {
namespace {

// CI asks preview to fail when the policy would expire something in use (exit 3, after the full output), and a
// --repos pattern that matches nothing is said out loud.
TEST(LifecycleCliExits, FailOnInUseExitsFourOnlyWhenAnExpiringImageIsInUse) {
  localaws::LocalAws aws{localaws::Options{}};
  aws.start();
  aws.ecr().create_repository("web");
  const auto now = std::chrono::system_clock::now();
  const auto old = aws.ecr().put_image("web", "", now - std::chrono::hours(48));
  aws.ecr().put_image("web", "", now - std::chrono::hours(24));
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws.endpoint());
  std::set<std::string> in_use;
  handler::LifecycleVerbOptions options;
  options.in_use = [&](const std::string&, const std::vector<lifecycle::Image>&) -> Result<std::set<std::string>> {
    return in_use;
  };
  const std::vector<std::string> args{"lifecycle", "preview", policy.path(), "--repos", "web", "--fail-on-in-use"};
  const auto clear = session.run(args, options);
  EXPECT_EQ(clear.rc, 0) << clear.err << clear.out;
  in_use = {old};
  const auto flagged = session.run(args, options);
  EXPECT_EQ(flagged.rc, handler::kCliExitFlagged) << flagged.err << flagged.out;
  EXPECT_NE(flagged.out.find("IN USE"), std::string::npos) << flagged.out;
  const auto without_flag = session.run({"lifecycle", "preview", policy.path(), "--repos", "web"}, options);
  EXPECT_EQ(without_flag.rc, 0) << "in use alone is not a failure without --fail-on-in-use";

  const auto nomatch = session.run({"lifecycle", "preview", policy.path(), "--repos", "web", "nomatch-*"}, options);
  EXPECT_NE(nomatch.err.find("--repos 'nomatch-*' matches no repository"), std::string::npos) << nomatch.err;
  EXPECT_EQ(nomatch.err.find("--repos 'web'"), std::string::npos) << nomatch.err;
}

TEST(LifecycleCliExits, ApplyWithSomeRepositoriesFailingExitsThreePartial) {
  localaws::LocalAws aws{localaws::Options{}};
  aws.start();
  for (const char* r : {"p-1", "p-2", "p-3"}) aws.ecr().create_repository(r);
  aws.add_fault({"PutLifecyclePolicy", 1, 400, "AccessDeniedException", "denied for one repository"});
  TempFile policy("policy.json", kUntaggedPolicy);
  Session session(aws.endpoint());
  const auto r = session.run({"lifecycle", "apply", policy.path(), "--repos", "p-*", "--yes", "--concurrency", "1"});
  EXPECT_EQ(r.rc, handler::kCliExitPartial) << r.err << r.out;
  EXPECT_NE(r.out.find("2 applied, 0 unchanged, 1 failed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ecrs::lifecycle_cli_test
