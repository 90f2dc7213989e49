// The evaluator against tables: images in, (digest -> rule priority) out.
// LifecycleDocExamples reproduces every worked example with a stated outcome on
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html (current, tagPatternList) and
// its archived tagPrefixList edition (awsdocs/amazon-ecr-user-guide, doc_source/lifecycle_policy_examples.md),
// loading the policies from the corpus. The examples' "Pushed: N days ago" become exact times before kNow.
// LifecycleEvaluator holds hand-computed tables for the documented examples that state no outcome and for the
// semantics the examples leave implicit.
#include "ecrs/lifecycle/evaluator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "ecrs/lifecycle/policy_validator.hpp"
#include "lifecycle_test_support.hpp"

namespace ecrs::lifecycle {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using Outcome = std::map<std::string, std::int64_t>;  // digest -> rulePriority that acted on it

const Timestamp kNow = std::chrono::sys_days{std::chrono::year{2025} / 6 / 1} + hours(12);

Image img(std::string digest, std::vector<std::string> tags, milliseconds age) {
  Image i;
  i.image_digest = std::move(digest);
  i.image_tags = std::move(tags);
  i.image_pushed_at = kNow - age;
  return i;
}

Policy load_corpus_policy(const std::string& name) {
  const auto text = testing::read_text(testing::policy_dir() / name);
  auto policy = parse_policy(text);
  if (!policy) {
    ADD_FAILURE() << name << ": " << policy.error().message;
    return {};
  }
  return std::move(policy).value();
}

Policy inline_policy(const std::string& text) {
  auto policy = parse_policy(text);
  if (!policy) {
    ADD_FAILURE() << policy.error().message;
    return {};
  }
  return std::move(policy).value();
}

struct Outcomes {
  Outcome expired;
  Outcome transitioned;
};

Outcomes run(const Policy& policy, const std::vector<Image>& images, Timestamp now = kNow) {
  const Evaluation e = evaluate_policy(policy, images, now);
  Outcomes out;
  EXPECT_EQ(e.verdicts.size(), images.size());
  for (std::size_t i = 0; i < images.size() && i < e.verdicts.size(); ++i) {
    const auto& v = e.verdicts[i];
    if (v.action == ImageAction::keep) {
      EXPECT_FALSE(v.rule_priority.has_value()) << images[i].image_digest;
      continue;
    }
    EXPECT_TRUE(v.rule_priority.has_value()) << images[i].image_digest;
    (v.action == ImageAction::expire ? out.expired : out.transitioned)[images[i].image_digest] =
        v.rule_priority.value_or(-1);
  }
  EXPECT_EQ(e.expired, out.expired.size());
  EXPECT_EQ(e.transitioned, out.transitioned.size());
  EXPECT_EQ(e.kept, images.size() - out.expired.size() - out.transitioned.size());
  return out;
}

// ---- [LPX] "Filtering on multiple rules" ----
std::vector<Image> multiple_rules_repository() {
  return {img("A", {"beta-1", "prod-1"}, days(10)), img("B", {"beta-2", "prod-2"}, days(9)),
          img("C", {"beta-3"}, days(8))};
}

TEST(LifecycleDocExamples, MultipleRulesExampleAExpiresOnlyImageA) {
  for (const char* file : {"valid-lpx-multiple-rules-a.json", "valid-lpold-multiple-rules-a-prefix.json"}) {
    SCOPED_TRACE(file);
    // Rule 2 would mark A and B, but A is Rule 1's and B matched Rule 1's tags.
    EXPECT_EQ(run(load_corpus_policy(file), multiple_rules_repository()).expired, (Outcome{{"A", 1}}));
  }
}

TEST(LifecycleDocExamples, MultipleRulesExampleBExpiresImagesAAndB) {
  for (const char* file : {"valid-lpx-multiple-rules-b.json", "valid-lpold-multiple-rules-b-prefix.json"}) {
    SCOPED_TRACE(file);
    EXPECT_EQ(run(load_corpus_policy(file), multiple_rules_repository()).expired, (Outcome{{"A", 1}, {"B", 1}}));
  }
}

// ---- [LPX] "Filtering on multiple tags in a single rule" ----
TEST(LifecycleDocExamples, MultipleTagsExampleAExpiresImageC) {
  const std::vector<Image> repo{img("A", {"alpha-1"}, days(12)),           img("B", {"beta-1"}, days(11)),
                                img("C", {"alpha-2", "beta-2"}, days(10)), img("D", {"alpha-3"}, days(4)),
                                img("E", {"beta-3"}, days(3)),             img("F", {"alpha-4", "beta-4"}, days(2))};
  for (const char* file : {"valid-lpx-multiple-tags-a.json", "valid-lpold-multiple-tags-a-prefix.json"}) {
    SCOPED_TRACE(file);
    EXPECT_EQ(run(load_corpus_policy(file), repo).expired, (Outcome{{"C", 1}}));
  }
}

TEST(LifecycleDocExamples, MultipleTagsExampleBExpiresImagesAAndB) {
  const std::vector<Image> repo{img("A", {"alpha-1", "beta-1", "gamma-1"}, days(10)),
                                img("B", {"alpha-2", "beta-2"}, days(9)),
                                img("C", {"alpha-3", "beta-3", "gamma-2"}, days(8))};
  for (const char* file : {"valid-lpx-multiple-tags-b.json", "valid-lpold-multiple-tags-b-prefix.json"}) {
    SCOPED_TRACE(file);
    EXPECT_EQ(run(load_corpus_policy(file), repo).expired, (Outcome{{"A", 1}, {"B", 1}}));
  }
}

// ---- [LPX] "Filtering on all images" ----
TEST(LifecycleDocExamples, AllImagesExampleAKeepsOnlyTheNewest) {
  const std::vector<Image> repo{img("A", {"alpha-1"}, days(4)), img("B", {"beta-1"}, days(3)), img("C", {}, days(2)),
                                img("D", {"alpha-2"}, days(1))};
  EXPECT_EQ(run(load_corpus_policy("valid-lpx-all-images-a.json"), repo).expired,
            (Outcome{{"A", 1}, {"B", 1}, {"C", 1}}));
}

TEST(LifecycleDocExamples, AllImagesExampleBExpiresAByRule1BByRule2AndDByRule3) {
  // D and E are both "1 day ago" on the page; the stated outcome (Rule 3 keeps one image yet marks D) needs E to be
  // the newer, so D is half an hour older. E sits exactly on Rule 2's 1-day boundary and is not expired.
  const std::vector<Image> repo{img("A", {"alpha-1", "beta-1"}, days(4)), img("B", {}, days(3)),
                                img("C", {"alpha-2"}, days(2)), img("D", {"git hash"}, days(1) + minutes(30)),
                                img("E", {}, days(1))};
  EXPECT_EQ(run(load_corpus_policy("valid-lpx-all-images-b.json"), repo).expired,
            (Outcome{{"A", 1}, {"B", 2}, {"D", 3}}));
}

// ---- [LPX] examples that give a policy but no repository: hand-computed ----
TEST(LifecycleEvaluator, ProdPatternOlderThanFourteenDaysKeepsTheBoundaryImage) {
  const std::vector<Image> repo{img("prod-old", {"prod-1"}, days(15)), img("prod-edge", {"prod-2"}, days(14)),
                                img("production", {"production-team1"}, days(20)),
                                img("preprod", {"preprod-1"}, days(30)), img("untagged", {}, days(40))};
  EXPECT_EQ(run(load_corpus_policy("valid-lpx-image-age-prod-pattern.json"), repo).expired,
            (Outcome{{"prod-old", 1}, {"production", 1}}));
}

TEST(LifecycleEvaluator, KeepOneUntaggedImageLeavesTaggedImagesAlone) {
  const std::vector<Image> repo{img("u1", {}, days(5)), img("u2", {}, days(3)), img("u3", {}, days(1)),
                                img("t1", {"v1"}, days(10))};
  EXPECT_EQ(run(load_corpus_policy("valid-lpx-image-count-untagged.json"), repo).expired,
            (Outcome{{"u1", 1}, {"u2", 1}}));
}

TEST(LifecycleEvaluator, SinceImagePulledUsesPullThenPushThenRestoreTime) {
  std::vector<Image> repo{img("pulled-recently", {"a"}, days(200)), img("never-pulled", {"b"}, days(100)),
                          img("pulled-long-ago", {}, days(95)), img("already-archived", {"d"}, days(300)),
                          img("restored-not-pulled", {"e"}, days(200))};
  repo[0].last_recorded_pull_time = kNow - days(10);
  repo[2].last_recorded_pull_time = kNow - days(91);
  repo[3].storage_class = StorageClass::archive;
  repo[4].last_recorded_pull_time = kNow - days(150);
  repo[4].last_activated_at = kNow - days(30);
  const auto out = run(load_corpus_policy("valid-lpx-last-pulled-archive.json"), repo);
  EXPECT_TRUE(out.expired.empty());
  EXPECT_EQ(out.transitioned, (Outcome{{"never-pulled", 1}, {"pulled-long-ago", 1}}));
}

TEST(LifecycleEvaluator, SinceImageTransitionedExpiresOnlyArchivedImagesPastTheirArchiveAge) {
  std::vector<Image> repo{img("archived-400", {"a"}, days(500)), img("archived-365", {"b"}, days(500)),
                          img("archived-300", {}, days(500)), img("standard-old", {"d"}, days(1000)),
                          img("archived-unknown", {"e"}, days(800))};
  for (std::size_t i : {0u, 1u, 2u, 4u}) repo[i].storage_class = StorageClass::archive;
  repo[0].last_archived_at = kNow - days(400);
  repo[1].last_archived_at = kNow - days(365);
  repo[2].last_archived_at = kNow - days(300);
  EXPECT_EQ(run(load_corpus_policy("valid-lpx-archive-transition-time.json"), repo).expired,
            (Outcome{{"archived-400", 1}}));
}

TEST(LifecycleEvaluator, CombinedArchiveAndExpireActsOnEachStorageClassSeparately) {
  std::vector<Image> repo{img("standard-old", {"v1"}, days(40)), img("standard-new", {"v2"}, days(10)),
                          img("archive-old", {"v0"}, days(900)), img("archive-new", {}, days(900))};
  repo[2].storage_class = repo[3].storage_class = StorageClass::archive;
  repo[2].last_archived_at = kNow - days(400);
  repo[3].last_archived_at = kNow - days(100);
  const auto out = run(load_corpus_policy("valid-lpx-combine-archive-expire.json"), repo);
  EXPECT_EQ(out.transitioned, (Outcome{{"standard-old", 1}}));
  EXPECT_EQ(out.expired, (Outcome{{"archive-old", 2}}));
}

TEST(LifecycleEvaluator, ArchivesProdImagesOlderThanThirtyDays) {
  const std::vector<Image> repo{img("p31", {"prod-a"}, days(31)), img("p30", {"prod-b"}, days(30)),
                                img("dev", {"dev-a"}, days(90))};
  EXPECT_EQ(run(load_corpus_policy("valid-lpx-archive-prod-30-days.json"), repo).transitioned,
            (Outcome{{"p31", 1}}));
}

// ---- semantics the examples leave implicit ----
TEST(LifecycleEvaluator, AHigherRuleShieldsTheImagesItsTagsMatchEvenWhenItKeepsThem) {
  const auto policy = inline_policy(R"({"rules":[
    {"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"sinceImagePushed",
     "countUnit":"days","countNumber":30},"action":{"type":"expire"}},
    {"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},
     "action":{"type":"expire"}}]})");
  const std::vector<Image> repo{img("P1", {"prod-1"}, days(40)), img("P2", {"prod-2"}, days(5)),
                                img("X", {"feature-x"}, days(20)), img("Y", {"feature-y"}, days(10)),
                                img("U", {}, days(2))};
  // Rule 2 keeps only U (newest of all five, counted with P1 and P2) and would take the rest; P2 is shielded.
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"P1", 1}, {"X", 2}, {"Y", 2}}));
}

