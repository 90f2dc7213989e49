#include "ecrs/aws/credentials.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ecrs/aws/curl_transport.hpp"
#include "credentials/temp_home.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::aws {
namespace {
using namespace std::chrono_literals;
using test::RecordedRequest;
using test::ScriptedHttpServer;
using test::ScriptedResponse;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kToken = "FwoGZXIvYXdzEXAMPLETOKEN";

using TempDir = test::TempHome;

// An isolated environment: HOME in a fresh directory and IMDS off, so nothing of the machine leaks in.
MapEnvironment isolated(const TempDir& home) {
  MapEnvironment env;
  env.set("HOME", home.path());
  env.set("AWS_EC2_METADATA_DISABLED", "true");
  return env;
}

using Harness = test::Effects;

std::string creds_json(const std::string& akid, const std::string& expiration = "2030-01-01T00:00:00Z") {
  return R"({"AccessKeyId":")" + akid + R"(","SecretAccessKey":")" + kSecret + R"(","Token":")" + kToken +
         R"(","Expiration":")" + expiration + R"("})";
}

TEST(EnvironmentCredentials, ReadsKeysAndSessionToken) {
  MapEnvironment env(std::map<std::string, std::string>{
      {"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", kSecret}, {"AWS_SESSION_TOKEN", kToken}});
  auto c = EnvironmentCredentialsProvider(env).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->secret_access_key.reveal(), kSecret);
  EXPECT_EQ(c->session_token.reveal(), kToken);
  EXPECT_FALSE(c->expiration);
}

TEST(EnvironmentCredentials, HalfConfiguredKeysAreAnErrorNotAFallThrough) {
  MapEnvironment env(std::map<std::string, std::string>{{"AWS_ACCESS_KEY_ID", "AKIDENV"}});
  auto c = EnvironmentCredentialsProvider(env).credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "CredentialsError");
  EXPECT_NE(c.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(ProfileCredentials, ReadsDefaultProfileFromCredentialsFile) {
  TempDir home;
  home.write(".aws/credentials", std::string("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = ") +
                                     kSecret + "\n[other]\naws_access_key_id=X\naws_secret_access_key=Y\n");
  auto env = isolated(home);
  auto c = ProfileCredentialsProvider(Harness(env).ctx).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDFILE");
  EXPECT_TRUE(c->session_token.empty());
}

TEST(ProfileCredentials, HonoursAwsProfileConfigSectionsAndFileOverrides) {
  TempDir dir;
  auto config = dir.write("cfg", std::string("[profile dev]\nregion = eu-west-1\naws_access_key_id = AKIDDEV\n"
                                             "aws_secret_access_key = ") + kSecret + "\naws_session_token = " + kToken + "\n");
  auto env = isolated(dir);
  env.set("AWS_CONFIG_FILE", config);
  env.set("AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/none");
  env.set("AWS_PROFILE", "dev");
  auto c = ProfileCredentialsProvider(Harness(env).ctx).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDDEV");
  EXPECT_EQ(c->session_token.reveal(), kToken);
}

TEST(ProfileCredentials, RunsCredentialProcess) {
  TempDir dir;
  auto script = dir.write("proc.sh",
                          "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"" +
                              std::string(kSecret) + "\", \"SessionToken\": \"" + kToken +
                              "\", \"Expiration\": \"2030-05-06T07:08:09.123Z\"}'\n",
                          true);
  dir.write(".aws/config", "[default]\ncredential_process = " + script + " --flag\n");
  auto env = isolated(dir);
  auto c = ProfileCredentialsProvider(Harness(env).ctx).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDPROC");
  EXPECT_EQ(c->session_token.reveal(), kToken);
  ASSERT_TRUE(c->expiration);
  EXPECT_EQ(*c->expiration, *parse_iso8601("2030-05-06T07:08:09Z"));
}

TEST(ProfileCredentials, FailingCredentialProcessNeverQuotesItsOutput) {
  TempDir dir;
  auto script = dir.write("proc.sh", std::string("#!/bin/sh\necho ") + kSecret + "\nexit 3\n", true);
  dir.write(".aws/config", "[default]\ncredential_process = " + script + "\n");
  auto env = isolated(dir);
  auto c = ProfileCredentialsProvider(Harness(env).ctx).credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "CredentialsError");
  EXPECT_NE(c.error().message.find("exit status 3"), std::string::npos) << c.error().message;
  EXPECT_EQ(c.error().describe().find(kSecret), std::string::npos);
}

