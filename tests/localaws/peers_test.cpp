// Independent peers: boto3 (pyenv python3), the AWS CLI v1 (pyenv `aws`) and Debian's CLI v2 (/usr/bin/aws) talk
// to localaws as they would to AWS. This is also the independent check of our SigV4 verifier against botocore's
// signer. A missing peer is a failure naming what to install, never a skip.
#include <gtest/gtest.h>
#include "../support/run_command.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "ecrs/localaws/localaws.hpp"

namespace ecrs::localaws {
namespace {

using Run = ecrs::test_support::CommandRun;
const auto& run = ecrs::test_support::run_command;

// Credentials and region as the peers' environment; the machine's config files cannot interfere.
std::string peer_env(const LocalAws& aws, const std::string& secret) {
  return "env -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL=" + aws.endpoint() +
         " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=" + secret +
         " AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null"
         " AWS_MAX_ATTEMPTS=1 AWS_PAGER= ";
}

const std::string kDir = LOCALAWS_TEST_DIR;

void require_boto3() {
  const auto probe = run("python3 -c 'import boto3, botocore; print(botocore.__version__)'");
  ASSERT_EQ(probe.status, 0) << "python3 with boto3 is required (pyenv python3 in PATH): " << probe.output;
}

void require_cli(const std::string& binary, const std::string& major) {
  const auto probe = run(binary + " --version");
  ASSERT_EQ(probe.status, 0) << binary << " is required for this test and was not found: " << probe.output;
  ASSERT_EQ(probe.output.rfind("aws-cli/" + major + ".", 0), 0u)
      << binary << " should be AWS CLI v" << major << ", is: " << probe.output;
}

// This test and the two CLI sessions below run in the release suite only: CMakePresets.json's sanitize preset
// excludes them by name (only the peer and localaws run in them, and they took 56 s under ASan). Keep the names
// and that filter together.
TEST(Boto3Peer, CreatesPutsTwentyFiveHundredImagesPagesAndBatchDeletes) {
  require_boto3();
  LocalAws aws{Options{}};
  aws.start();
  const auto r = run(peer_env(aws, "test") + "python3 " + kDir + "/boto3_peer.py full");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"ok\": true"), std::string::npos) << r.output;
  EXPECT_FALSE(aws.ecr().has_repository("peer/app"));  // the script force-deletes it at the end
  const auto m = aws.metrics()["operations"];
  EXPECT_EQ(m["PutImage"]["calls"].asUInt(), 2501u);
  EXPECT_EQ(m["PutImage"]["errors"].asUInt(), 0u);
}

TEST(Boto3Peer, WrongSecretGetsInvalidSignatureException) {
  require_boto3();
  LocalAws aws{Options{}};
  aws.start();
  const auto r = run(peer_env(aws, "not-the-secret") + "python3 " + kDir + "/boto3_peer.py wrong-secret");
  EXPECT_EQ(r.status, 0) << r.output;
}

void cli_session(const std::string& binary, const std::string& major) {
  require_cli(binary, major);
  LocalAws aws{Options{}};
  aws.start();
  aws.ecr().create_repository("cli/app");
  for (int i = 0; i < 2500; ++i) aws.ecr().put_image("cli/app", "v" + std::to_string(i));
  const auto ok = run(peer_env(aws, "test") + "bash " + kDir + "/cli_peer.sh " + binary + " " + aws.endpoint() + " full");
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("\"ok\": true"), std::string::npos) << ok.output;
  EXPECT_EQ(aws.ecr().image_count("cli/app"), 2500u);
  const auto denied =
      run(peer_env(aws, "wrong") + "bash " + kDir + "/cli_peer.sh " + binary + " " + aws.endpoint() + " wrong-secret");
  EXPECT_EQ(denied.status, 0) << denied.output;
}

TEST(AwsCliV1Peer, PagesWithMaxItemsAndPageSizeAndBatchDeletes) { cli_session("aws", "1"); }

// Debian's awscli package (CLI v2). scripts/setup should install it (apt-get install awscli); until then this
// test fails naming the package.
TEST(AwsCliV2Peer, DebianCliDoesTheSame) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/aws"))
      << "/usr/bin/aws is missing: install Debian's awscli package (apt-get install awscli) in scripts/setup";
  cli_session("/usr/bin/aws", "2");
}

}  // namespace
}  // namespace ecrs::localaws
