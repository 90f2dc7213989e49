// What the findings look like to a person and to a script; the rule-by-rule verdicts live in the corpus test.
#include "ecrs/lifecycle/policy_validator.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ecrs::lifecycle {
namespace {

// A compact valid policy (122 characters) to vary one field at a time.
std::string policy_with_selection(const std::string& selection, const std::string& extra_rules = "") {
  return R"({"rules":[{"rulePriority":1,"description":"keep the last few","selection":)" + selection +
         R"(,"action":{"type":"expire"}})" + extra_rules + "]}";
}

const Finding* find_code(const ValidationReport& r, const std::string& code) {
  for (const auto& f : r.findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

TEST(PolicyValidator, NamesThePathAndRulePriorityOfAFinding) {
  const auto report = validate_policy(
      R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":9},)"
      R"("action":{"type":"expire"}},{"rulePriority":7,"selection":{"tagStatus":"untagged","countType":)"
      R"("imageCountMoreThan","countUnit":"days","countNumber":3},"action":{"type":"expire"}}]})");
  const Finding* f = find_code(report, "CountUnitNotAllowed");
  ASSERT_NE(f, nullptr) << report.describe();
  EXPECT_EQ(f->path, "rules[1].selection.countUnit");
  EXPECT_EQ(f->rule_priority, 7);
  EXPECT_NE(report.describe().find("error rules[1].selection.countUnit (rulePriority 7): countUnit is only allowed"),
            std::string::npos)
      << report.describe();
  const Finding* any = find_code(report, "AnyRuleNotLast");
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any->rule_priority, 1);
  EXPECT_NE(any->message.find("rules[1] has rulePriority 7"), std::string::npos) << any->message;
}

TEST(PolicyValidator, CountsCharactersNotBytesForTheSizeLimit) {
  // ECR's limit is in characters: 99 characters are too few even when their UTF-8 takes more than 100 bytes.
  const std::string head = R"({"rules":[],"x":")";
  const std::string tail = R"("})";
  std::string text = head;
  const std::size_t two_byte_chars = kMinPolicyTextChars - 1 - head.size() - tail.size();
  for (std::size_t i = 0; i < two_byte_chars; ++i) text += "\xC3\xA9";  // é
  text += tail;
  ASSERT_GE(text.size(), kMinPolicyTextChars);
  const auto report = validate_policy(text);
  const Finding* f = find_code(report, "PolicyTooShort");
  ASSERT_NE(f, nullptr) << report.describe();
  EXPECT_NE(f->message.find("99 characters"), std::string::npos) << f->message;
}

TEST(PolicyValidator, WarnsButAcceptsARepeatedKey) {
  const auto report = validate_policy(
      policy_with_selection(R"({"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1,"countNumber":2})"));
  EXPECT_TRUE(report.valid()) << report.describe();
  ASSERT_NE(find_code(report, "DuplicateKey"), nullptr);
  EXPECT_EQ(find_code(report, "DuplicateKey")->severity, Severity::warning);
  EXPECT_EQ(exit_code(report), 0);
}

TEST(PolicyValidator, WarnsThatAPrefixDoesNotExpandWildcards) {
  const auto report = validate_policy(policy_with_selection(
      R"({"tagStatus":"tagged","tagPrefixList":["prod*"],"countType":"imageCountMoreThan","countNumber":1})"));
  EXPECT_TRUE(report.valid());
  const Finding* f = find_code(report, "LiteralAsteriskInPrefix");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "rules[0].selection.tagPrefixList[0]");
  EXPECT_NE(f->message.find("tagPatternList"), std::string::npos);
}

TEST(PolicyValidator, WarnsAboutAnEmptyPrefixAndARepeatedPattern) {
  auto report = validate_policy(policy_with_selection(
      R"({"tagStatus":"tagged","tagPrefixList":[""],"countType":"imageCountMoreThan","countNumber":1})"));
  EXPECT_TRUE(report.valid());
  EXPECT_NE(find_code(report, "EmptyTagFilter"), nullptr);
  report = validate_policy(policy_with_selection(
      R"({"tagStatus":"tagged","tagPatternList":["v*","v*"],"countType":"imageCountMoreThan","countNumber":1})"));
  EXPECT_TRUE(report.valid());
  ASSERT_NE(find_code(report, "DuplicateTagFilter"), nullptr);
  EXPECT_EQ(find_code(report, "DuplicateTagFilter")->path, "rules[0].selection.tagPatternList[1]");
}

