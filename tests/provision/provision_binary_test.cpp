// Create-on-push end to end (issue 10): the real `bootstrap` as a child process with a clean environment, polling
// LocalAws's Lambda Runtime API, configured only by REPO_* variables (or REPO_CONFIG_FILE), receiving EventBridge
// deliveries of CloudTrail records from events.json, and creating repositories over SigV4-signed ECR calls. The
// outcome is read back from LocalAws's state; stdout is checked to be JSON lines with no secret in it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "ecrs/common/json.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "support/lambda_env.hpp"
#include "support/process.hpp"

namespace ecrs::handler {
namespace {

using namespace std::chrono_literals;
using test_support::ChildProcess;
using Vars = std::map<std::string, std::string>;

const std::string kDir = PROVISION_TEST_DIR;
// Generous for a sanitizer build on two shared cores; a healthy run answers in milliseconds.
constexpr auto kAnswerWithin = 20s;
// Distinctive credentials, so "no secret on stdout" is a search that can fail (the default "test" cannot).
constexpr const char* kAccessKeyId = "AKIAPROVBINTEST00001";
constexpr const char* kSecretKey = "provbinSecretKey/wJalrXUtnFEMI/K7MDENG/bPxRfiCY";
constexpr const char* kSessionToken = "provbinSessionToken//IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH";

constexpr const char* kKmsKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
constexpr const char* kLifecycle =
    R"({"rules":[{"rulePriority":1,"description":"expire untagged after 7 days","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]})";
constexpr const char* kRepoPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]})";
constexpr const char* kPusherArn = "arn:aws:sts::123456789012:assumed-role/ci-push/ci-runner";

Json::Value samples() {
  std::ifstream in(kDir + "/events.json");
  std::stringstream text;
  text << in.rdbuf();
  auto doc = parse_json(text.str(), "events.json");
  EXPECT_TRUE(doc.has_value()) << "events.json does not parse";
  return doc ? *doc : Json::Value();
}

Json::Value sample(const std::string& name) {
  Json::Value all = samples();
  EXPECT_TRUE(all.isMember(name)) << name;
  return all[name];
}

Vars governed() {
  return {{"REPO_TAG_MUTABILITY", "IMMUTABLE"},
          {"REPO_SCAN_ON_PUSH", "true"},
          {"REPO_KMS_KEY", kKmsKey},
          {"REPO_TAGS", R"({"team":"a","cost-center":"42"})"},
          {"REPO_LIFECYCLE_POLICY", kLifecycle},
          {"REPO_POLICY", kRepoPolicy},
          {"REPO_ALLOW", "team-*/**"},
          {"REPO_DENY", "team-*/scratch-*"}};
}

localaws::Options server_options() {
  localaws::Options o;
  o.access_key_id = kAccessKeyId;
  o.secret_access_key = Secret(kSecretKey);
  o.session_token = Secret(kSessionToken);
  return o;
}

// One LocalAws and the bootstraps polling it. Members are destroyed in reverse order: the children first.
struct Lambda {
  localaws::LocalAws aws{server_options()};
  Vars env;
  std::vector<std::unique_ptr<ChildProcess>> children;

