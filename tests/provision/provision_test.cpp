// Create-on-push (issue 10): pure rows for globs, booleans, settings and CloudTrail events; then the event mode and
// the `repo` verb against localaws in-process (real CurlTransport, SigV4, awsJson); boto3 checks what the CLI wrote.
#include <gtest/gtest.h>
#include "../support/run_command.hpp"
#include <CLI/CLI.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ecrs/common/json.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/provision_mode.hpp"
#include "ecrs/localaws/localaws.hpp"

namespace ecrs::handler {
namespace {

using Vars = std::map<std::string, std::string>;
const std::string kDir = PROVISION_TEST_DIR;
constexpr const char* kKmsKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
constexpr const char* kLifecycle =
    R"({"rules":[{"rulePriority":1,"description":"expire untagged after 7 days","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]})";
constexpr const char* kRepoPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:BatchGetImage"]}]})";

Json::Value sample(const std::string& name) {
  std::ifstream in(kDir + "/events.json");
  std::stringstream text;
  text << in.rdbuf();
  auto doc = parse_json(text.str(), "events.json");
  EXPECT_TRUE(doc.has_value());
  EXPECT_TRUE(doc->isMember(name)) << name;
  return (*doc)[name];
}

using Run = ecrs::test_support::CommandRun;
const auto& run = ecrs::test_support::run_command;

// ---- pure ----------------------------------------------------------------------------------------------------

TEST(Glob, MatchesStarWithinASegmentAndDoubleStarAcross) {
  struct Row {
    const char* pattern;
    const char* name;
    bool match;
  };
  const Row rows[] = {
      {"team-*", "team-a", true},          {"team-*", "team-a/web", false}, {"team-*/**", "team-a/web", true},
      {"team-*/**", "team-a/web/api", true}, {"team-*/**", "team-a", false}, {"team-*/*", "team-a/web/api", false},
      {"**", "a/b/c", true},                {"*", "a/b", false},             {"*", "", true},
      {"web", "web", true},                 {"web", "web2", false},          {"**/cache", "x/y/cache", true},
      {"**/cache", "cache", false},         {"a*b*c", "aXbYc", true},        {"a*b*c", "aXb/c", false},
      {"prod/**", "prod/", true},           {"", "", true},                  {"", "x", false},
  };
  for (const auto& r : rows) EXPECT_EQ(glob_match(r.pattern, r.name), r.match) << r.pattern << " vs " << r.name;
}

TEST(Settings, ParsesBooleansProperlyUnlikePythonsBoolOfAString) {
  EXPECT_EQ(parse_bool("false"), false);
  EXPECT_EQ(parse_bool("False"), false);
  EXPECT_EQ(parse_bool("0"), false);
  EXPECT_EQ(parse_bool(" no "), false);
  EXPECT_EQ(parse_bool("TRUE"), true);
  EXPECT_EQ(parse_bool("on"), true);
  EXPECT_EQ(parse_bool("maybe"), std::nullopt);
  EXPECT_EQ(parse_bool(""), std::nullopt);
  MapEnvironment env(Vars{{"REPO_SCAN_ON_PUSH", "false"}});
  auto s = load_settings(env);
  ASSERT_TRUE(s.has_value()) << s.error().describe();
  EXPECT_FALSE(s->scan_on_push);
  MapEnvironment bad(Vars{{"REPO_SCAN_ON_PUSH", "nope"}});
  auto b = load_settings(bad);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, kConfigError);
}

TEST(Settings, DefaultsAreImmutableScannedAes256AndEnrolledInCleanup) {
  MapEnvironment env;
  auto s = load_settings(env);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->image_tag_mutability, "IMMUTABLE");
  EXPECT_TRUE(s->scan_on_push);
  EXPECT_FALSE(s->kms_key.has_value());
  EXPECT_EQ(s->tags.at("ecr-sweeper:enabled"), "true");
  const auto req = s->create_request("web");
  EXPECT_EQ(req.encryption_configuration->encryption_type, "AES256");
  EXPECT_TRUE(s->allows("anything/at/all"));
}

