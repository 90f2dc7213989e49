// The custom resource end to end: LocalAws's Runtime API hands the event to the runtime loop (in-process, the
// same run_lambda() the bootstrap runs), which talks SigV4 to LocalAws's ECR and PUTs the response to its S3
// receiver. Every case checks the repository, the response document and the call counts.
#include <gtest/gtest.h>

#include <atomic>

#include "harness.hpp"

namespace ecrs::handler::testing {
namespace {

using namespace std::chrono_literals;

class DeleteEmpties : public ::testing::TestWithParam<std::size_t> {};

TEST_P(DeleteEmpties, RepositoryAndAnswersSuccessEchoingTheId) {
  const std::size_t n = GetParam();
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  for (std::size_t i = 0; i < n; ++i) h.ecr().put_image("web", "t" + std::to_string(i));
  ASSERT_EQ(h.ecr().image_count("web"), n);
  h.start_loop();
  auto ev = h.make_event({.request_type = "Delete", .repository = "web", .physical_id = "ecr-sweeper:default:web"});
  const std::string id = h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  auto outcome = h.wait_outcome(id);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, "response");
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  EXPECT_EQ(resp["PhysicalResourceId"].asString(), "ecr-sweeper:default:web");
  expect_envelope(resp, ev);
  EXPECT_TRUE(h.ecr().has_repository("web"));
  EXPECT_EQ(h.ecr().image_count("web"), 0u);
  EXPECT_LE(h.batch_delete_calls(), ceil_div(n, 100) + h.batch_delete_retries());
  if (n > 0) {
    EXPECT_GE(h.batch_delete_calls(), ceil_div(n, 100));
  }
  EXPECT_EQ(h.server().s3().accepted(ev.key).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(ImageCounts, DeleteEmpties,
                         ::testing::Values<std::size_t>(0, 1, 100, 101, 1000, 1001),
                         [](const auto& info) { return "Images" + std::to_string(info.param); });

TEST(CustomResource, EmptiesTwoThousandThreeHundredFortyFiveMixedTaggedAndUntaggedImages) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("mixed"));
  seed_mixed(h.ecr(), "mixed", 2345);
  ASSERT_EQ(h.ecr().image_count("mixed"), 2345u);
  ASSERT_GT(h.ecr().tag_count("mixed"), 2345u / 2);
  h.start_loop();
  auto ev = h.make_event({.repository = "mixed", .physical_id = "ecr-sweeper:default:mixed"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  expect_envelope(resp, ev);
  EXPECT_EQ(h.ecr().image_count("mixed"), 0u);
  // By digest: one id per image however many tags it has.
  EXPECT_LE(h.batch_delete_calls(), ceil_div(2345, 100) + h.batch_delete_retries());
  EXPECT_EQ(resp["Data"]["ImagesDeleted"].asString(), "2345");
}

TEST(CustomResource, EmptiesThirtyIndexesOverNinetyChildrenIndexesFirst) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("multiarch"));
  for (int i = 0; i < 30; ++i) {
    std::vector<std::string> children;
    for (int c = 0; c < 3; ++c) children.push_back(h.ecr().put_image("multiarch", ""));
    h.ecr().put_index("multiarch", children, "release-" + std::to_string(i));
  }
  ASSERT_EQ(h.ecr().image_count("multiarch"), 120u);
  h.start_loop();
  auto ev = h.make_event({.repository = "multiarch", .physical_id = "ecr-sweeper:default:multiarch"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  expect_envelope(resp, ev);
  EXPECT_EQ(h.ecr().image_count("multiarch"), 0u);
  EXPECT_LE(h.batch_delete_calls(), ceil_div(120, 100) + h.batch_delete_retries());
}

TEST(CustomResource, EmptiesUnderThirtyPercentThrottling) {
  localaws::Options o;
  o.throttle_rate = 0.3;
  o.seed = 7;
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("busy"));
  for (int i = 0; i < 500; ++i) h.ecr().put_image("busy", "t" + std::to_string(i));
  h.start_loop();
  auto ev = h.make_event({.repository = "busy", .physical_id = "ecr-sweeper:default:busy"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev, 60s);
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  expect_envelope(resp, ev);
  EXPECT_EQ(h.ecr().image_count("busy"), 0u);
  std::uint64_t throttled = 0;
  const Json::Value ops = h.server().metrics()["operations"];
  for (const auto& name : ops.getMemberNames()) throttled += ops[name]["throttled"].asUInt64();
  EXPECT_GT(throttled, 0u)
      << to_compact_json(h.server().metrics());
  EXPECT_LE(h.batch_delete_calls(), ceil_div(500, 100) + h.batch_delete_retries());
}

TEST(CustomResource, EmptiesUnderTenPercentServerErrors) {
  localaws::Options o;
  o.error_rate = 0.1;
  o.seed = 11;
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("flaky"));
  for (int i = 0; i < 500; ++i) h.ecr().put_image("flaky", "t" + std::to_string(i));
  h.start_loop();
  auto ev = h.make_event({.repository = "flaky", .physical_id = "ecr-sweeper:default:flaky"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev, 60s);
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  expect_envelope(resp, ev);
  EXPECT_EQ(h.ecr().image_count("flaky"), 0u);
  EXPECT_LE(h.batch_delete_calls(), ceil_div(500, 100) + h.batch_delete_retries());
}

TEST(CustomResource, DeletesImagesPushedDuringTheDeletion) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("racing"));
  for (int i = 0; i < 300; ++i) h.ecr().put_image("racing", "t" + std::to_string(i));
  std::atomic<bool> pushed{false};
  h.server().on_call("BatchDeleteImage", [&pushed](localaws::EcrState& s) {
    if (pushed.exchange(true)) return;
    for (int i = 0; i < 150; ++i) s.put_image("racing", "late" + std::to_string(i));
  });
  h.start_loop();
  auto ev = h.make_event({.repository = "racing", .physical_id = "ecr-sweeper:default:racing"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  expect_envelope(resp, ev);
  EXPECT_EQ(h.ecr().image_count("racing"), 0u);
  EXPECT_EQ(resp["Data"]["ImagesDeleted"].asString(), "450");
  EXPECT_LE(h.batch_delete_calls(), ceil_div(300, 100) + ceil_div(150, 100) + h.batch_delete_retries());
}

TEST(CustomResource, ReportsSuccessWhenRepositoryIsAlreadyGone) {
  LambdaHarness h;
  h.start_loop();
  auto ev = h.make_event({.repository = "gone", .physical_id = "ecr-sweeper:default:gone"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS");
  EXPECT_EQ(resp["PhysicalResourceId"].asString(), "ecr-sweeper:default:gone");
  expect_envelope(resp, ev);
  EXPECT_FALSE(h.ecr().has_repository("gone"));
  EXPECT_EQ(h.batch_delete_calls(), 0u);
}

TEST(CustomResource, RetriesTheResponsePutAfterTwoServerErrors) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  for (int i = 0; i < 5; ++i) h.ecr().put_image("web", "t" + std::to_string(i));
  h.server().s3().fail_next(2, 500);
  h.start_loop();
  auto ev = h.make_event({.repository = "web", .physical_id = "ecr-sweeper:default:web"});
  const std::string id = h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  auto outcome = h.wait_outcome(id);
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  expect_envelope(resp, ev);
  EXPECT_EQ(h.ecr().image_count("web"), 0u);
  std::size_t puts = 0, rejected = 0;
  for (const auto& r : h.server().s3().received()) {
    if (r.key != ev.key) continue;
    ++puts;
    if (r.status / 100 != 2) ++rejected;
    EXPECT_EQ(r.content_type, "");  // empty, never a default the SigV2 signature would not cover
  }
  EXPECT_EQ(puts, 3u);
  EXPECT_EQ(rejected, 2u);
  EXPECT_EQ(h.server().s3().accepted(ev.key).size(), 1u);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, "response");
}

TEST(CustomResource, CreateThenUpdateWithTheSameRepositoryKeepsTheIdAndTouchesNoImage) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("app"));
  for (int i = 0; i < 7; ++i) h.ecr().put_image("app", "t" + std::to_string(i));
  h.start_loop();
  auto create = h.make_event({.request_type = "Create", .repository = "app"});
  h.invoke(create);
  Json::Value c = h.wait_response(create);
  EXPECT_EQ(c["Status"].asString(), "SUCCESS") << c["Reason"].asString();
  expect_envelope(c, create);
  const std::string id = c["PhysicalResourceId"].asString();
  EXPECT_NE(id.find("app"), std::string::npos);