  explicit Lambda(const Vars& settings) {
    aws.start();
    test_support::LambdaEnvSpec spec{aws.runtime_api(), aws.endpoint()};
    spec.access_key_id = kAccessKeyId;
    spec.secret_access_key = kSecretKey;
    env = test_support::lambda_env(spec);
    env["AWS_SESSION_TOKEN"] = kSessionToken;
    for (const auto& [k, v] : settings) env[k] = v;
  }
  ChildProcess& start_bootstrap() {
    children.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{test_support::bootstrap_path()}, env));
    return *children.back();
  }
  std::string invoke(const Json::Value& event) { return aws.runtime().invoke(to_compact_json(event)); }
  std::string invoke_raw(std::string body) { return aws.runtime().invoke(std::move(body)); }
  localaws::InvocationOutcome outcome(const std::string& id) {
    auto o = aws.runtime().wait_outcome(id, kAnswerWithin);
    EXPECT_TRUE(o.has_value()) << "no answer for " << id << "\n" << logs();
    return o.value_or(localaws::InvocationOutcome{id, "none", "", ""});
  }
  // The function's answer to a successful invocation, as JSON.
  Json::Value answer(const std::string& id) {
    const auto o = outcome(id);
    EXPECT_EQ(o.kind, "response") << o.error_type << " " << o.body << "\n" << logs();
    auto v = parse_json(o.body);
    EXPECT_TRUE(v.has_value()) << o.body;
    return v ? *v : Json::Value();
  }
  std::string logs() const {
    std::string all;
    for (const auto& c : children) all += c->out();
    return all;
  }
  std::string stderr_text() const {
    std::string all;
    for (const auto& c : children) all += c->err();
    return all;
  }
};

std::vector<Json::Value> log_lines(const std::string& out) {
  std::vector<Json::Value> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto v = parse_json(line);
    EXPECT_TRUE(v.has_value() && v->isObject()) << "stdout line is not a JSON object: " << line;
    if (v) lines.push_back(*v);
  }
  return lines;
}

// stdout is the log: one JSON object per line with ts/level/msg, and no credential or signature anywhere.
void expect_clean_log(const Lambda& l) {
  const std::string out = l.logs();
  const auto lines = log_lines(out);
  EXPECT_FALSE(lines.empty());
  for (const auto& line : lines) {
    EXPECT_TRUE(line.isMember("ts") && line.isMember("level") && line.isMember("msg")) << to_compact_json(line);
  }
  for (const char* secret : {kSecretKey, kSessionToken, "Signature=", "Credential=", "Authorization"}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " reached stdout";
    EXPECT_EQ(l.stderr_text().find(secret), std::string::npos) << secret << " reached stderr";
  }
}