TEST(PolicyValidator, AcceptsExactlyFourWildcardsAndRejectsFive) {
  EXPECT_TRUE(validate_policy(policy_with_selection(
                  R"({"tagStatus":"tagged","tagPatternList":["*a*b*c*"],"countType":"imageCountMoreThan","countNumber":1})"))
                  .valid());
  const auto report = validate_policy(policy_with_selection(
      R"({"tagStatus":"tagged","tagPatternList":["*a*b*c*d*"],"countType":"imageCountMoreThan","countNumber":1})"));
  ASSERT_NE(find_code(report, "WildcardLimit"), nullptr);
  EXPECT_NE(find_code(report, "WildcardLimit")->message.find("5 wildcards"), std::string::npos);
}

TEST(PolicyValidator, AcceptsTheSmallestArchiveDurationAndRejectsOneDayLess) {
  const std::string sel = R"({"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned",)"
                          R"("countUnit":"days","countNumber":)";
  EXPECT_TRUE(validate_policy(policy_with_selection(sel + std::to_string(kMinArchiveDaysBeforeExpire) + "}")).valid());
  EXPECT_FALSE(
      validate_policy(policy_with_selection(sel + std::to_string(kMinArchiveDaysBeforeExpire - 1) + "}")).valid());
}

TEST(PolicyValidator, RejectsAPriorityBeyondAThirtyTwoBitInteger) {
  const auto report = validate_policy(
      R"({"rules":[{"rulePriority":4294967296,"selection":{"tagStatus":"any","countType":"imageCountMoreThan",)"
      R"("countNumber":1},"action":{"type":"expire"}}]})");
  ASSERT_NE(find_code(report, "InvalidRulePriority"), nullptr) << report.describe();
}

TEST(PolicyValidator, ReportsEveryProblemNotJustTheFirst) {
  const auto report = validate_policy(
      R"({"rules":[{"rulePriority":0,"selection":{"tagStatus":"tagged","countType":"sinceImagePushed",)"
      R"("countNumber":0},"action":{"type":"expire","targetStorageClass":"archive"}}]})");
  EXPECT_EQ(report.error_count(), 5u) << report.describe();
  for (const char* code : {"InvalidRulePriority", "MissingTagFilter", "MissingCountUnit", "CountNumberNotPositive",
                           "TargetStorageClassNotAllowed"}) {
    EXPECT_NE(find_code(report, code), nullptr) << code << "\n" << report.describe();
  }
}

TEST(PolicyValidator, ParsesAValidPolicyIntoRulesSortedByPriority) {
  const auto policy = parse_policy(
      R"({"rules":[{"rulePriority":9,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":30}, )"
      R"("action":{"type":"expire"}},{"rulePriority":2,"description":"old prod","selection":{"tagStatus":"tagged",)"
      R"("tagPatternList":["prod*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},)"
      R"("action":{"type":"transition","targetStorageClass":"archive"}}]})");
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  ASSERT_EQ(policy->rules.size(), 2u);
  const Rule& first = policy->rules[0];
  EXPECT_EQ(first.rule_priority, 2);
  EXPECT_EQ(first.description, "old prod");
  EXPECT_EQ(first.tag_status, TagStatus::tagged);
  EXPECT_EQ(first.tag_pattern_list, std::vector<std::string>{"prod*"});
  EXPECT_EQ(first.count_type, CountType::since_image_pushed);
  EXPECT_EQ(first.count_number, 30);
  EXPECT_EQ(first.action, ActionType::transition);
  EXPECT_EQ(first.target_storage_class, StorageClass::archive);
  EXPECT_EQ(first.storage_class, StorageClass::standard);
  EXPECT_EQ(policy->rules[1].rule_priority, 9);
  EXPECT_EQ(policy->rules[1].tag_status, TagStatus::any);
}

TEST(PolicyValidator, ParsePolicyListsTheErrorsInItsMessage) {
  const auto policy = parse_policy(policy_with_selection(R"({"tagStatus":"sometimes","countType":"imageCountMoreThan","countNumber":1})"));
  ASSERT_FALSE(policy.has_value());
  EXPECT_EQ(policy.error().code, "InvalidLifecyclePolicy");
  EXPECT_NE(policy.error().message.find("rules[0].selection.tagStatus"), std::string::npos) << policy.error().message;
}

}  // namespace
}  // namespace ecrs::lifecycle
