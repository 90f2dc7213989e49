#include "ecrs/cfn/properties.hpp"

#include <gtest/gtest.h>

#include "ecrs/common/json.hpp"

namespace ecrs::cfn {
namespace {

TEST(RepositoryName, FollowsTheBotocoreModelPatternAndLength) {
  struct Row {
    std::string name;
    const char* message_has;  // nullptr: valid
  };
  const std::vector<Row> rows = {
      {"web", nullptr},
      {"ab", nullptr},
      {std::string(256, 'a'), nullptr},
      {"team/web", nullptr},
      {"a/b/c/d", nullptr},
      {"my.repo", nullptr},
      {"my_repo", nullptr},
      {"my__repo", nullptr},
      {"my---repo", nullptr},
      {"0123", nullptr},
      {"a", "is 1 characters long; ECR requires 2 to 256"},
      {"", "is 0 characters long"},
      {std::string(257, 'a'), "is 257 characters long"},
      {"Web", "has 'W' at position 1; ECR allows lowercase letters, digits, '.', '_', '-' and '/' (names are lowercase)"},
      {"we b", "has ' ' at position 3"},
      {"web:latest", "has ':' at position 4"},
      {"w\xc3\xa9" "b", "non-printable or non-ASCII byte at position 2"},
      {"/web", "empty path component at position 1"},
      {"web/", "empty path component at position 5"},
      {"team//web", "empty path component at position 6"},
      {"-web", "'-web' starts with '-'"},
      {"team/web.", "'web.' ends with '.'"},
      {"my___repo", "separator '___' at position 3"},
      {"my._repo", "separator '._' at position 3"},
      {"my..repo", "separator '..' at position 3"},
      {"my-_repo", "separator '-_' at position 3"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto r = validate_repository_name(row.name);
    if (row.message_has == nullptr) {
      EXPECT_TRUE(r) << r.error().message;
    } else {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, "InvalidProperty");
      EXPECT_NE(r.error().message.find(row.message_has), std::string::npos) << r.error().message;
    }
  }
}

TEST(Properties, TypedFromStringsAsCloudFormationSendsThem) {
  struct Row {
    const char* name;
    const char* props_json;
    std::optional<std::string> env_default;
    std::optional<EmptyEcrRepositoryProperties> want;  // nullopt: error
    const char* error_has;
  };
  using P = EmptyEcrRepositoryProperties;
  const std::vector<Row> rows = {
      {"name only", R"({"RepositoryName":"web"})", std::nullopt, P{"web", std::nullopt, false, false}, ""},
      {"all three", R"({"RepositoryName":"web","RegistryId":"210987654321","DryRun":"true"})", std::nullopt,
       P{"web", "210987654321", true, false}, ""},
      {"DryRun false", R"({"RepositoryName":"web","DryRun":"false"})", std::nullopt, P{"web", std::nullopt, false, false}, ""},
      {"DryRun True", R"({"RepositoryName":"web","DryRun":"True"})", std::nullopt, P{"web", std::nullopt, true, false}, ""},
      {"DryRun JSON bool", R"({"RepositoryName":"web","DryRun":true})", std::nullopt, P{"web", std::nullopt, true, false}, ""},
      {"empty RegistryId is absent", R"({"RepositoryName":"web","RegistryId":""})", std::nullopt,
       P{"web", std::nullopt, false, false}, ""},
      {"CloudFormation's own keys", R"({"RepositoryName":"web","ServiceToken":"arn:x","ServiceTimeout":"300"})",
       std::nullopt, P{"web", std::nullopt, false, false}, ""},
      {"env fallback", R"({})", "fallback", P{"fallback", std::nullopt, false, true}, ""},
      {"empty name uses env", R"({"RepositoryName":""})", "fallback", P{"fallback", std::nullopt, false, true}, ""},
      {"property wins over env", R"({"RepositoryName":"web"})", "fallback", P{"web", std::nullopt, false, false}, ""},
      {"missing everywhere", R"({})", std::nullopt, std::nullopt, "RepositoryName is required"},
      {"empty env is missing", R"({})", "", std::nullopt, "ECR_REPOSITORY_NAME"},
      {"bad env value", R"({})", "Bad", std::nullopt, "(from ECR_REPOSITORY_NAME)"},
      {"name as number", R"({"RepositoryName":42})", std::nullopt, std::nullopt, "RepositoryName must be a string, got a number"},
      {"name as list", R"({"RepositoryName":["web"]})", std::nullopt, std::nullopt, "got a list"},
      {"DryRun yes", R"({"RepositoryName":"web","DryRun":"yes"})", std::nullopt, std::nullopt,
       "DryRun must be \"true\" or \"false\", got \"yes\""},
      {"DryRun number", R"({"RepositoryName":"web","DryRun":1})", std::nullopt, std::nullopt, "DryRun must be"},
      {"RegistryId short", R"({"RepositoryName":"web","RegistryId":"12345"})", std::nullopt, std::nullopt,
       "RegistryId '12345' must be a 12-digit AWS account id"},
      {"RegistryId letters", R"({"RepositoryName":"web","RegistryId":"12345678901x"})", std::nullopt, std::nullopt,
       "12-digit"},
      {"RegistryId number", R"({"RepositoryName":"web","RegistryId":123456789012})", std::nullopt, std::nullopt,
       "RegistryId must be a string"},
      {"typo in a name", R"({"Repositoryname":"web"})", "fallback", std::nullopt, "unknown property 'Repositoryname'"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto json = parse_json(row.props_json);
    ASSERT_TRUE(json);
    auto r = parse_properties(*json, row.env_default);
    if (row.want) {
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(*r, *row.want);
    } else {
      ASSERT_FALSE(r);
      EXPECT_TRUE(r.error().code == "InvalidProperty" || r.error().code == "MissingProperty") << r.error().code;
      EXPECT_NE(r.error().message.find(row.error_has), std::string::npos) << r.error().message;
    }
  }
}

TEST(Properties, UnknownKeysAreIgnoredWhenAskedAsOnDelete) {
  auto json = parse_json(R"({"RepositoryName":"web","LegacyOption":"x"})");
  EXPECT_FALSE(parse_properties(*json, std::nullopt));
  auto r = parse_properties(*json, std::nullopt, UnknownProperties::ignore);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repository_name, "web");
}

}  // namespace
}  // namespace ecrs::cfn
