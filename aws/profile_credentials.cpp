// ProfileCredentialsProvider: botocore's AssumeRoleProvider and the profile providers (SSOProvider,
// SharedCredentialProvider, ProcessProvider, ConfigProvider) over one profile.
#include <algorithm>
#include <charconv>

#include "credential_util.hpp"
#include "ecrs/aws/assume_role.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/aws/retry.hpp"
#include "ecrs/aws/shared_config.hpp"
#include "ecrs/aws/sso.hpp"

namespace ecrs::aws {
namespace {
using detail::failed;
using detail::not_configured;

bool has_static_keys(const Profile& p) { return p.count("aws_access_key_id") != 0 || p.count("aws_secret_access_key") != 0; }

// botocore _has_assume_role_config_vars: role_arn without web_identity_token_file.
bool is_role_profile(const Profile& p) { return p.count("role_arn") != 0 && p.count("web_identity_token_file") == 0; }

std::optional<std::string> get(const Profile& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end()) return std::nullopt;
  return it->second;
}

class ProcessProvider final : public CredentialsProvider {
 public:
  ProcessProvider(std::string command, std::string profile) : command_(std::move(command)), profile_(std::move(profile)) {}
  Result<sigv4::Credentials> credentials() override { return detail::run_credential_process(command_, profile_); }
  std::string identity() const override { return "process:" + profile_; }

 private:
  std::string command_;
  std::string profile_;
};

// Static keys from one file's section (credentials file or config file); nullopt when it has none.
Result<std::optional<sigv4::Credentials>> static_keys(const ProfileMap& file, const std::string& profile,
                                                      const std::string& path) {
  using Found = std::optional<sigv4::Credentials>;
  auto it = file.find(profile);
  if (it == file.end() || !has_static_keys(it->second)) return Found();
  auto akid = get(it->second, "aws_access_key_id");
  auto secret = get(it->second, "aws_secret_access_key");
  if (!akid || !secret || akid->empty() || secret->empty())
    return failed("aws_access_key_id and aws_secret_access_key must both be set (in " + path + ")", "profile " + profile);
  sigv4::Credentials c;
  c.access_key_id = *akid;
  c.secret_access_key = Secret(*secret);
  if (auto token = get(it->second, "aws_session_token"); token && !token->empty()) c.session_token = Secret(*token);
  return Found(std::move(c));
}

class Resolver {
 public:
  Resolver(const CredentialContext& ctx, const SharedFiles& files) : ctx_(ctx), files_(files) {}

  // SSO, static keys of the credentials file, credential_process, static keys of the config file
  // (+ the profile's own web identity settings when it is a source profile). not_configured when none applies.
  Result<std::unique_ptr<CredentialsProvider>> files_stage(const std::string& profile, bool as_source) {
    Profile p = merged_profile(files_, profile);
    if (as_source && p.count("web_identity_token_file") != 0)
      return std::unique_ptr<CredentialsProvider>(cached(std::make_unique<WebIdentityCredentialsProvider>(
          ctx_.env, ctx_.transport, ctx_.clock, profile, false)));
    auto sso = sso_config_of(files_, profile);
    if (!sso) return sso.error();
    if (*sso) return cached(std::make_unique<SsoCredentialsProvider>(**sso, ctx_));
    auto from_credentials = static_keys(files_.credentials, profile, files_.credentials_path);
    if (!from_credentials) return from_credentials.error();
    if (*from_credentials) return std::unique_ptr<CredentialsProvider>(std::make_unique<StaticCredentialsProvider>(**from_credentials));
    if (auto process = get(p, "credential_process"); process && !process->empty())
      return cached(std::make_unique<ProcessProvider>(*process, profile));
    auto from_config = static_keys(files_.config, profile, files_.config_path);
    if (!from_config) return from_config.error();
    if (*from_config) return std::unique_ptr<CredentialsProvider>(std::make_unique<StaticCredentialsProvider>(**from_config));
    return not_configured("profile " + profile + " has no credentials in " + where());
  }