bool has_line(const std::string& out, const std::string& level, const std::string& needle) {
  for (const auto& line : log_lines(out)) {
    if (line["level"].asString() == level && to_compact_json(line).find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(ProvisionSamples, EveryEventFollowsTheDocumentedEventBridgeAndCloudTrailShape) {
  const Json::Value all = samples();
  ASSERT_TRUE(all.isObject());
  const char* envelope[] = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"};
  const char* record[] = {"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                          "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID",
                          "eventID", "readOnly", "eventType", "recipientAccountId"};
  std::size_t events = 0;
  for (const auto& name : all.getMemberNames()) {
    if (name.rfind('_', 0) == 0) continue;  // _comment
    ++events;
    const Json::Value& e = all[name];
    for (const char* k : envelope) EXPECT_TRUE(e.isMember(k)) << name << " lacks " << k;
    EXPECT_EQ(e["detail-type"].asString(), "AWS API Call via CloudTrail") << name;
    EXPECT_TRUE(e["resources"].isArray()) << name;
    const Json::Value& d = e["detail"];
    for (const char* k : record) EXPECT_TRUE(d.isMember(k)) << name << ".detail lacks " << k;
    EXPECT_EQ(d["eventType"].asString(), "AwsApiCall") << name;
    EXPECT_TRUE(d["readOnly"].isBool()) << name;
    EXPECT_EQ(d["recipientAccountId"].asString(), e["account"].asString()) << name;
    EXPECT_EQ(d["awsRegion"].asString(), e["region"].asString()) << name;
    // A failed call names its error and has no response; a successful one has no errorCode.
    if (d.isMember("errorCode")) {
      EXPECT_TRUE(d["errorMessage"].isString()) << name;
      EXPECT_TRUE(d["responseElements"].isNull()) << name;
    }
    if (e["source"].asString() == "aws.ecr") {
      EXPECT_EQ(d["eventSource"].asString(), "ecr.amazonaws.com") << name;
    }
  }
  EXPECT_EQ(events, 7u) << "events.json changed: update this count and the cases below";
  for (const char* push : {"push_to_missing", "batch_check_missing", "put_image_missing"}) {
    EXPECT_EQ(all[push]["detail"]["errorCode"].asString(), "RepositoryNotFoundException") << push;
    EXPECT_EQ(all[push]["detail"]["requestParameters"]["repositoryName"].asString(), "team-a/web") << push;
  }
}

TEST(ProvisionBinary, CreatesTheRepositoryWithEverySettingFromEachPushCall) {
  Lambda l(governed());
  ChildProcess& child = l.start_bootstrap();
  // A docker push's first call to a missing repository may be any of these; each names the repository.
  const std::vector<std::pair<const char*, const char*>> pushes = {
      {"batch_check_missing", "team-a/web"}, {"push_to_missing", "team-a/api"}, {"put_image_missing", "team-b/db"}};
  for (const auto& [sample_name, repository] : pushes) {
    Json::Value event = sample(sample_name);
    event["detail"]["requestParameters"]["repositoryName"] = repository;
    const Json::Value a = l.answer(l.invoke(event));
    EXPECT_EQ(a["status"].asString(), "created") << sample_name << " " << to_compact_json(a);
    EXPECT_EQ(a["repositoryName"].asString(), repository);
    auto repo = l.aws.ecr().repository(repository);
    ASSERT_TRUE(repo.has_value()) << repository << "\n" << child.out();
    EXPECT_EQ(repo->tag_mutability, "IMMUTABLE");
    EXPECT_TRUE(repo->scan_on_push);
    EXPECT_EQ(repo->encryption_type, "KMS");
    EXPECT_EQ(repo->kms_key, kKmsKey);
    EXPECT_EQ(repo->tags, (std::map<std::string, std::string>{
                              {"ecr-sweeper:enabled", "true"}, {"team", "a"}, {"cost-center", "42"}}));
    ASSERT_TRUE(repo->lifecycle_policy.has_value());
    EXPECT_EQ(*repo->lifecycle_policy, kLifecycle);
    ASSERT_TRUE(repo->repository_policy.has_value());
    EXPECT_EQ(*repo->repository_policy, kRepoPolicy);
  }
  EXPECT_EQ(l.aws.ecr().repositories().size(), pushes.size());
  EXPECT_TRUE(has_line(child.out(), "info", kPusherArn)) << child.out();
  expect_clean_log(l);
}

TEST(ProvisionBinary, ReadsTheSettingsFromAConfigFile) {
  const auto path =
      std::filesystem::path(::testing::TempDir()) / ("provision_config_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream f(path);
    f << R"({"REPO_TAG_MUTABILITY":"MUTABLE","REPO_SCAN_ON_PUSH":false,"REPO_TAGS":{"owner":"platform"},)"
      << R"("REPO_ALLOW":["team-*/**"]})";
  }
  Lambda l({{"REPO_CONFIG_FILE", path.string()}});
  l.start_bootstrap();
  EXPECT_EQ(l.answer(l.invoke(sample("push_to_missing")))["status"].asString(), "created") << l.logs();
  auto repo = l.aws.ecr().repository("team-a/web");
  ASSERT_TRUE(repo.has_value());
  EXPECT_EQ(repo->tag_mutability, "MUTABLE");
  EXPECT_FALSE(repo->scan_on_push);
  EXPECT_EQ(repo->encryption_type, "AES256");
  EXPECT_EQ(repo->tags, (std::map<std::string, std::string>{{"ecr-sweeper:enabled", "true"}, {"owner", "platform"}}));
  EXPECT_FALSE(repo->lifecycle_policy.has_value());
  EXPECT_FALSE(repo->repository_policy.has_value());
  std::filesystem::remove(path);
}

TEST(ProvisionBinary, LogsADeniedNameWithThePusherAndDoesNotCreateIt) {
  Lambda l(governed());
  ChildProcess& child = l.start_bootstrap();
  for (const char* name : {"other/web", "team-a/scratch-1"}) {
    Json::Value event = sample("push_to_missing");
    event["detail"]["requestParameters"]["repositoryName"] = name;
    event["detail"]["errorMessage"] =
        std::string("The repository with name '") + name + "' does not exist in the registry with id '123456789012'";
    const Json::Value a = l.answer(l.invoke(event));
    EXPECT_EQ(a["status"].asString(), "denied") << name;
    EXPECT_FALSE(l.aws.ecr().has_repository(name)) << name;
  }
  EXPECT_TRUE(l.aws.ecr().repositories().empty());
  const std::string out = child.out();
  bool pusher_named = false;
  for (const auto& line : log_lines(out)) {
    if (line["level"].asString() != "warn" || line["repository"].asString() != "team-a/scratch-1") continue;
    pusher_named = line["pusher"].asString() == kPusherArn && line["source_ip"].asString() == "203.0.113.24";
  }
  EXPECT_TRUE(pusher_named) << out;
  expect_clean_log(l);
}

TEST(ProvisionBinary, TwoRacingEventsCreateOneRepositoryAndBothAnswerSuccess) {
  Lambda l(governed());
  // Two execution environments, as Lambda scales out for concurrent events; CreateRepository answers slowly, so
  // both calls are in flight at once and the second meets RepositoryAlreadyExistsException.
  l.aws.set_latency("CreateRepository", 600ms);
  l.start_bootstrap();
  l.start_bootstrap();
  ASSERT_TRUE(l.aws.runtime().wait_polling(kAnswerWithin)) << l.stderr_text();
  const Json::Value event = sample("push_to_missing");
  const std::string first = l.invoke(event);
  const std::string second = l.invoke(event);
  EXPECT_TRUE(l.aws.runtime().outcomes().empty()) << "the first event answered before the second was sent";
  const std::string a = l.answer(first)["status"].asString();
  const std::string b = l.answer(second)["status"].asString();
  EXPECT_TRUE((a == "created" && b == "exists") || (a == "exists" && b == "created")) << a << " " << b;
  EXPECT_EQ(l.aws.ecr().repositories(), std::vector<std::string>{"team-a/web"});
  const Json::Value metrics = l.aws.metrics();
  EXPECT_EQ(metrics["operations"]["CreateRepository"]["calls"].asUInt(), 2u) << to_compact_json(metrics);
  EXPECT_GE(metrics["max_concurrency"].asUInt(), 2u) << "the two invocations did not overlap\n"
                                                     << to_compact_json(metrics);
  // The winner applied every setting; the loser changed nothing.
  auto repo = l.aws.ecr().repository("team-a/web");
  ASSERT_TRUE(repo.has_value());
  EXPECT_EQ(repo->tags.at("ecr-sweeper:enabled"), "true");
  EXPECT_TRUE(repo->lifecycle_policy.has_value());
  EXPECT_TRUE(repo->repository_policy.has_value());
  EXPECT_EQ(metrics["operations"]["PutLifecyclePolicy"]["calls"].asUInt(), 1u);
  EXPECT_EQ(metrics["operations"]["SetRepositoryPolicy"]["calls"].asUInt(), 1u);
  expect_clean_log(l);
}

TEST(ProvisionBinary, ADuplicateEventIsHarmlessAndLeavesTheRepositoryAsCreated) {
  Lambda l(governed());
  l.start_bootstrap();
  const Json::Value event = sample("push_to_missing");
  EXPECT_EQ(l.answer(l.invoke(event))["status"].asString(), "created");
  const auto before = l.aws.ecr().repository("team-a/web");
  ASSERT_TRUE(before.has_value());
  // EventBridge delivers at least once: the same record again (same eventID) finds the repository.
  EXPECT_EQ(l.answer(l.invoke(event))["status"].asString(), "exists");
  const auto after = l.aws.ecr().repository("team-a/web");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->created_at, before->created_at);
  EXPECT_EQ(after->tags, before->tags);
  EXPECT_EQ(after->lifecycle_policy, before->lifecycle_policy);
  EXPECT_EQ(after->repository_policy, before->repository_policy);
  const Json::Value metrics = l.aws.metrics();
  EXPECT_EQ(metrics["operations"]["PutLifecyclePolicy"]["calls"].asUInt(), 1u);
  EXPECT_EQ(metrics["operations"]["SetRepositoryPolicy"]["calls"].asUInt(), 1u);
  expect_clean_log(l);
}

TEST(ProvisionBinary, AnswersEventsItIgnoresAsSuccessSoLambdaDoesNotRetryThem) {
  Lambda l(governed());
  ChildProcess& child = l.start_bootstrap();
  // Another error code, a read that found nothing, a push that succeeded, and another service's record.
  for (const char* name : {"access_denied", "describe_missing", "successful_push", "other_service"}) {
    const Json::Value a = l.answer(l.invoke(sample(name)));
    EXPECT_EQ(a["status"].asString(), "ignored") << name << " " << to_compact_json(a);
  }
  EXPECT_TRUE(l.aws.ecr().repositories().empty());
  EXPECT_EQ(l.aws.metrics()["operations"]["CreateRepository"]["calls"].asUInt(), 0u);
  EXPECT_FALSE(has_line(child.out(), "error", "")) << child.out();
  expect_clean_log(l);
}

TEST(ProvisionBinary, LogsAMalformedEventAndServesTheNextOne) {
  Lambda l(governed());
  ChildProcess& child = l.start_bootstrap();
  // A CloudTrail envelope whose detail is not an object: answered (not retried) and logged as an error.
  Json::Value broken = sample("push_to_missing");
  broken["detail"] = Json::Value(Json::arrayValue);
  const Json::Value a = l.answer(l.invoke(broken));
  EXPECT_EQ(a["status"].asString(), "malformed") << to_compact_json(a);
  EXPECT_TRUE(has_line(child.out(), "error", "malformed")) << child.out();
  // A record without requestParameters.repositoryName.
  Json::Value nameless = sample("push_to_missing");
  nameless["detail"]["requestParameters"].removeMember("repositoryName");
  EXPECT_EQ(l.answer(l.invoke(nameless))["status"].asString(), "malformed");
  // A truncated delivery is not JSON at all: the runtime reports it through /error.
  const std::string truncated = to_compact_json(sample("push_to_missing"));
  const auto cut = l.outcome(l.invoke_raw(truncated.substr(0, truncated.size() / 2)));
  EXPECT_EQ(cut.kind, "error") << cut.body;
  EXPECT_NE(cut.body.find("InvalidEvent"), std::string::npos) << cut.body;
  EXPECT_TRUE(l.aws.ecr().repositories().empty());
  // The same process serves the next event.
  EXPECT_EQ(l.answer(l.invoke(sample("push_to_missing")))["status"].asString(), "created") << child.out();
  EXPECT_TRUE(l.aws.ecr().has_repository("team-a/web"));
  EXPECT_TRUE(l.aws.runtime().wait_idle(kAnswerWithin));
  EXPECT_EQ(l.aws.runtime().outcomes().size(), 4u);
  EXPECT_FALSE(l.aws.runtime().init_error().has_value());
  expect_clean_log(l);
}

TEST(ProvisionBinary, AnInvalidSettingCreatesNothingAndIsLoggedAsAnError) {
  Vars settings = governed();
  settings["REPO_LIFECYCLE_POLICY"] = R"({"rules":[]})";
  Lambda l(settings);
  ChildProcess& child = l.start_bootstrap();
  EXPECT_EQ(l.answer(l.invoke(sample("push_to_missing")))["status"].asString(), "misconfigured");
  EXPECT_TRUE(l.aws.ecr().repositories().empty());
  EXPECT_TRUE(has_line(child.out(), "error", "REPO_LIFECYCLE_POLICY")) << child.out();
  expect_clean_log(l);
}

}  // namespace
}  // namespace ecrs::handler
