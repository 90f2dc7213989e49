// The --state file: everything ECR keeps about a repository and the registry's repository creation templates
// survive a save at stop and a load at start, so a demo or a create-on-push run can be resumed where it stopped.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "ecrs/common/json.hpp"
#include "ecrs/localaws/localaws.hpp"

namespace ecrs::localaws {
namespace {

constexpr const char* kKmsKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
constexpr const char* kLifecycle =
    R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]})";
constexpr const char* kRepoPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:BatchGetImage"]}]})";

Json::Value parse(const std::string& text) {
  auto v = parse_json(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v ? *v : Json::Value();
}

Json::Value call_ok(LocalAws& aws, const std::string& op, const std::string& input) {
  const EcrReply r = aws.ecr_service().call(op, parse(input));
  EXPECT_EQ(r.error_code, "") << op << ": " << to_compact_json(r.body);
  return r.body;
}

class StateFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("localaws-state-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json");
    std::filesystem::remove(path_);
    options_.state_file = path_.string();
  }
  void TearDown() override { std::filesystem::remove(path_); }

  // What the create-on-push path writes (CreateRepository with every setting, PutLifecyclePolicy,
  // SetRepositoryPolicy) and what `repo template apply` writes (a CREATE_ON_PUSH template), plus an image.
  static void seed(LocalAws& aws) {
    call_ok(aws, "CreateRepository",
            std::string(R"({"repositoryName":"team-a/web","imageTagMutability":"IMMUTABLE",)") +
                R"("imageScanningConfiguration":{"scanOnPush":true},)" +
                R"("encryptionConfiguration":{"encryptionType":"KMS","kmsKey":")" + kKmsKey + R"("},)" +
                R"("tags":[{"Key":"ecr-sweeper:enabled","Value":"true"},{"Key":"team","Value":"a"}]})");
    Json::Value lp(Json::objectValue);
    lp["repositoryName"] = "team-a/web";
    lp["lifecyclePolicyText"] = kLifecycle;
    call_ok(aws, "PutLifecyclePolicy", to_compact_json(lp));
    Json::Value sp(Json::objectValue);
    sp["repositoryName"] = "team-a/web";
    sp["policyText"] = kRepoPolicy;
    call_ok(aws, "SetRepositoryPolicy", to_compact_json(sp));
    aws.ecr().put_image("team-a/web", "v1");
    Json::Value t(Json::objectValue);
    t["prefix"] = "team-b";
    t["description"] = "ecr-sweeper create-on-push settings";
    t["appliedFor"].append("CREATE_ON_PUSH");
    t["imageTagMutability"] = "IMMUTABLE";
    t["encryptionConfiguration"]["encryptionType"] = "KMS";
    t["encryptionConfiguration"]["kmsKey"] = kKmsKey;
    Json::Value tag(Json::objectValue);
    tag["Key"] = "ecr-sweeper:enabled";
    tag["Value"] = "true";
    t["resourceTags"].append(tag);
    t["lifecyclePolicy"] = kLifecycle;
    t["repositoryPolicy"] = kRepoPolicy;
    t["customRoleArn"] = "arn:aws:iam::123456789012:role/ecr-template";
    call_ok(aws, "CreateRepositoryCreationTemplate", to_compact_json(t));
    call_ok(aws, "CreateRepositoryCreationTemplate", R"({"prefix":"ROOT","appliedFor":["PULL_THROUGH_CACHE"]})");
  }

  std::filesystem::path path_;
  Options options_;
};

TEST_F(StateFile, RoundTripsRepositorySettingsPoliciesAndCreationTemplates) {
  Json::Value saved;
  Json::Value templates_before;
  {
    LocalAws first(options_);
    first.start();
    seed(first);
    saved = first.ecr().to_json();
    templates_before = call_ok(first, "DescribeRepositoryCreationTemplates", "{}");
    first.stop();
  }
  ASSERT_TRUE(std::filesystem::exists(path_));
  LocalAws second(options_);
  // The loaded state saves to the same document: nothing was dropped or altered on the way.
  EXPECT_EQ(to_compact_json(second.ecr().to_json()), to_compact_json(saved));

  auto repo = second.ecr().repository("team-a/web");
  ASSERT_TRUE(repo.has_value());
  EXPECT_EQ(repo->tag_mutability, "IMMUTABLE");
  EXPECT_TRUE(repo->scan_on_push);
  EXPECT_EQ(repo->encryption_type, "KMS");
  EXPECT_EQ(repo->kms_key, kKmsKey);
  EXPECT_EQ(repo->tags, (std::map<std::string, std::string>{{"ecr-sweeper:enabled", "true"}, {"team", "a"}}));
  EXPECT_EQ(repo->lifecycle_policy.value_or(""), kLifecycle);
  EXPECT_EQ(repo->repository_policy.value_or(""), kRepoPolicy);
  EXPECT_EQ(second.ecr().image_count("team-a/web"), 1u);

  // And the API reads them back as before the restart.
  EXPECT_EQ(call_ok(second, "GetRepositoryPolicy", R"({"repositoryName":"team-a/web"})")["policyText"].asString(),
            kRepoPolicy);
  EXPECT_EQ(call_ok(second, "GetLifecyclePolicy", R"({"repositoryName":"team-a/web"})")["lifecyclePolicyText"]
                .asString(),
            kLifecycle);
  const Json::Value described = call_ok(second, "DescribeRepositories", R"({"repositoryNames":["team-a/web"]})");
  EXPECT_EQ(described["repositories"][0]["encryptionConfiguration"]["kmsKey"].asString(), kKmsKey);
  EXPECT_TRUE(described["repositories"][0]["imageScanningConfiguration"]["scanOnPush"].asBool());
  const Json::Value templates_after = call_ok(second, "DescribeRepositoryCreationTemplates", "{}");
  EXPECT_EQ(to_compact_json(templates_after), to_compact_json(templates_before));
  EXPECT_EQ(second.ecr().creation_template_prefixes(), (std::vector<std::string>{"ROOT", "team-b"}));
  auto t = second.ecr().creation_template("team-b");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->fields["customRoleArn"].asString(), "arn:aws:iam::123456789012:role/ecr-template");
  EXPECT_EQ(t->fields["repositoryPolicy"].asString(), kRepoPolicy);
}

