// Assume-role and SSO profiles through the default chain, against localaws's STS (SigV4 checked) and SSO portal.
#include <gtest/gtest.h>

#include "ecrs/aws/assume_role.hpp"
#include "ecrs/aws/sso.hpp"
#include "fixture.hpp"

namespace ecrs::aws {
namespace {
using namespace std::chrono_literals;
using test::Effects;
using test::TempHome;

constexpr const char* kRole = "arn:aws:iam::210987654321:role/cleaner";

class ProfileChain : public ::testing::Test {
 protected:
  Result<sigv4::Credentials> resolve(std::optional<std::string> profile = std::nullopt) {
    fx_.ctx.profile = std::move(profile);
    return make_default_chain(fx_.ctx)->credentials();
  }
  void config(const std::string& text) { home_.write(".aws/config", text); }
  void register_sso_token(const std::string& token, int expires_in) {
    CurlTransport t(env_);
    auto r = t.send({"POST", aws_.endpoint() + "/_localaws/sso/token", {{"Content-Type", "application/json"}},
                     "{\"access_token\":\"" + token + "\",\"expires_in\":" + std::to_string(expires_in) + "}"});
    ASSERT_TRUE(r && r->status == 200);
  }

  test::RunningLocalAws local_;
  localaws::LocalAws& aws_ = local_.aws;
  TempHome home_;
  MapEnvironment env_ = test::isolated_env(home_, aws_.endpoint());
  Effects fx_{env_};
};

TEST_F(ProfileChain, RoleFromSourceProfileChainsTwoRolesWithLocalAwsCheckingEverySignature) {
  config(std::string("[profile base]\naws_access_key_id = test\naws_secret_access_key = test\n"
                     "[profile hop]\nrole_arn = arn:aws:iam::111111111111:role/hop\nsource_profile = base\n"
                     "[profile target]\nrole_arn = ") + kRole + "\nsource_profile = hop\nrole_session_name = me\n");
  auto c = resolve("target");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_TRUE(c->access_key_id.starts_with("ASIALOCALAWS")) << c->access_key_id;
  EXPECT_FALSE(c->session_token.empty());
  ASSERT_TRUE(c->expiration);
}

TEST_F(ProfileChain, AwsProfileVariableKeepsEnvironmentKeysFirstAsBotocore) {
  config(std::string("[profile target]\nrole_arn = ") + kRole + "\nsource_profile = target\n");
  env_.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.set("AWS_SECRET_ACCESS_KEY", "s");
  env_.set("AWS_PROFILE", "target");
  auto c = resolve();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDENV");
}

TEST_F(ProfileChain, CredentialSourceEnvironmentSignsAssumeRoleWithTheEnvironmentKeys) {
  config(std::string("[default]\nrole_arn = ") + kRole + "\ncredential_source = Environment\n");
  env_.set("AWS_ACCESS_KEY_ID", "test");
  env_.set("AWS_SECRET_ACCESS_KEY", "test");
  auto c = resolve("default");  // explicit: the environment source itself is dropped, the role still uses it
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_TRUE(c->access_key_id.starts_with("ASIALOCALAWS")) << c->access_key_id;
}

TEST_F(ProfileChain, ProfileMistakesAreClearErrorsNotFallThroughs) {
  struct Case {
    const char* name;
    std::string config;
    const char* expected;
  };
  const std::string role = std::string("role_arn = ") + kRole + "\n";
  const std::vector<Case> cases = {
      {"loop", "[profile a]\n" + role + "source_profile = b\n[profile b]\n" + role + "source_profile = a\n",
       "source_profile loop: a -> b -> a"},
      {"self without keys", "[profile a]\n" + role + "source_profile = a\n", "source_profile loop: a -> a"},
      {"both sources", "[profile a]\n" + role + "source_profile = b\ncredential_source = Environment\n[profile b]\n",
       "both source_profile and credential_source"},
      {"no source", "[profile a]\n" + role, "needs source_profile or credential_source"},
      {"missing source", "[profile a]\n" + role + "source_profile = nope\n", "source_profile \"nope\" does not exist"},
      {"bad credential_source", "[profile a]\n" + role + "credential_source = Laptop\n",
       "credential_source \"Laptop\" is not valid"},
      {"mfa", "[profile a]\n" + role + "source_profile = k\nmfa_serial = arn:aws:iam::1:mfa/me\n"
              "[profile k]\naws_access_key_id = test\naws_secret_access_key = test\n",
       "cannot prompt"},
      {"source without credentials", "[profile a]\n" + role + "source_profile = empty\n[profile empty]\nregion = us-east-1\n",
       "source profile \"empty\" must have credentials"},
      {"environment source empty", "[profile a]\n" + role + "credential_source = Environment\n",
       "source credentials are not available"},
  };
  for (const auto& c : cases) {
    config(c.config);
    auto r = resolve("a");
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, "CredentialsError") << c.name << ": " << r.error().describe();
    EXPECT_NE(r.error().describe().find(c.expected), std::string::npos) << c.name << ": " << r.error().describe();
  }
}

TEST_F(ProfileChain, SelfReferencingProfileUsesItsOwnKeysAsTheSource) {
  config(std::string("[profile a]\naws_access_key_id = test\naws_secret_access_key = test\nrole_arn = ") + kRole +
         "\nsource_profile = a\n");
  auto c = resolve("a");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_TRUE(c->access_key_id.starts_with("ASIALOCALAWS")) << "the role wins over the static keys";
}

TEST_F(ProfileChain, SsoSessionProfileExchangesTheCachedTokenAtThePortal) {
  config("[profile dev]\nsso_session = corp\nsso_account_id = 210987654321\nsso_role_name = Admin\n"
         "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n");
  SsoConfig cfg{"dev", "https://corp.awsapps.com/start", "us-east-1", "210987654321", "Admin", std::string("corp")};
  const std::string path = sso_token_cache_path(env_, cfg);
  EXPECT_EQ(path, home_.path() + "/.aws/sso/cache/" + "ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
      << "sha1(\"corp\"), as botocore's SSOTokenLoader names it";
  register_sso_token("portal-token", 3600);
  home_.write(".aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json",
              R"({"accessToken":"portal-token","expiresAt":"2099-01-01T00:00:00Z"})");
  auto c = resolve("dev");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_TRUE(c->access_key_id.starts_with("ASIALOCALAWS")) << c->access_key_id;
  ASSERT_TRUE(c->expiration);
}

TEST_F(ProfileChain, ExpiredOrRevokedSsoTokenTellsTheUserToLogIn) {
  config("[profile legacy]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
         "sso_account_id = 210987654321\nsso_role_name = Admin\n");
  SsoConfig cfg{"legacy", "https://corp.awsapps.com/start", "us-east-1", "210987654321", "Admin", std::nullopt};
  const std::string rel = sso_token_cache_path(env_, cfg).substr(home_.path().size() + 1);
  auto missing = resolve("legacy");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("aws sso login --profile legacy"), std::string::npos) << missing.error().message;

  home_.write(rel, R"({"accessToken":"old","expiresAt":"2001-01-01T00:00:00Z"})");
  auto expired = resolve("legacy");
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos) << expired.error().message;
  EXPECT_NE(expired.error().message.find("aws sso login"), std::string::npos);

