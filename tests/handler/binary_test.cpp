// The real binary as a child process with a clean environment: the bootstrap against LocalAws's Runtime API
// (non-JSON event, continuation across invocations) and the CLI (`ecr-sweeper empty`).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "harness.hpp"
#include "support/process.hpp"

namespace ecrs::handler::testing {
namespace {

using namespace std::chrono_literals;

std::string binary_dir() {
  const char* d = std::getenv("ECRS_HANDLER_BINARY_DIR");
  return d != nullptr ? d : ECRS_HANDLER_BINARY_DIR_DEFAULT;
}
std::string bootstrap_path() { return binary_dir() + "/bootstrap"; }
std::string cli_path() { return binary_dir() + "/ecr-sweeper"; }

TEST(Binary, BootstrapAndCliAreBuiltSideBySide) {
  EXPECT_TRUE(std::filesystem::exists(bootstrap_path())) << bootstrap_path();
  EXPECT_TRUE(std::filesystem::exists(cli_path())) << cli_path();
}

TEST(Binary, BootstrapReportsANonJsonEventAsAnErrorAndServesTheNextOne) {
  auto h = std::make_unique<LambdaHarness>();
  ASSERT_TRUE(h->ecr().create_repository("web"));
  for (int i = 0; i < 3; ++i) h->ecr().put_image("web", "t" + std::to_string(i));
  ChildProcess child({bootstrap_path()}, h->lambda_env());
  const std::string junk = h->server().runtime().invoke("\x01\x02 definitely not json");
  auto j = h->wait_outcome(junk);
  ASSERT_TRUE(j) << child.err();
  EXPECT_EQ(j->kind, "error");
  EXPECT_NE(j->body.find("InvalidEvent"), std::string::npos) << j->body;
  auto ev = h->make_event({.repository = "web", .physical_id = "ecr-sweeper:default:web"});
  h->invoke(ev);
  Json::Value resp = h->wait_response(ev);
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  expect_envelope(resp, ev);
  EXPECT_EQ(h->ecr().image_count("web"), 0u);
  ASSERT_TRUE(h->server().runtime().wait_idle(kWait));
  // stdout is the log: one JSON object per line, the ResponseURL's query never in it.
  const std::string log = child.out();
  std::size_t lines = 0;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    ++lines;
    EXPECT_TRUE(parse_json(line).has_value()) << line;
    EXPECT_EQ(line.find("Signature="), std::string::npos) << line;
  }
  EXPECT_GT(lines, 3u);
}

TEST(Binary, BootstrapContinuesAcrossThreeInvocationsAndOnlyTheLastAnswers) {
  localaws::Options o;
  // Reserve is max(0.8 s, 10%): each invocation gets ~0.8 s of work before it must hand over.
  o.function_timeout = 1600ms;
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("big"));
  // 12 batches of 200 ms, one at a time: at most ~4 fit in each invocation's 0.8 s.
  for (int i = 0; i < 1200; ++i) h.ecr().put_image("big", "t" + std::to_string(i));
  h.server().set_latency("BatchDeleteImage", 200ms);
  auto env = h.lambda_env();
  env["ECRS_CONCURRENCY"] = "1";
  // Generous: under a loaded sanitizer build listing alone can eat most of an invocation's 0.7 s.
  env["ECRS_MAX_INVOCATIONS"] = "30";
  ChildProcess child({bootstrap_path()}, env);
  auto ev = h.make_event({.repository = "big", .physical_id = "ecr-sweeper:default:big"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev, 60s);
  ASSERT_TRUE(h.server().runtime().wait_idle(kWait));
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString() << child.out();
  expect_envelope(resp, ev);
  EXPECT_EQ(resp["PhysicalResourceId"].asString(), "ecr-sweeper:default:big");
  EXPECT_EQ(resp["Data"]["ImagesDeleted"].asString(), "1200");
  EXPECT_EQ(h.ecr().image_count("big"), 0u);
  const auto reinvoked = h.server().runtime().invoked_by_api();
  EXPECT_GE(reinvoked.size(), 2u) << "expected at least three invocations\n" << child.out();
  EXPECT_EQ(h.server().runtime().outcomes().size(), reinvoked.size() + 1);
  for (const auto& out : h.server().runtime().outcomes()) EXPECT_EQ(out.kind, "response") << out.body;
  std::size_t puts = 0;
  for (const auto& r : h.server().s3().received()) puts += (r.key == ev.key) ? 1 : 0;
  EXPECT_EQ(puts, 1u);
  EXPECT_LE(h.batch_delete_calls(), ceil_div(1200, 100) + h.batch_delete_retries());
}

// The role seed 000's template and CDK's handler grant: ecr:ListImages and ecr:BatchDeleteImage only. Through
// the real bootstrap the repository still empties, multi-arch indexes and all, with one warning naming
// DescribeImages.
TEST(Binary, BootstrapEmptiesWithListImagesAndBatchDeleteImageAlone) {
  localaws::Options o;
  o.deny = {"DescribeImages", "BatchGetImage"};
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("multi"));
  for (int i = 0; i < 20; ++i) {
    std::vector<std::string> children;
    for (int c = 0; c < 3; ++c) children.push_back(h.ecr().put_image("multi", ""));
    h.ecr().put_index("multi", children, "release-" + std::to_string(i));
  }
  for (int i = 0; i < 150; ++i) h.ecr().put_image("multi", i % 2 ? "" : "t" + std::to_string(i));
  ChildProcess child({bootstrap_path()}, h.lambda_env());
  auto ev = h.make_event({.repository = "multi", .physical_id = "ecr-sweeper:default:multi"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev, 60s);
  ASSERT_TRUE(h.server().runtime().wait_idle(kWait));
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString() << child.out();
  EXPECT_EQ(resp["Data"]["ImagesDeleted"].asString(), "230");
  EXPECT_EQ(h.ecr().image_count("multi"), 0u);
  std::size_t warnings = 0;
  std::istringstream in(child.out());
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"level\":\"warn") != std::string::npos && line.find("DescribeImages") != std::string::npos) {
      ++warnings;
    }
  }
  EXPECT_EQ(warnings, 1u) << child.out();
}