TEST_F(StateFile, ALoadedCreateOnPushTemplateStillCreatesRepositoriesOnPush) {
  {
    LocalAws first(options_);
    first.start();
    seed(first);
    first.stop();
  }
  LocalAws second(options_);
  second.start();
  // PutImage stands in for a push to a missing repository under the template's prefix.
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]})";
  Json::Value put(Json::objectValue);
  put["repositoryName"] = "team-b/api";
  put["imageManifest"] = manifest;
  put["imageTag"] = "1.0";
  call_ok(second, "PutImage", to_compact_json(put));
  auto repo = second.ecr().repository("team-b/api");
  ASSERT_TRUE(repo.has_value());
  EXPECT_EQ(repo->tag_mutability, "IMMUTABLE");
  EXPECT_EQ(repo->kms_key, kKmsKey);
  EXPECT_EQ(repo->tags.at("ecr-sweeper:enabled"), "true");
  EXPECT_EQ(repo->lifecycle_policy.value_or(""), kLifecycle);
  EXPECT_EQ(repo->repository_policy.value_or(""), kRepoPolicy);
  second.stop();
}

TEST(EcrStateJson, LoadsAFileWrittenBeforePoliciesAndTemplatesWereSaved) {
  EcrState state("123456789012", "us-east-1");
  const auto loaded = state.load_json(parse(
      R"({"account_id":"123456789012","region":"us-east-1","repositories":[{"name":"old","created_at":1700000000,)"
      R"("tag_mutability":"MUTABLE","scan_on_push":false,"encryption_type":"AES256","kms_key":"","tags":{},"images":[]}]})"));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().describe();
  auto repo = state.repository("old");
  ASSERT_TRUE(repo.has_value());
  EXPECT_FALSE(repo->repository_policy.has_value());
  EXPECT_TRUE(state.creation_template_prefixes().empty());
}

TEST(EcrStateJson, RejectsATemplateWithoutAPrefixAndKeepsTheCurrentState) {
  EcrState state("123456789012", "us-east-1");
  ASSERT_TRUE(state.create_repository("kept"));
  for (const char* bad : {R"({"repositories":[],"repository_creation_templates":[{"fields":{"appliedFor":["CREATE_ON_PUSH"]}}]})",
                          R"({"repositories":[],"repository_creation_templates":["team-a"]})",
                          R"({"repositories":[],"repository_creation_templates":{"prefix":"team-a"}})"}) {
    const auto loaded = state.load_json(parse(bad));
    ASSERT_FALSE(loaded.has_value()) << bad;
    EXPECT_EQ(loaded.error().code, "InvalidState");
  }
  EXPECT_TRUE(state.has_repository("kept"));
}

TEST(EcrStateJson, ARepositoryPolicyGoesWithItsRepository) {
  LocalAws aws{Options{}};
  call_ok(aws, "CreateRepository", R"({"repositoryName":"web"})");
  Json::Value sp(Json::objectValue);
  sp["repositoryName"] = "web";
  sp["policyText"] = kRepoPolicy;
  call_ok(aws, "SetRepositoryPolicy", to_compact_json(sp));
  call_ok(aws, "DeleteRepository", R"({"repositoryName":"web"})");
  call_ok(aws, "CreateRepository", R"({"repositoryName":"web"})");
  EXPECT_EQ(aws.ecr_service().call("GetRepositoryPolicy", parse(R"({"repositoryName":"web"})")).error_code,
            "RepositoryPolicyNotFoundException");
  EXPECT_FALSE(aws.ecr().to_json()["repositories"][0].isMember("repository_policy"));
}

}  // namespace
}  // namespace ecrs::localaws