TEST(ProfileCredentials, ExplicitProfileThatDoesNotExistIsAnError) {
  TempDir home;
  auto env = isolated(home);
  env.set("AWS_PROFILE", "nope");
  auto c = ProfileCredentialsProvider(Harness(env).ctx).credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "CredentialsError");
  EXPECT_NE(c.error().message.find("profile nope not found"), std::string::npos) << c.error().message;
}

TEST(ContainerCredentials, FetchesFromFullUriWithTokenFromFile) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(200, creds_json("AKIDECS", "2030-01-01T00:00:00Z")));
  TempDir dir;
  auto token_file = dir.write("token", "Bearer pod-identity-token\n");
  auto env = isolated(dir);
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/v1/credentials"));
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file);
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-set");
  CurlTransport transport(env);
  FakeClock sleeper;
  auto c = ContainerCredentialsProvider(env, transport, sleeper).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDECS");
  EXPECT_EQ(c->secret_access_key.reveal(), kSecret);
  ASSERT_TRUE(c->expiration);
  auto got = server.requests().at(0);
  EXPECT_EQ(got.method, "GET");
  EXPECT_EQ(got.target, "/v1/credentials");
  EXPECT_EQ(got.header("Authorization").value_or(""), "Bearer pod-identity-token");
}

TEST(ContainerCredentials, RejectsPlainHttpToArbitraryHostsAndReportsHttpErrors) {
  TempDir dir;
  auto env = isolated(dir);
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example.com/creds");
  CurlTransport transport(env);
  FakeClock sleeper;
  auto c = ContainerCredentialsProvider(env, transport, sleeper).credentials();
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("evil.example.com"), std::string::npos);
  // The instance metadata address is botocore's IMDS host, not a container host.
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.169.254/creds");
  auto imds_host = ContainerCredentialsProvider(env, transport, sleeper).credentials();
  ASSERT_FALSE(imds_host);
  EXPECT_NE(imds_host.error().message.find("169.254.169.254"), std::string::npos);
  EXPECT_EQ(sleeper.total_slept(), 0ms) << "a refused host is not retried";

  ScriptedHttpServer server;
  server.set_handler([](const RecordedRequest&) { return test::reply(500, "oops"); });
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/creds"));
  auto failed = ContainerCredentialsProvider(env, transport, sleeper).credentials();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().http_status, 500);
}

TEST(ContainerCredentials, RetriesThreeTimesOneSecondApartAsBotocore) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(503, "busy"));
  server.enqueue(test::reply(200, "not json"));
  server.enqueue(test::reply(200, creds_json("AKIDTHIRD")));
  TempDir dir;
  auto env = isolated(dir);
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/creds"));
  CurlTransport transport(env);
  FakeClock sleeper;
  auto c = ContainerCredentialsProvider(env, transport, sleeper).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDTHIRD");
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_EQ(sleeper.total_slept(), 2s);

  ScriptedHttpServer down;
  down.set_handler([](const RecordedRequest&) { return test::reply(502, ""); });
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", down.url("/creds"));
  auto failed = ContainerCredentialsProvider(env, transport, sleeper).credentials();
  ASSERT_FALSE(failed);
  EXPECT_EQ(down.request_count(), 3u);
  EXPECT_NE(failed.error().message.find("after 3 attempts"), std::string::npos) << failed.error().message;
}