  home_.write(rel, R"({"accessToken":"never-registered","expiresAt":"2099-01-01T00:00:00Z"})");
  auto refused = resolve("legacy");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().http_status, 401);
  EXPECT_NE(refused.error().message.find("aws sso login"), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().describe().find("never-registered"), std::string::npos) << "the token is never quoted";

  register_sso_token("fresh", 3600);
  home_.write(rel, R"({"accessToken":"fresh","expiresAt":"2099-01-01T00:00:00UTC"})");
  auto ok = resolve("legacy");
  ASSERT_TRUE(ok) << ok.error().describe();
}

TEST(SsoConfig, SessionAndProfileMustAgreeAndNameEveryMissingKey) {
  auto parse = [](const std::string& text) {
    SharedFiles f;
    ConfigFile c = parse_config_file(text);
    f.config = c.profiles;
    f.sso_sessions = c.sso_sessions;
    return f;
  };
  auto conflict = sso_config_of(parse("[profile p]\nsso_session = s\nsso_region = eu-west-1\nsso_role_name = R\n"
                                      "sso_account_id = 1\n[sso-session s]\nsso_region = us-east-1\nsso_start_url = u\n"),
                                "p");
  ASSERT_FALSE(conflict);
  EXPECT_NE(conflict.error().message.find("sso_region"), std::string::npos);
  auto missing = sso_config_of(parse("[profile p]\nsso_role_name = R\n"), "p");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("sso_account_id, sso_start_url, sso_region"), std::string::npos)
      << missing.error().message;
  auto none = sso_config_of(parse("[profile p]\nregion = us-east-1\n"), "p");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

}  // namespace
}  // namespace ecrs::aws