  Json::Value old_props = create.event["ResourceProperties"];
  auto update = h.make_event({.request_type = "Update", .repository = "app", .dry_run = "false", .physical_id = id,
                              .old_properties = old_props});
  h.invoke(update);
  Json::Value u = h.wait_response(update);
  EXPECT_EQ(u["Status"].asString(), "SUCCESS") << u["Reason"].asString();
  expect_envelope(u, update);
  EXPECT_EQ(u["PhysicalResourceId"].asString(), id);
  EXPECT_EQ(h.ecr().image_count("app"), 7u);
  EXPECT_EQ(h.batch_delete_calls(), 0u);
}

TEST(CustomResource, UpdateToAnotherRepositoryAnswersANewIdAndEmptiesNothing) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("old-repo"));
  ASSERT_TRUE(h.ecr().create_repository("new-repo"));
  for (int i = 0; i < 3; ++i) h.ecr().put_image("old-repo", "t" + std::to_string(i));
  for (int i = 0; i < 4; ++i) h.ecr().put_image("new-repo", "t" + std::to_string(i));
  h.start_loop();
  Json::Value old_props(Json::objectValue);
  old_props["RepositoryName"] = "old-repo";
  auto update = h.make_event({.request_type = "Update", .repository = "new-repo",
                              .physical_id = "ecr-sweeper:default:old-repo", .old_properties = old_props});
  h.invoke(update);
  Json::Value u = h.wait_response(update);
  EXPECT_EQ(u["Status"].asString(), "SUCCESS") << u["Reason"].asString();
  expect_envelope(u, update);
  EXPECT_NE(u["PhysicalResourceId"].asString(), "ecr-sweeper:default:old-repo");
  EXPECT_NE(u["PhysicalResourceId"].asString().find("new-repo"), std::string::npos);
  EXPECT_EQ(h.ecr().image_count("old-repo"), 3u);
  EXPECT_EQ(h.ecr().image_count("new-repo"), 4u);

  // CloudFormation then deletes the old resource: the old repository is emptied, the new one kept.
  auto del = h.make_event({.request_type = "Delete", .repository = "old-repo",
                           .physical_id = "ecr-sweeper:default:old-repo"});
  h.invoke(del);
  Json::Value d = h.wait_response(del);
  EXPECT_EQ(d["Status"].asString(), "SUCCESS") << d["Reason"].asString();
  EXPECT_EQ(d["PhysicalResourceId"].asString(), "ecr-sweeper:default:old-repo");
  EXPECT_EQ(h.ecr().image_count("old-repo"), 0u);
  EXPECT_EQ(h.ecr().image_count("new-repo"), 4u);
}