  Result<std::unique_ptr<CredentialsProvider>> role(const std::string& profile, std::vector<std::string> visited) {
    Profile p = merged_profile(files_, profile);
    const std::string origin = "profile " + profile;
    auto source_profile = get(p, "source_profile");
    auto credential_source = get(p, "credential_source");
    if (source_profile && credential_source)
      return failed("the profile sets both source_profile and credential_source; use one", origin);
    if (!source_profile && !credential_source)
      return failed("role_arn needs source_profile or credential_source", origin);

    AssumeRoleParams params;
    params.role_arn = p["role_arn"];
    params.origin = origin;
    params.role_session_name = get(p, "role_session_name").value_or("");
    params.external_id = get(p, "external_id");
    params.mfa_serial = get(p, "mfa_serial");
    if (auto d = get(p, "duration_seconds")) {
      // botocore passes duration_seconds only when it is an integer and ignores it otherwise.
      int v = 0;
      auto [ptr, ec] = std::from_chars(d->data(), d->data() + d->size(), v);
      if (ec == std::errc{} && ptr == d->data() + d->size()) params.duration_seconds = v;
    }
    if (params.mfa_serial)
      return failed("the role " + params.role_arn + " needs an MFA code (mfa_serial " + *params.mfa_serial +
                        ") and ecr-sweeper cannot prompt for one; export credentials that passed MFA (e.g. from "
                        "`aws sts get-session-token`) or use credential_process",
                    origin);

    std::shared_ptr<CredentialsProvider> source;
    if (credential_source) {
      source = make_named_source(*credential_source, ctx_);
      if (!source)
        return failed("credential_source \"" + *credential_source +
                          "\" is not valid; use Environment, Ec2InstanceMetadata or EcsContainer",
                      origin);
    } else {
      const std::string& name = *source_profile;
      if (!has_profile(files_, name))
        return failed("source_profile \"" + name + "\" does not exist in " + where(), origin);
      Profile sp = merged_profile(files_, name);
      // botocore _validate_source_profile: a profile may name itself only to use its own static keys.
      if (std::find(visited.begin(), visited.end(), name) != visited.end() && (name != profile || !has_static_keys(sp))) {
        std::string loop;
        for (const auto& v : visited) loop += v + " -> ";
        return failed("source_profile loop: " + loop + name, origin);
      }
      visited.push_back(name);
      if (has_static_keys(sp) || !is_role_profile(sp)) {
        auto inner = files_stage(name, true);
        if (!inner) {
          if (inner.error().code == kCredentialsNotConfigured)
            return failed("the source profile \"" + name + "\" must have credentials", origin);
          return inner.error();
        }
        source = std::move(*inner);
      } else {
        auto inner = role(name, visited);
        if (!inner) return inner.error();
        source = std::move(*inner);
      }
    }

    auto config = ConfigView::load(ctx_.env, ctx_.profile);
    if (!config) return config.error();
    // STS regional endpoints (botocore's default since 1.36): the session's region, else us-east-1.
    auto region = resolve_region(ctx_.region, *config);
    auto endpoint = resolve_endpoint(kSts, region ? *region : "us-east-1", *config);
    if (!endpoint) return endpoint.error();
    auto retry = resolve_retry_config(*config);
    if (!retry) return retry.error();
    return std::unique_ptr<CredentialsProvider>(std::make_unique<AssumeRoleProvider>(
        std::move(source), *endpoint, std::move(params), ctx_, retry->max_attempts));
  }

  std::string where() const {
    return (files_.credentials_path.empty() ? "~/.aws/credentials" : files_.credentials_path) + ", " +
           (files_.config_path.empty() ? "~/.aws/config" : files_.config_path);
  }

 private:
  std::unique_ptr<CredentialsProvider> cached(std::unique_ptr<CredentialsProvider> inner) {
    return std::make_unique<CachingCredentialsProvider>(std::move(inner), ctx_.clock, ctx_.logger);
  }
  const CredentialContext& ctx_;
  const SharedFiles& files_;
};

}  // namespace

struct ProfileCredentialsProvider::Impl {
  Impl(const CredentialContext& c, Stage s, std::optional<std::string> p) : ctx(c), stage(s), profile(std::move(p)) {}
  CredentialContext ctx;
  Stage stage;
  std::optional<std::string> profile;
  std::mutex mu;
  std::unique_ptr<CredentialsProvider> resolved;
};

ProfileCredentialsProvider::ProfileCredentialsProvider(const CredentialContext& ctx, Stage stage,
                                                       std::optional<std::string> profile)
    : impl_(std::make_unique<Impl>(ctx, stage, std::move(profile))) {}

ProfileCredentialsProvider::~ProfileCredentialsProvider() = default;

std::string ProfileCredentialsProvider::identity() const {
  return "profile:" + (impl_->profile ? *impl_->profile : active_profile(impl_->ctx.env, impl_->ctx.profile));
}

Result<sigv4::Credentials> ProfileCredentialsProvider::credentials() {
  std::lock_guard lock(impl_->mu);
  if (impl_->resolved) return impl_->resolved->credentials();
  const CredentialContext& ctx = impl_->ctx;
  auto files = load_shared_files(ctx.env);
  if (!files) return files.error();
  const std::string profile = impl_->profile ? *impl_->profile : active_profile(ctx.env, ctx.profile);
  Resolver resolver(ctx, *files);
  if (!has_profile(*files, profile)) {
    std::string why = "profile " + profile + " not found in " + resolver.where();
    // A chosen profile that doesn't exist is a mistake to report, not a reason to try instance metadata.
    const bool chosen = impl_->profile || (ctx.profile && !ctx.profile->empty()) || profile_explicitly_set(ctx.env);
    if (chosen) return failed(why, "shared files");
    return not_configured(why);
  }
  const Profile p = merged_profile(*files, profile);
  Result<std::unique_ptr<CredentialsProvider>> built = not_configured("profile " + profile + " has no role_arn");
  if (impl_->stage != Stage::files && is_role_profile(p)) built = resolver.role(profile, {profile});
  else if (impl_->stage != Stage::assume_role) built = resolver.files_stage(profile, impl_->stage == Stage::all);
  if (!built) return built.error();
  impl_->resolved = std::move(*built);
  return impl_->resolved->credentials();
}

}  // namespace ecrs::aws