TEST(Settings, RejectsAnInvalidLifecyclePolicyBadTagsAndAKeyThatIsNotAnArn) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"REPO_LIFECYCLE_POLICY", R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan"},"action":{"type":"expire"}}]})"},
           {"REPO_LIFECYCLE_POLICY", "{not json"},
           {"REPO_TAGS", R"(["a","b"])"},
           {"REPO_TAGS", R"({"a":1})"},
           {"REPO_KMS_KEY", "alias/my-key"},
           {"REPO_TAG_MUTABILITY", "immutable-ish"},
           {"REPO_POLICY", R"({"Version":"2012-10-17"})"}}) {
    MapEnvironment env(Vars{{key, value}});
    auto s = load_settings(env);
    ASSERT_FALSE(s.has_value()) << key << "=" << value;
    EXPECT_EQ(s.error().code, kConfigError);
    EXPECT_NE(s.error().message.find(key), std::string::npos) << s.error().message;
  }
}

TEST(Settings, ReadsTheConfigFileAndLetsTheEnvironmentOverrideIt) {
  const std::string path = ::testing::TempDir() + "/provision_config.json";
  {
    std::ofstream f(path);
    f << R"({"REPO_TAG_MUTABILITY":"MUTABLE","REPO_SCAN_ON_PUSH":false,"REPO_TAGS":{"team":"a"},)"
      << R"("REPO_ALLOW":["team-*/**"],"REPO_DENY":"team-*/tmp-*","REPO_LIFECYCLE_POLICY":)" << kLifecycle << "}";
  }
  MapEnvironment env(Vars{{"REPO_CONFIG_FILE", path}, {"REPO_SCAN_ON_PUSH", "true"}});
  auto s = load_settings(env);
  ASSERT_TRUE(s.has_value()) << s.error().describe();
  EXPECT_EQ(s->image_tag_mutability, "MUTABLE");
  EXPECT_TRUE(s->scan_on_push);  // the environment wins
  EXPECT_EQ(s->tags.at("team"), "a");
  EXPECT_EQ(s->tags.at("ecr-sweeper:enabled"), "true");
  ASSERT_TRUE(s->lifecycle_policy.has_value());
  EXPECT_TRUE(s->allows("team-a/web"));
  EXPECT_FALSE(s->allows("team-a/tmp-1"));
  EXPECT_FALSE(s->allows("other/web"));
  MapEnvironment missing(Vars{{"REPO_CONFIG_FILE", path + ".absent"}});
  EXPECT_FALSE(load_settings(missing).has_value());
}

TEST(Events, CreatesOnlyForAPushThatFoundNoRepository) {
  const auto create = decide_event(sample("push_to_missing"));
  EXPECT_EQ(create.kind, EventKind::create);
  EXPECT_EQ(create.push.repository_name, "team-a/web");
  EXPECT_EQ(create.push.account, "123456789012");
  EXPECT_EQ(create.push.region, "us-east-1");
  EXPECT_EQ(create.push.pusher, "arn:aws:sts::123456789012:assumed-role/ci-push/ci-runner");
  for (const char* ignored : {"successful_push", "describe_missing", "access_denied"}) {
    EXPECT_TRUE(is_ecr_cloudtrail_event(sample(ignored))) << ignored;
    EXPECT_EQ(decide_event(sample(ignored)).kind, EventKind::ignore) << ignored;
  }
  for (const char* push : {"batch_check_missing", "put_image_missing"}) {
    EXPECT_EQ(decide_event(sample(push)).kind, EventKind::create) << push;
  }
  // Another service's CloudTrail record (a wider rule): the mode takes it, to answer it as ignored.
  EXPECT_TRUE(is_cloudtrail_event(sample("other_service")));
  EXPECT_FALSE(is_ecr_cloudtrail_event(sample("other_service")));
  EXPECT_EQ(decide_event(sample("other_service")).kind, EventKind::ignore);
  Json::Value other_registry = sample("push_to_missing");
  other_registry["detail"]["requestParameters"]["registryId"] = "210987654321";
  EXPECT_EQ(decide_event(other_registry).kind, EventKind::ignore);
  Json::Value no_name = sample("push_to_missing");
  no_name["detail"]["requestParameters"].removeMember("repositoryName");
  EXPECT_EQ(decide_event(no_name).kind, EventKind::malformed);
  Json::Value no_detail = sample("push_to_missing");
  no_detail["detail"] = "oops";
  EXPECT_EQ(decide_event(no_detail).kind, EventKind::malformed);
  Json::Value schedule(Json::objectValue);
  schedule["source"] = "aws.events";
  schedule["detail-type"] = "Scheduled Event";
  EXPECT_FALSE(is_ecr_cloudtrail_event(schedule));
  EXPECT_FALSE(is_cloudtrail_event(schedule));
}