TEST(CustomResource, CreateOfAMissingRepositoryFailsWithAClearReason) {
  LambdaHarness h;
  h.start_loop();
  auto create = h.make_event({.request_type = "Create", .repository = "nowhere"});
  h.invoke(create);
  Json::Value c = h.wait_response(create);
  EXPECT_EQ(c["Status"].asString(), "FAILED");
  expect_envelope(c, create);
  EXPECT_NE(c["Reason"].asString().find("nowhere"), std::string::npos) << c["Reason"].asString();
  EXPECT_NE(c["Reason"].asString().find("does not exist"), std::string::npos) << c["Reason"].asString();
}

TEST(CustomResource, CreateWithoutANameFailsAndTheDeleteOfTheFailedIdTouchesNothing) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("bystander"));
  for (int i = 0; i < 5; ++i) h.ecr().put_image("bystander", "t" + std::to_string(i));
  h.start_loop();
  auto create = h.make_event({.request_type = "Create"});
  const std::string cid = h.invoke(create);
  Json::Value c = h.wait_response(create);
  EXPECT_EQ(c["Status"].asString(), "FAILED");
  expect_envelope(c, create);
  EXPECT_NE(c["Reason"].asString().find("RepositoryName"), std::string::npos) << c["Reason"].asString();
  auto cout = h.wait_outcome(cid);
  ASSERT_TRUE(cout);
  EXPECT_EQ(cout->kind, "response");  // FAILED is still /response: Lambda must not retry it

  const std::string failed_id = c["PhysicalResourceId"].asString();
  auto del = h.make_event({.request_type = "Delete", .physical_id = failed_id});
  h.invoke(del);
  Json::Value d = h.wait_response(del);
  EXPECT_EQ(d["Status"].asString(), "SUCCESS") << d["Reason"].asString();
  EXPECT_EQ(d["PhysicalResourceId"].asString(), failed_id);
  expect_envelope(d, del);
  EXPECT_EQ(h.ecr().image_count("bystander"), 5u);
  EXPECT_EQ(h.batch_delete_calls(), 0u);
}