TEST(ImdsCredentials, UsesTokenThenRoleThenCredentials) {
  ScriptedHttpServer server;
  server.set_handler([](const RecordedRequest& r) {
    if (r.method == "PUT" && r.target == "/latest/api/token") return test::reply(200, "imds-token");
    if (r.header("X-aws-ec2-metadata-token").value_or("") != "imds-token") return test::reply(401, "");
    if (r.target == "/latest/meta-data/iam/security-credentials/") return test::reply(200, "my-role\n");
    if (r.target == "/latest/meta-data/iam/security-credentials/my-role")
      return test::reply(200, R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"AKIDIMDS","SecretAccessKey":")" +
                                  std::string(kSecret) + R"(","Token":"t","Expiration":"2030-01-01T00:00:00Z"})");
    return test::reply(404, "");
  });
  TempDir dir;
  MapEnvironment env;
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url("/"));
  CurlTransport transport(env);
  auto c = ImdsCredentialsProvider(env, transport).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDIMDS");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].header("X-aws-ec2-metadata-token-ttl-seconds").value_or(""), "21600");
}

TEST(ImdsCredentials, FallsBackToImdsV1WhenTheTokenPutIsRefusedAsBotocore) {
  for (int refusal : {403, 404, 405}) {
    ScriptedHttpServer server;
    server.set_handler([refusal](const RecordedRequest& r) {
      if (r.method == "PUT") return test::reply(refusal, "");
      if (r.header("X-aws-ec2-metadata-token")) return test::reply(400, "unexpected token");
      if (r.target == "/latest/meta-data/iam/security-credentials/") return test::reply(200, "v1-role");
      if (r.target == "/latest/meta-data/iam/security-credentials/v1-role")
        return test::reply(200, R"({"Code":"Success","AccessKeyId":"AKIDV1","SecretAccessKey":"s","Token":"t",)"
                                R"("Expiration":"2030-01-01T00:00:00Z"})");
      return test::reply(404, "");
    });
    MapEnvironment env;
    env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url());
    CurlTransport transport(env);
    auto c = ImdsCredentialsProvider(env, transport).credentials();
    ASSERT_TRUE(c) << refusal << ": " << c.error().describe();
    EXPECT_EQ(c->access_key_id, "AKIDV1");
    EXPECT_EQ(server.request_count(), 3u);

    env.set("AWS_EC2_METADATA_V1_DISABLED", "true");
    auto off = ImdsCredentialsProvider(env, transport).credentials();
    ASSERT_FALSE(off);
    EXPECT_EQ(off.error().code, kCredentialsNotConfigured);
    EXPECT_NE(off.error().message.find("IMDSv1 disabled"), std::string::npos) << off.error().message;
  }
}

TEST(ImdsCredentials, BadRequestOnTheTokenPutIsAnErrorNotAFallback) {
  ScriptedHttpServer server;
  server.set_handler([](const RecordedRequest&) { return test::reply(400, ""); });
  MapEnvironment env;
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url());
  CurlTransport transport(env);
  auto c = ImdsCredentialsProvider(env, transport).credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "CredentialsError");
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(ImdsCredentials, DisabledByEnvironmentWithoutAnyRequest) {
  ScriptedHttpServer server;
  MapEnvironment env;
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url());
  env.set("AWS_EC2_METADATA_DISABLED", "true");
  CurlTransport transport(env);
  auto c = ImdsCredentialsProvider(env, transport).credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, kCredentialsNotConfigured);
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(WebIdentityCredentials, CallsAssumeRoleWithWebIdentityUnsigned) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(
      200, std::string("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                       "<AssumeRoleWithWebIdentityResult><Credentials><SessionToken>") +
               kToken + "</SessionToken><SecretAccessKey>" + kSecret +
               "</SecretAccessKey><Expiration>2030-01-01T00:00:00Z</Expiration><AccessKeyId>ASIAWEB</AccessKeyId>"
               "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"));
  TempDir dir;
  auto env = isolated(dir);
  env.set("AWS_WEB_IDENTITY_TOKEN_FILE", dir.write("jwt", "eyJhbGciOi.jwt+token/x\n"));
  env.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/sweeper");
  env.set("AWS_ROLE_SESSION_NAME", "s1");
  env.set("AWS_REGION", "eu-west-1");
  env.set("AWS_ENDPOINT_URL_STS", server.url());
  CurlTransport transport(env);
  FakeClock clock;
  auto c = WebIdentityCredentialsProvider(env, transport, clock).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIAWEB");
  EXPECT_EQ(c->session_token.reveal(), kToken);
  ASSERT_TRUE(c->expiration);
  auto got = server.requests().at(0);
  EXPECT_EQ(got.method, "POST");
  EXPECT_FALSE(got.header("Authorization")) << "AssumeRoleWithWebIdentity is unsigned";
  EXPECT_EQ(got.body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fsweeper"
            "&RoleSessionName=s1&WebIdentityToken=eyJhbGciOi.jwt%2Btoken%2Fx");
}