// ---- against localaws ------------------------------------------------------------------------------------------

struct World {
  localaws::LocalAws aws{localaws::Options{}};
  MapEnvironment env;
  SystemClock clock;
  RealSleeper sleeper;
  FixedRandom random{0.5};
  CaptureSink sink;
  Logger logger{sink, clock};
  std::unique_ptr<AwsSession> session;

  explicit World(std::map<std::string, std::string> settings = {}) {
    aws.start();
    env = MapEnvironment(Vars{{"AWS_ENDPOINT_URL", aws.endpoint()}, {"AWS_ACCESS_KEY_ID", "test"},
                          {"AWS_SECRET_ACCESS_KEY", "test"}, {"AWS_REGION", "us-east-1"},
                          {"AWS_CONFIG_FILE", "/dev/null"}, {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                          {"AWS_EC2_METADATA_DISABLED", "true"}, {"AWS_MAX_ATTEMPTS", "2"}});
    for (const auto& [k, v] : settings) env.set(k, v);
    session = std::make_unique<AwsSession>(env, clock, sleeper, random, logger);
  }
  std::string log_text() const {
    std::string all;
    for (const auto& l : sink.lines()) all += l + "\n";
    return all;
  }
};

std::map<std::string, std::string> governed() {
  return {{"REPO_KMS_KEY", kKmsKey},
          {"REPO_TAGS", R"({"team":"a","cost-center":"42"})"},
          {"REPO_LIFECYCLE_POLICY", kLifecycle},
          {"REPO_POLICY", kRepoPolicy},
          {"REPO_ALLOW", "team-*/**"},
          {"REPO_DENY", "team-*/scratch-*"}};
}

Json::Value answer_of(const Result<std::string>& r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().describe());
  if (!r) return {};
  auto v = parse_json(*r);
  EXPECT_TRUE(v.has_value());
  return v ? *v : Json::Value();
}

TEST(ProvisionMode, CreatesTheRepositoryWithEverySettingFromACloudTrailEvent) {
  World w(governed());
  auto mode = make_provision_event_mode(*w.session);
  const Json::Value event = sample("push_to_missing");
  ASSERT_TRUE(mode->accepts(event));
  const Json::Value a = answer_of(mode->handle(event, InvocationInfo{"req-1", {}, ""}));
  EXPECT_EQ(a["status"].asString(), "created") << to_compact_json(a);
  auto repo = w.aws.ecr().repository("team-a/web");
  ASSERT_TRUE(repo.has_value());
  EXPECT_EQ(repo->tag_mutability, "IMMUTABLE");
  EXPECT_TRUE(repo->scan_on_push);
  EXPECT_EQ(repo->encryption_type, "KMS");
  EXPECT_EQ(repo->kms_key, kKmsKey);
  EXPECT_EQ(repo->tags.at("ecr-sweeper:enabled"), "true");
  EXPECT_EQ(repo->tags.at("team"), "a");
  EXPECT_EQ(repo->tags.at("cost-center"), "42");
  ASSERT_TRUE(repo->lifecycle_policy.has_value());
  EXPECT_EQ(*repo->lifecycle_policy, kLifecycle);
  Json::Value in;
  in["repositoryName"] = "team-a/web";
  const auto policy = w.aws.ecr_service().call("GetRepositoryPolicy", in);
  EXPECT_EQ(policy.error_code, "");
  EXPECT_EQ(policy.body["policyText"].asString(), kRepoPolicy);
  EXPECT_NE(w.log_text().find("ci-runner"), std::string::npos);

  // A duplicate delivery (EventBridge is at-least-once) finds the repository and answers success.
  const Json::Value again = answer_of(mode->handle(event, InvocationInfo{"req-2", {}, ""}));
  EXPECT_EQ(again["status"].asString(), "exists");
}