TEST(CustomResource, FallsBackToEcrRepositoryNameWhenThePropertyIsAbsent) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("from-env"));
  for (int i = 0; i < 4; ++i) h.ecr().put_image("from-env", "t" + std::to_string(i));
  h.start_loop({{"ECR_REPOSITORY_NAME", "from-env"}});
  auto create = h.make_event({.request_type = "Create"});
  h.invoke(create);
  Json::Value c = h.wait_response(create);
  EXPECT_EQ(c["Status"].asString(), "SUCCESS") << c["Reason"].asString();
  expect_envelope(c, create);
  EXPECT_NE(c["PhysicalResourceId"].asString().find("from-env"), std::string::npos);
  EXPECT_EQ(h.ecr().image_count("from-env"), 4u);
}

TEST(CustomResource, UnknownRequestTypeFailsWithAReasonAndTheLoopServesTheNextEvent) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  h.ecr().put_image("web", "a");
  h.start_loop();
  auto bad = h.make_event({.request_type = "Upsert", .repository = "web", .physical_id = "ecr-sweeper:default:web"});
  const std::string bid = h.invoke(bad);
  Json::Value b = h.wait_response(bad);
  EXPECT_EQ(b["Status"].asString(), "FAILED");
  expect_envelope(b, bad);
  EXPECT_NE(b["Reason"].asString().find("Upsert"), std::string::npos) << b["Reason"].asString();
  auto bout = h.wait_outcome(bid);
  ASSERT_TRUE(bout);
  EXPECT_EQ(bout->kind, "response");
  EXPECT_EQ(h.ecr().image_count("web"), 1u);

  auto good = h.make_event({.repository = "web", .physical_id = "ecr-sweeper:default:web"});
  h.invoke(good);
  EXPECT_EQ(h.wait_response(good)["Status"].asString(), "SUCCESS");
  EXPECT_EQ(h.ecr().image_count("web"), 0u);
}

TEST(CustomResource, NonJsonAndUnknownEventsGoToTheErrorEndpointAndTheLoopSurvives) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  h.ecr().put_image("web", "a");
  h.start_loop();
  const std::string junk = h.server().runtime().invoke("this is {not json");
  auto j = h.wait_outcome(junk);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->kind, "error");
  EXPECT_NE(j->body.find("InvalidEvent"), std::string::npos) << j->body;
  EXPECT_EQ(j->body.find("not json"), std::string::npos) << "the payload must not be echoed";
  const std::string other = h.server().runtime().invoke(R"({"detail-type":"Scheduled Event"})");
  auto o = h.wait_outcome(other);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, "error");
  EXPECT_NE(o->body.find("InvalidEvent"), std::string::npos) << o->body;

  auto good = h.make_event({.repository = "web", .physical_id = "ecr-sweeper:default:web"});
  h.invoke(good);
  EXPECT_EQ(h.wait_response(good)["Status"].asString(), "SUCCESS");
  EXPECT_EQ(h.ecr().image_count("web"), 0u);
}