TEST(LifecycleEvaluator, PriorityOrderNotListOrderDecides) {
  const auto policy = inline_policy(R"({"rules":[
    {"rulePriority":20,"selection":{"tagStatus":"tagged","tagPatternList":["beta*"],"countType":"imageCountMoreThan",
     "countNumber":1},"action":{"type":"expire"}},
    {"rulePriority":10,"selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"imageCountMoreThan",
     "countNumber":1},"action":{"type":"expire"}}]})");
  // Same as the documented Example A with priorities 10/20 listed backwards.
  EXPECT_EQ(run(policy, multiple_rules_repository()).expired, (Outcome{{"A", 10}}));
}

TEST(LifecycleEvaluator, CountsImagesNotTags) {
  const auto policy = inline_policy(R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged",
    "tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]})");
  // Seven tags on four images: keep the two newest images, whatever their tag counts.
  const std::vector<Image> repo{img("I1", {"v1", "v1.0", "v1.0.0"}, days(30)), img("I2", {"v2", "v2.0"}, days(20)),
                                img("I3", {"v3"}, days(10)), img("I4", {"v4", "latest"}, days(1))};
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"I1", 1}, {"I2", 1}}));
}

TEST(LifecycleEvaluator, UntaggedAndTaggedRulesSelectDisjointImages) {
  const auto policy = inline_policy(R"({"rules":[
    {"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},
     "action":{"type":"expire"}},
    {"rulePriority":2,"selection":{"tagStatus":"tagged","tagPrefixList":["release"],"countType":"sinceImagePushed",
     "countUnit":"days","countNumber":7},"action":{"type":"expire"}}]})");
  const std::vector<Image> repo{img("U1", {}, days(10)),         img("U2", {}, days(5)),
                                img("U3", {}, days(1)),          img("R1", {"release-1"}, days(10)),
                                img("R2", {"release-2"}, days(3)), img("F", {"feature-1"}, days(30))};
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"U1", 1}, {"U2", 1}, {"R1", 2}}));
}