TEST(ProvisionMode, LogsADeniedNameWithThePusherAndDoesNotCreateIt) {
  World w(governed());
  auto mode = make_provision_event_mode(*w.session);
  for (const char* name : {"other/web", "team-a/scratch-1"}) {
    Json::Value event = sample("push_to_missing");
    event["detail"]["requestParameters"]["repositoryName"] = name;
    const Json::Value a = answer_of(mode->handle(event, InvocationInfo{"req", {}, ""}));
    EXPECT_EQ(a["status"].asString(), "denied") << name;
    EXPECT_FALSE(w.aws.ecr().has_repository(name)) << name;
  }
  const std::string logs = w.log_text();
  EXPECT_NE(logs.find("arn:aws:sts::123456789012:assumed-role/ci-push/ci-runner"), std::string::npos) << logs;
  EXPECT_NE(logs.find("203.0.113.24"), std::string::npos) << logs;
  EXPECT_NE(logs.find("\"level\":\"warn\""), std::string::npos) << logs;
}

TEST(ProvisionMode, TwoRacingEventsCreateOneRepositoryAndBothSucceed) {
  World w(governed());
  auto first = make_provision_event_mode(*w.session);
  auto second = make_provision_event_mode(*w.session);
  const Json::Value event = sample("push_to_missing");
  Result<std::string> a = std::string();
  Result<std::string> b = std::string();
  std::thread t1([&] { a = first->handle(event, InvocationInfo{"a", {}, ""}); });
  std::thread t2([&] { b = second->handle(event, InvocationInfo{"b", {}, ""}); });
  t1.join();
  t2.join();
  const std::string sa = answer_of(a)["status"].asString();
  const std::string sb = answer_of(b)["status"].asString();
  EXPECT_TRUE((sa == "created" && sb == "exists") || (sa == "exists" && sb == "created")) << sa << " " << sb;
  EXPECT_EQ(w.aws.ecr().repositories().size(), 1u);
}

TEST(ProvisionMode, LeavesSomeoneElsesExistingRepositoryUntouched) {
  World w(governed());
  ASSERT_TRUE(w.aws.ecr().create_repository("team-a/web"));
  auto mode = make_provision_event_mode(*w.session);
  const Json::Value a = answer_of(mode->handle(sample("push_to_missing"), InvocationInfo{"r", {}, ""}));
  EXPECT_EQ(a["status"].asString(), "exists");
  auto repo = w.aws.ecr().repository("team-a/web");
  ASSERT_TRUE(repo.has_value());
  EXPECT_TRUE(repo->tags.empty());
  EXPECT_FALSE(repo->lifecycle_policy.has_value());
  EXPECT_EQ(repo->tag_mutability, "MUTABLE");
  Json::Value in;
  in["repositoryName"] = "team-a/web";
  EXPECT_EQ(w.aws.ecr_service().call("GetRepositoryPolicy", in).error_code, "RepositoryPolicyNotFoundException");
}

TEST(ProvisionMode, AnswersIgnoredAndMalformedEventsAsSuccessAndLogsTheMalformedOne) {
  World w(governed());
  auto mode = make_provision_event_mode(*w.session);
  for (const char* name : {"successful_push", "describe_missing", "access_denied", "other_service"}) {
    EXPECT_EQ(answer_of(mode->handle(sample(name), InvocationInfo{"r", {}, ""}))["status"].asString(), "ignored");
  }
  Json::Value broken = sample("push_to_missing");
  broken["detail"] = Json::Value(Json::arrayValue);
  ASSERT_TRUE(mode->accepts(broken));
  const Json::Value a = answer_of(mode->handle(broken, InvocationInfo{"r", {}, ""}));
  EXPECT_EQ(a["status"].asString(), "malformed");
  EXPECT_NE(w.log_text().find("\"level\":\"error\""), std::string::npos);
  EXPECT_TRUE(w.aws.ecr().repositories().empty());
  // The mode still works after it.
  EXPECT_EQ(answer_of(mode->handle(sample("push_to_missing"), InvocationInfo{"r", {}, ""}))["status"].asString(),
            "created");
}