TEST(CustomResource, WrongCredentialsFailWithAReasonWithoutHanging) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  for (int i = 0; i < 3; ++i) h.ecr().put_image("web", "t" + std::to_string(i));
  h.start_loop({}, h.lambda_env("AKIDWRONGWRONGWRONG", "wrong-secret-wrong-secret-wrong-secret"));
  const auto started = std::chrono::steady_clock::now();
  auto ev = h.make_event({.repository = "web", .physical_id = "ecr-sweeper:default:web"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  EXPECT_EQ(resp["Status"].asString(), "FAILED");
  expect_envelope(resp, ev);
  EXPECT_NE(resp["Reason"].asString().find("web"), std::string::npos) << resp["Reason"].asString();
  EXPECT_FALSE(resp["Reason"].asString().empty());
  EXPECT_EQ(h.ecr().image_count("web"), 3u);
}

TEST(CustomResource, DryRunLogsThePlanDeletesNothingAndSucceeds) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  auto digests = seed_mixed(h.ecr(), "web", 12);
  h.start_loop();
  auto ev = h.make_event({.repository = "web", .dry_run = "true", .physical_id = "ecr-sweeper:default:web"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  expect_envelope(resp, ev);
  EXPECT_EQ(h.ecr().image_count("web"), 12u);
  EXPECT_EQ(h.batch_delete_calls(), 0u);
  h.stop();
  std::size_t planned_lines = 0;
  for (const auto& line : h.log_lines()) {
    if (line.find("would delete") != std::string::npos) ++planned_lines;
  }
  EXPECT_EQ(planned_lines, 12u);
}

TEST(CustomResource, DuplicateDeliveryIsAnsweredOnce) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  for (int i = 0; i < 20; ++i) h.ecr().put_image("web", "t" + std::to_string(i));
  h.start_loop();
  auto ev = h.make_event({.repository = "web", .physical_id = "ecr-sweeper:default:web"});
  const std::string first = h.invoke(ev);
  const std::string second = h.invoke(ev);
  auto a = h.wait_outcome(first);
  auto b = h.wait_outcome(second);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->kind, "response");
  EXPECT_EQ(b->kind, "response");
  EXPECT_NE(b->body.find("Duplicate"), std::string::npos) << b->body;
  ASSERT_TRUE(h.server().runtime().wait_idle(kWait));
  std::size_t puts = 0;
  for (const auto& r : h.server().s3().received()) puts += (r.key == ev.key) ? 1 : 0;
  EXPECT_EQ(puts, 1u);
  EXPECT_EQ(h.wait_response(ev)["Status"].asString(), "SUCCESS");
  EXPECT_EQ(h.ecr().image_count("web"), 0u);
}

TEST(CustomResource, LogsNeverCarryTheSecretTheTokenOrTheResponseUrlSignature) {
  localaws::Options o;
  o.access_key_id = "AKIDLOGTESTEXAMPLE01";
  o.secret_access_key = Secret("SeCrEtLoGtEsT/K7MDENG+bPxRfiCYEXAMPLEKEY");
  o.session_token = Secret("ToKeNLoGtEsT//////////wEaCXVzLWVhc3QtMSJHMEUCIQD");
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("web"));
  for (int i = 0; i < 150; ++i) h.ecr().put_image("web", "t" + std::to_string(i));
  auto env = h.lambda_env(o.access_key_id, o.secret_access_key.reveal());
  env["AWS_SESSION_TOKEN"] = o.session_token.reveal();
  h.start_loop({}, env);
  h.server().s3().fail_next(1, 500);  // a failed PUT is logged too
  auto del = h.make_event({.repository = "web", .physical_id = "ecr-sweeper:default:web"});
  h.invoke(del);
  EXPECT_EQ(h.wait_response(del)["Status"].asString(), "SUCCESS");
  auto bad = h.make_event({.request_type = "Create", .repository = "missing-repo"});
  h.invoke(bad);
  EXPECT_EQ(h.wait_response(bad)["Status"].asString(), "FAILED");
  h.server().runtime().invoke("not json at all");
  ASSERT_TRUE(h.server().runtime().wait_idle(kWait));
  h.stop();
  const auto lines = h.log_lines();
  ASSERT_GT(lines.size(), 5u);
  for (const auto& line : lines) {
    EXPECT_EQ(line.find(o.secret_access_key.reveal()), std::string::npos) << line;
    EXPECT_EQ(line.find(o.session_token.reveal()), std::string::npos) << line;
    EXPECT_EQ(line.find("Signature="), std::string::npos) << line;
    EXPECT_EQ(line.find("AWSAccessKeyId="), std::string::npos) << line;
    EXPECT_TRUE(parse_json(line).has_value()) << "not one JSON object: " << line;
  }
}

}  // namespace
}  // namespace ecrs::handler::testing