std::map<std::string, std::string> cli_env(LambdaHarness& h) {
  return {{"AWS_REGION", "us-east-1"},
          {"AWS_ENDPOINT_URL", h.server().endpoint()},
          {"AWS_ACCESS_KEY_ID", "test"},
          {"AWS_SECRET_ACCESS_KEY", "test"},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_CONFIG_FILE", "/nonexistent/ecrs-config"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ecrs-credentials"}};
}

TEST(Cli, DryRunPrintsThePlanAndDeletesNothing) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  auto digests = seed_mixed(h.ecr(), "web", 9);
  auto r = run_process({cli_path(), "empty", "web", "--dry-run"}, cli_env(h));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("9 images would be deleted"), std::string::npos) << r.out;
  for (const auto& d : digests) EXPECT_NE(r.out.find(d), std::string::npos) << d;
  EXPECT_EQ(h.ecr().image_count("web"), 9u);
  EXPECT_EQ(h.batch_delete_calls(), 0u);
}

TEST(Cli, JsonOutputIsOneValidDocumentWithTheSummary) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  for (int i = 0; i < 120; ++i) h.ecr().put_image("web", "t" + std::to_string(i));
  auto r = run_process({cli_path(), "empty", "web", "--output", "json", "--concurrency", "4"}, cli_env(h));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto doc = parse_json(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_TRUE((*doc)["ok"].asBool());
  EXPECT_EQ((*doc)["deleted"].asUInt64(), 120u);
  EXPECT_EQ((*doc)["calls"]["BatchDeleteImage"].asUInt64(), h.batch_delete_calls());
  EXPECT_TRUE((*doc)["seconds"].isDouble() || (*doc)["seconds"].isIntegral());
  EXPECT_EQ(h.ecr().image_count("web"), 0u);
}

TEST(Cli, TextSummaryNamesDeletedImagesCallsAndSeconds) {
  LambdaHarness h;
  ASSERT_TRUE(h.ecr().create_repository("web"));
  for (int i = 0; i < 5; ++i) h.ecr().put_image("web", "t" + std::to_string(i));
  auto r = run_process({cli_path(), "empty", "web"}, cli_env(h));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Deleted 5 images"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BatchDeleteImage"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" s\n"), std::string::npos) << r.out;
  EXPECT_EQ(h.ecr().image_count("web"), 0u);
}

TEST(Cli, MissingRepositoryExitsOne) {
  LambdaHarness h;
  auto r = run_process({cli_path(), "empty", "nowhere"}, cli_env(h));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
}

TEST(Cli, BadRepositoryNameExitsTwoWithAClearMessage) {
  auto r = run_process({cli_path(), "empty", "Not_A_Valid/Name!"}, {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("invalid repository name"), std::string::npos) << r.err;
  auto none = run_process({cli_path(), "empty"}, {});
  EXPECT_EQ(none.exit_code, 2);
  auto bad_output = run_process({cli_path(), "empty", "web", "--output", "yaml"}, {});
  EXPECT_EQ(bad_output.exit_code, 2);
}

TEST(Cli, VersionPrintsVersionAndRevision) {
  auto r = run_process({cli_path(), "--version"}, {});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("ecr-sweeper " ECRS_TEST_VERSION), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(" ECRS_TEST_GIT_REVISION ")"), std::string::npos) << r.out;
}

TEST(Cli, HelpDocumentsExitCodesAndEveryVerb) {
  auto r = run_process({cli_path(), "--help"}, {});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
  for (const char* verb : {"empty", "clean", "lifecycle", "repo"}) {
    EXPECT_NE(r.out.find(verb), std::string::npos) << verb << " missing from --help:\n" << r.out;
  }
}

}  // namespace
}  // namespace ecrs::handler::testing