TEST(LifecycleEvaluator, AgeMustExceedTheLimitStrictly) {
  const auto policy = inline_policy(R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged",
    "countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]})");
  const std::vector<Image> repo{img("exactly-14d", {}, days(14)), img("14d-plus-1ms", {}, days(14) + milliseconds(1)),
                                img("14d-minus-1ms", {}, days(14) - milliseconds(1)), img("15d", {}, days(15)),
                                img("pushed-in-future", {}, -hours(1))};
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"14d-plus-1ms", 1}, {"15d", 1}}));
}

TEST(LifecycleEvaluator, EveryPrefixMustMatchSomeTag) {
  const auto policy = inline_policy(R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged",
    "tagPrefixList":["app-","v"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1},
    "action":{"type":"expire"}}]})");
  const std::vector<Image> repo{img("both", {"app-web", "v1"}, days(5)), img("app-only", {"app-web"}, days(5)),
                                img("v-only", {"v1"}, days(5)), img("one-tag-app-v", {"app-v1"}, days(5)),
                                img("version", {"app-x", "version"}, days(5))};
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"both", 1}, {"version", 1}}));
}

TEST(LifecycleEvaluator, MatchesWildcardPatternsAgainstWholeTags) {
  struct Case {
    const char* pattern;
    const char* tag;
    bool matches;
  };
  const Case cases[] = {
      {"prod*", "prod", true},           {"prod*", "production-team1", true},  {"*prod*", "repo-production", true},
      {"*prod*", "prod-team", true},     {"prod*", "preprod", false},          {"prod", "prod1", false},
      {"prod", "prod", true},            {"Prod*", "prod", false},             {"a*b*c", "abc", true},
      {"a*b*c", "aXbYc", true},          {"a*b*c", "aXbYcZ", false},           {"*test*1*2*3", "mytest-1-2-3", true},
      {"test*1*2*3*", "test123", true},  {"test*1*2*3*", "test132", false},    {"*-rc*-*", "v2-rc1-amd64", true},
      {"*-rc*-*", "v2-rc1", false},      {"**", "x", true},                    {"*a", "banana", true},
      {"*ab", "aab", true},              {"*", "anything", true}};
  for (const auto& c : cases) {
    EXPECT_EQ(matches_tag_pattern(c.pattern, c.tag), c.matches) << c.pattern << " vs " << c.tag;
  }
}