TEST(WebIdentityCredentials, ReportsStsErrorCodeAndMessage) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                                  "<Message>Token &amp; audience mismatch</Message></Error>"
                                  "<RequestId>req-42</RequestId></ErrorResponse>"));
  TempDir dir;
  auto env = isolated(dir);
  env.set("AWS_WEB_IDENTITY_TOKEN_FILE", dir.write("jwt", "tok"));
  env.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r");
  env.set("AWS_ENDPOINT_URL_STS", server.url());
  CurlTransport transport(env);
  FakeClock clock;
  auto c = WebIdentityCredentialsProvider(env, transport, clock).credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "InvalidIdentityToken");
  EXPECT_EQ(c.error().message, "Token & audience mismatch");
  EXPECT_EQ(c.error().request_id, "req-42");
  EXPECT_EQ(c.error().http_status, 400);
}

TEST(DefaultChain, EnvironmentWinsOverSharedFilesUnlessAProfileIsChosen) {
  TempDir home;
  home.write(".aws/credentials", "[default]\naws_access_key_id=AKIDFILE\naws_secret_access_key=s\n"
                                 "[dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=s\n");
  auto env = isolated(home);
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", kSecret);
  Harness h(env);
  EXPECT_EQ(make_default_chain(h.ctx)->credentials().value().access_key_id, "AKIDENV");
  env.set("AWS_PROFILE", "dev");
  EXPECT_EQ(make_default_chain(h.ctx)->credentials().value().access_key_id, "AKIDENV")
      << "botocore keeps the environment source when the profile comes from AWS_PROFILE";
  h.ctx.profile = "dev";
  EXPECT_EQ(make_default_chain(h.ctx)->credentials().value().access_key_id, "AKIDDEV")
      << "botocore drops env keys for an explicit profile argument (--profile)";
}

TEST(DefaultChain, NothingFoundListsEverySourceTried) {
  TempDir home;
  auto env = isolated(home);
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(test::unused_local_port()));
  Harness h(env);
  auto c = make_default_chain(h.ctx)->credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "NoCredentials");
  for (const char* source : {"environment", "web identity", "shared files", "container", "instance metadata", "ConnectionError",
                             "AWS_ACCESS_KEY_ID", "profile default"})
    EXPECT_NE(c.error().message.find(source), std::string::npos) << source << " missing from: " << c.error().message;
}

TEST(DefaultChain, ContainerCredentialsServedByTestServerAreCachedUntilNearExpiry) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(200, creds_json("AKIDONE", "2030-01-01T01:00:00Z")));
  server.enqueue(test::reply(200, creds_json("AKIDTWO", "2030-01-01T02:00:00Z")));
  TempDir home;
  auto env = isolated(home);
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/creds"));
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok");
  Harness h(env, *parse_iso8601("2030-01-01T00:00:00Z"));
  FakeClock& clock = h.clock;
  CaptureSink sink;
  Logger logger(sink, clock, LogLevel::debug);
  h.ctx.logger = &logger;
  auto chain = make_default_chain(h.ctx);
  EXPECT_EQ(chain->credentials().value().access_key_id, "AKIDONE");
  clock.advance(44min);
  EXPECT_EQ(chain->credentials().value().access_key_id, "AKIDONE") << "16 min before expiry: still cached";
  EXPECT_EQ(server.request_count(), 1u);
  clock.advance(2min);
  EXPECT_EQ(chain->credentials().value().access_key_id, "AKIDTWO") << "14 min before expiry: advisory refresh";
  EXPECT_EQ(server.request_count(), 2u);
  for (const auto& line : sink.lines()) {
    EXPECT_EQ(line.find(kSecret), std::string::npos) << line;
    EXPECT_EQ(line.find(kToken), std::string::npos) << line;
  }
}