TEST(ProvisionMode, AnInvalidLifecyclePolicySettingCreatesNothing) {
  auto settings = governed();
  settings["REPO_LIFECYCLE_POLICY"] = R"({"rules":[]})";
  World w(settings);
  auto mode = make_provision_event_mode(*w.session);
  const Json::Value a = answer_of(mode->handle(sample("push_to_missing"), InvocationInfo{"r", {}, ""}));
  EXPECT_EQ(a["status"].asString(), "misconfigured");
  EXPECT_TRUE(w.aws.ecr().repositories().empty());
}

int run_verb(World& w, std::vector<std::string> args, std::string& out, std::string& err) {
  auto verb = make_repo_verb();
  CLI::App app{"ecr-sweeper"};
  CLI::App* sub = verb->add_to(app);
  std::vector<const char*> argv{"ecr-sweeper"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    err = e.what();
    return 2;
  }
  EXPECT_TRUE(sub->parsed());
  std::ostringstream o;
  std::ostringstream e;
  CliContext io{o, e};
  const int code = verb->run(*w.session, io);
  out = o.str();
  err = e.str();
  return code;
}

TEST(RepoVerb, EnsureCreatesOnceThenReportsExists) {
  World w(governed());
  std::string out;
  std::string err;
  EXPECT_EQ(run_verb(w, {"repo", "ensure", "team-b/api", "--region", "us-east-1"}, out, err), 0) << err;
  EXPECT_EQ(out, "created team-b/api\n");
  EXPECT_EQ(w.aws.ecr().repository("team-b/api")->encryption_type, "KMS");
  EXPECT_EQ(run_verb(w, {"repo", "ensure", "team-b/api"}, out, err), 0) << err;
  EXPECT_EQ(out, "exists team-b/api\n");
  // Refused by REPO_ALLOW/REPO_DENY: invalid input, exit 2, like a malformed name.
  EXPECT_EQ(run_verb(w, {"repo", "ensure", "elsewhere"}, out, err), 2);
  EXPECT_NE(err.find("denied by REPO_ALLOW/REPO_DENY"), std::string::npos) << err;
  EXPECT_FALSE(w.aws.ecr().has_repository("elsewhere"));
}

TEST(RepoVerb, TemplateApplyWritesACreateOnPushTemplateThatBoto3Reads) {
  const auto probe = run("python3 -c 'import boto3'");
  ASSERT_EQ(probe.status, 0) << "python3 with boto3 is required (pyenv python3 in PATH): " << probe.output;
  auto settings = governed();
  settings["REPO_TAGS"] = R"({"team":"a"})";
  World w(settings);
  std::string out;
  std::string err;
  const std::vector<std::string> apply{"repo", "template", "apply", "--prefix", "team-a",
                                       "--role-arn", "arn:aws:iam::123456789012:role/ecr-template"};
  ASSERT_EQ(run_verb(w, apply, out, err), 0) << err;
  EXPECT_EQ(out, "created repository creation template team-a (CREATE_ON_PUSH)\n");
  ASSERT_EQ(run_verb(w, apply, out, err), 0) << err;
  EXPECT_EQ(out, "updated repository creation template team-a (CREATE_ON_PUSH)\n");
  const std::string env = "env -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL=" +
                          w.aws.endpoint() +
                          " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1"
                          " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1 ";
  const auto r = run(env + "python3 " + kDir + "/boto3_templates.py check-template team-a");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(Boto3Peer, AgreesWithLocalawsOnEveryCreateOnPushOperation) {
  const auto probe = run("python3 -c 'import boto3'");
  ASSERT_EQ(probe.status, 0) << "python3 with boto3 is required (pyenv python3 in PATH): " << probe.output;
  localaws::LocalAws aws{localaws::Options{}};
  aws.start();
  const std::string env = "env -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL=" +
                          aws.endpoint() +
                          " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1"
                          " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1 ";
  const auto r = run(env + "python3 " + kDir + "/boto3_templates.py ops");
  EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
}  // namespace ecrs::handler