TEST(LifecycleEvaluator, EveryPatternMustMatchSomeTag) {
  const auto policy = inline_policy(R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged",
    "tagPatternList":["*-rc*-*","release-*"],"countType":"imageCountMoreThan","countNumber":1},
    "action":{"type":"expire"}}]})");
  const std::vector<Image> repo{img("old", {"v1-rc1-amd64", "release-1"}, days(9)),
                                img("new", {"v2-rc3-arm64", "release-2"}, days(1)),
                                img("rc-only", {"v3-rc1-amd64"}, days(20)), img("release-only", {"release-0"}, days(30))};
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"old", 1}}));
}

TEST(LifecycleEvaluator, AnyRuleLastTakesOnlyWhatEarlierRulesDidNotMatch) {
  const auto policy = inline_policy(R"({"rules":[
    {"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["v*"],"countType":"imageCountMoreThan",
     "countNumber":2},"action":{"type":"expire"}},
    {"rulePriority":2,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days",
     "countNumber":30},"action":{"type":"expire"}}]})");
  const std::vector<Image> repo{img("v1", {"v1"}, days(60)),           img("v2", {"v2"}, days(50)),
                                img("v3", {"v3"}, days(40)),           img("v4", {"v4"}, days(1)),
                                img("nightly", {"nightly-1"}, days(45)), img("untagged-old", {}, days(35)),
                                img("untagged-new", {}, days(5))};
  // v3 is 40 days old but Rule 1 matched it (and kept it), so Rule 2 cannot expire it.
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"v1", 1}, {"v2", 1}, {"nightly", 2}, {"untagged-old", 2}}));
}