class FlakyProvider final : public CredentialsProvider {
 public:
  Result<sigv4::Credentials> credentials() override {
    ++calls;
    if (fail) return make_error("CredentialsError", "endpoint down");
    sigv4::Credentials c;
    c.access_key_id = "AKID" + std::to_string(calls);
    c.secret_access_key = Secret(kSecret);
    c.expiration = expiration;
    return c;
  }
  int calls = 0;
  bool fail = false;
  std::chrono::system_clock::time_point expiration;
};

TEST(CachingCredentials, KeepsCredentialsWhenAdvisoryRefreshFailsButNotInTheMandatoryWindow) {
  FakeClock clock(std::chrono::system_clock::time_point{} + 1000h);
  auto inner = std::make_unique<FlakyProvider>();
  FlakyProvider* flaky = inner.get();
  flaky->expiration = clock.now() + 30min;
  CachingCredentialsProvider cache(std::move(inner), clock);
  EXPECT_EQ(cache.credentials().value().access_key_id, "AKID1");
  clock.advance(14min);  // 16 min left: outside both windows
  EXPECT_EQ(cache.credentials().value().access_key_id, "AKID1");
  EXPECT_EQ(flaky->calls, 1);
  flaky->fail = true;
  clock.advance(3min);  // 13 min left: advisory window, the failure is swallowed
  EXPECT_EQ(cache.credentials().value().access_key_id, "AKID1");
  EXPECT_EQ(flaky->calls, 2);
  clock.advance(4min);  // 9 min left: mandatory window, botocore raises
  auto r = cache.credentials();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "endpoint down");
  flaky->fail = false;
  flaky->expiration = clock.now() - 1min;
  auto stale = cache.credentials();
  ASSERT_FALSE(stale) << "fresh credentials that are already expired are refused";
  EXPECT_NE(stale.error().message.find("already expired"), std::string::npos);
}

TEST(CachingCredentials, ManyThreadsInTheMandatoryWindowShareOneRefresh) {
  class SlowProvider final : public CredentialsProvider {
   public:
    explicit SlowProvider(const Clock& clock) : clock_(clock) {}
    Result<sigv4::Credentials> credentials() override {
      int n = ++calls;
      std::this_thread::sleep_for(20ms);  // long enough for the other threads to pile up on the refresh
      sigv4::Credentials c;
      c.access_key_id = "AKID" + std::to_string(n);
      c.secret_access_key = Secret(kSecret);
      c.expiration = clock_.now() + 1h;
      return c;
    }
    std::atomic<int> calls{0};

   private:
    const Clock& clock_;
  };
  FakeClock clock(std::chrono::system_clock::time_point{} + 1000h);
  auto inner = std::make_unique<SlowProvider>(clock);
  SlowProvider* slow = inner.get();
  CachingCredentialsProvider cache(std::move(inner), clock);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] { ok += cache.credentials().has_value() ? 1 : 0; });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(slow->calls.load(), 1) << "with nothing cached every caller waits for the one refresh";
}

TEST(Iso8601, ParsesTheFormsCredentialEndpointsUse) {
  auto base = parse_iso8601("2030-01-01T00:00:00Z");
  ASSERT_TRUE(base);
  EXPECT_EQ(parse_iso8601("2030-01-01T00:00:00.999Z"), base);
  EXPECT_EQ(parse_iso8601("2030-01-01T00:00:00+00:00"), base);
  EXPECT_FALSE(parse_iso8601("2030-13-01T00:00:00Z"));
  EXPECT_EQ(parse_iso8601("2030-01-01T02:00:00+02:00"), base) << "botocore (dateutil) accepts any offset";
  EXPECT_EQ(parse_iso8601("2029-12-31T19:00:00-0500"), base);
  EXPECT_EQ(parse_iso8601("2030-01-01T00:00:00UTC"), base) << "the AWS CLI v1 SSO cache's form";
  EXPECT_FALSE(parse_iso8601("2030-01-01T00:00:00+2:00"));
  EXPECT_FALSE(parse_iso8601("yesterday"));
}

}  // namespace
}  // namespace ecrs::aws