TEST(LifecycleEvaluator, BreaksEqualPushTimesByDigestWhateverTheListingOrder) {
  const auto policy = inline_policy(R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"any",
    "countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]})");
  std::vector<Image> repo{img("sha256:bbbb", {"b"}, days(3)), img("sha256:aaaa", {"a"}, days(3))};
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"sha256:aaaa", 1}}));
  std::reverse(repo.begin(), repo.end());
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"sha256:aaaa", 1}}));
}

TEST(LifecycleEvaluator, RestoredImagesCountFromTheirRestoreTime) {
  const auto policy = inline_policy(R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"any",
    "countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]})");
  std::vector<Image> repo{img("restored", {"a"}, days(100)), img("recent", {"b"}, days(10))};
  repo[0].last_activated_at = kNow - days(1);
  EXPECT_EQ(run(policy, repo).expired, (Outcome{{"recent", 1}}));
}

TEST(LifecycleEvaluator, AnEmptyRepositoryHasNothingToDo) {
  const auto policy = load_corpus_policy("valid-lpx-all-images-b.json");
  const Evaluation e = evaluate_policy(policy, {}, kNow);
  EXPECT_TRUE(e.verdicts.empty());
  EXPECT_EQ(e.expired + e.transitioned + e.kept, 0u);
}

}  // namespace
}  // namespace ecrs::lifecycle
