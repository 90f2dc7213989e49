// Cross-check against an independent signer: botocore 1.43 (the pyenv python3 on PATH) signs the same
// awsJson1.1 ECR requests at a frozen time, and the C++ signer must agree byte for byte on the canonical
// request, the string to sign and the Authorization header. Then requests signed by botocore, with the
// headers botocore adds after signing, must pass our verifier.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "ecrs/common/json.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::sigv4 {
namespace {

namespace fs = std::filesystem;

// Fixed inputs: the AWS documentation's example keys (not secret) and the peers sheet's instant.
constexpr std::string_view kAccessKeyId = "AKIDEXAMPLE";
constexpr std::string_view kSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kSessionToken = "FQoGZXIvYXdzEXAMPLETOKEN";
constexpr std::string_view kAmzDate = "20240101T000000Z";
// Known answer, independent of python: shared/docs/peers-on-this-machine.md section 6 (botocore 1.29 and
// 1.43 and @smithy agree) for ListImages {"repositoryName":"my-repo"} with the token above.
constexpr std::string_view kKnownListImagesSignature =
    "b6a6d548953a62a95cd7ff55b2e1ddd089a9c04e65d53300d6d2c176a9603439";
constexpr std::string_view kEcrTargetPrefix = "AmazonEC2ContainerRegistry_V20150921.";
constexpr std::string_view kJson11 = "application/x-amz-json-1.1";

struct EcrCase {
  std::string name;
  std::string scheme;
  std::string host;  // as botocore derives it from the URL: port kept unless default
  std::string operation;
  std::string body;
  bool with_token;
  std::vector<Header> extra_headers;  // sent before signing
};

// gtest prints a parameter that fails; the name is what a reader needs, not 192 bytes of struct.
void PrintTo(const EcrCase& c, std::ostream* os) { *os << c.name; }

std::vector<EcrCase> ecr_cases() {
  return {
      {"list_images_with_token", "https", "api.ecr.us-east-1.amazonaws.com", "ListImages",
       R"({"repositoryName":"my-repo"})", true, {}},
      {"list_images_without_token", "https", "api.ecr.us-east-1.amazonaws.com", "ListImages",
       R"({"repositoryName":"my-repo","maxResults":1000,"nextToken":"abc/def+ghi=="})", false, {}},
      {"batch_delete_image_unicode_body", "https", "api.ecr.eu-west-1.amazonaws.com", "BatchDeleteImage",
       "{\"repositoryName\":\"r\xc3\xa9po-\xc3\xbc\",\"imageIds\":[{\"imageTag\":\"\xe6\xa0\x87\xe7\xad\xbe-"
       "\xe2\x9c\x93\"},{\"imageDigest\":\"sha256:0123\"}]}",
       true, {}},
      {"list_images_empty_body", "https", "api.ecr.us-east-1.amazonaws.com", "ListImages", "", true, {}},
      {"list_images_host_with_port", "http", "127.0.0.1:4566", "ListImages", R"({"repositoryName":"web"})",
       true, {}},
      // botocore never signs these (SIGNED_HEADERS_BLACKLIST); neither may we.
      {"list_images_with_unsigned_headers", "https", "api.ecr.us-east-1.amazonaws.com", "ListImages",
       R"({"repositoryName":"my-repo"})", false,
       {{"User-Agent", "ecr-sweeper/0.1"}, {"X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793"},
        {"Expect", "100-continue"}, {"Connection", "keep-alive"}}},
  };
}

std::string region_of(const EcrCase& c) {
  // api.ecr.<region>.amazonaws.com; the loopback emulator signs as us-east-1.
  const std::string prefix = "api.ecr.";
  if (c.host.rfind(prefix, 0) != 0) return "us-east-1";
  return c.host.substr(prefix.size(), c.host.find('.', prefix.size()) - prefix.size());
}

std::vector<Header> headers_of(const EcrCase& c) {
  std::vector<Header> h = {{"X-Amz-Target", std::string(kEcrTargetPrefix) + c.operation},
                           {"Content-Type", std::string(kJson11)}};
  h.insert(h.end(), c.extra_headers.begin(), c.extra_headers.end());
  return h;
}

Credentials creds_of(const EcrCase& c) {
  Credentials cr;
  cr.access_key_id = std::string(kAccessKeyId);
  cr.secret_access_key = Secret(std::string(kSecretKey));
  if (c.with_token) cr.session_token = Secret(std::string(kSessionToken));
  return cr;
}

Request request_of(const EcrCase& c) {
  Request r;
  r.method = "POST";
  r.path = "/";
  r.headers = headers_of(c);
  r.headers.emplace_back("Host", c.host);
  r.body = c.body;
  return r;
}

SigningParams params_of(const EcrCase& c) {
  SigningParams p;
  p.region = region_of(c);
  p.service = "ecr";
  p.time = *parse_amz_date(kAmzDate);
  return p;
}

fs::path script_path() {
  const char* src = std::getenv("ECRS_SOURCE_DIR");
  fs::path base = src != nullptr && *src != '\0' ? fs::path(src) : fs::path(ECRS_DEFAULT_SOURCE_DIR);
  return base / "tests" / "sigv4" / "botocore_sign.py";
}

// popen/pclose with an owner, so an early ASSERT cannot leak the pipe.
class Pipe {
 public:
  explicit Pipe(const std::string& cmd) : f_(popen(cmd.c_str(), "r")) {}
  ~Pipe() {
    if (f_ != nullptr) pclose(f_);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return f_ != nullptr; }
  std::string read_all() {
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, f_)) > 0;) out.append(buf, n);
    return out;
  }
  int close() {
    int status = pclose(f_);
    f_ = nullptr;
    return status;
  }

 private:
  FILE* f_;
};

struct BotocoreResult {
  std::string authorization, canonical_request, string_to_sign;
  std::map<std::string, std::string> headers;  // as botocore left them after signing
};

// Runs botocore once for every case. Returns the results, or why it could not: a missing python3 or
// botocore is a failure with a clear message, never a skip.
Result<std::map<std::string, BotocoreResult>> run_botocore() {
  Json::Value cases(Json::arrayValue);
  for (const auto& c : ecr_cases()) {
    Json::Value j;
    j["name"] = c.name;
    j["method"] = "POST";
    j["url"] = c.scheme + "://" + c.host + "/";
    Json::Value hs(Json::arrayValue);
    for (const auto& [n, v] : headers_of(c)) {
      Json::Value pair(Json::arrayValue);
      pair.append(n);
      pair.append(v);
      hs.append(pair);
    }
    j["headers"] = hs;
    j["body_hex"] = hex_encode(c.body);  // hex keeps the UTF-8 bytes exact across the language boundary
    j["access_key_id"] = std::string(kAccessKeyId);
    j["secret_access_key"] = std::string(kSecretKey);
    j["session_token"] = c.with_token ? Json::Value(std::string(kSessionToken)) : Json::Value();
    j["region"] = region_of(c);
    j["service"] = "ecr";
    j["amz_date"] = std::string(kAmzDate);
    cases.append(j);
  }
  const fs::path case_file =
      fs::temp_directory_path() / ("ecrs_sigv4_botocore_cases_" + std::to_string(getpid()) + ".json");
  {
    std::ofstream out(case_file, std::ios::binary);
    out << to_compact_json(cases);
    if (!out) return make_error("TestSetup", "cannot write " + case_file.string());
  }
  const fs::path script = script_path();
  if (!fs::exists(script)) return make_error("TestSetup", "missing " + script.string());
  Pipe pipe("python3 '" + script.string() + "' '" + case_file.string() + "'");
  if (!pipe.ok()) return make_error("TestSetup", "popen failed");
  std::string output = pipe.read_all();
  int status = pipe.close();
  fs::remove(case_file);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
    return make_error("PeerMissing", "python3 is not on PATH; the botocore cross-check needs the pyenv python3 "
                                     "with botocore 1.43 (see shared/docs/peers-on-this-machine.md)");
  }
  if (WEXITSTATUS(status) == 2) {
    return make_error("PeerMissing", "python3 on PATH cannot import botocore (pip install botocore, or put the "
                                     "pyenv python3 first on PATH)");
  }
  if (WEXITSTATUS(status) != 0) {
    return make_error("PeerFailed", "botocore_sign.py exited with " + std::to_string(WEXITSTATUS(status)));
  }
  auto doc = parse_json(output, "botocore_sign.py output");
  if (!doc) return doc.error();
  std::map<std::string, BotocoreResult> out;
  for (const auto& name : doc->getMemberNames()) {
    const Json::Value& r = (*doc)[name];
    BotocoreResult b;
    b.authorization = get_string(r, "authorization").value_or("");
    b.canonical_request = get_string(r, "canonical_request").value_or("");
    b.string_to_sign = get_string(r, "string_to_sign").value_or("");
    for (const auto& h : r["headers"].getMemberNames()) b.headers[h] = r["headers"][h].asString();
    out[name] = std::move(b);
  }
  return out;
}

class BotocoreCrossCheck : public testing::TestWithParam<EcrCase> {
 protected:
  static void SetUpTestSuite() { results_ = new Result<std::map<std::string, BotocoreResult>>(run_botocore()); }
  static void TearDownTestSuite() {
    delete results_;
    results_ = nullptr;
  }
  static const BotocoreResult* result_for(const std::string& name) {
    if (!*results_) {
      ADD_FAILURE() << results_->error().describe();
      return nullptr;
    }
    auto it = (*results_)->find(name);
    if (it == (*results_)->end()) {
      ADD_FAILURE() << "botocore returned no result for " << name;
      return nullptr;
    }
    return &it->second;
  }
  static Result<std::map<std::string, BotocoreResult>>* results_;
};
Result<std::map<std::string, BotocoreResult>>* BotocoreCrossCheck::results_ = nullptr;

std::string authorization_of(const SigningResult& r) {
  for (const auto& [n, v] : r.headers_to_add) {
    if (n == "Authorization") return v;
  }
  return {};
}

TEST_P(BotocoreCrossCheck, AgreesOnCanonicalRequestStringToSignAndAuthorization) {
  const EcrCase& c = GetParam();
  const BotocoreResult* b = result_for(c.name);
  ASSERT_NE(b, nullptr);
  Signer signer;
  auto ours = signer.sign_headers(request_of(c), creds_of(c), params_of(c));
  ASSERT_TRUE(ours) << ours.error().describe();
  EXPECT_EQ(ours->canonical_request, b->canonical_request) << "stage: canonical request";
  EXPECT_EQ(ours->string_to_sign, b->string_to_sign) << "stage: string to sign";
  EXPECT_EQ(authorization_of(*ours), b->authorization) << "stage: Authorization header";
}

TEST_P(BotocoreCrossCheck, VerifiesBotocoreSignedRequestWithHeadersAddedAfterSigning) {
  const EcrCase& c = GetParam();
  const BotocoreResult* b = result_for(c.name);
  ASSERT_NE(b, nullptr);
  Request received = request_of(c);
  received.headers.clear();
  for (const auto& [n, v] : b->headers) received.headers.emplace_back(n, v);
  received.headers.emplace_back("Host", c.host);
  received.headers.emplace_back("Authorization", b->authorization);
  // botocore's endpoint adds these after the request is signed; a verifier must ignore unsigned headers.
  received.headers.emplace_back("amz-sdk-invocation-id", "5c5c7d3c-0a4f-4a0e-9b43-2b1c1f9b2d61");
  received.headers.emplace_back("amz-sdk-request", "attempt=1; max=3");
  received.headers.emplace_back("Content-Length", std::to_string(c.body.size()));

  auto auth = parse_authorization(b->authorization);
  ASSERT_TRUE(auth) << auth.error().describe();
  EXPECT_EQ(auth->access_key_id, kAccessKeyId);
  EXPECT_EQ(auth->service, "ecr");
  auto verified = verify_request(received, *auth, Secret(std::string(kSecretKey)));
  EXPECT_TRUE(verified) << verified.error().describe();
}

INSTANTIATE_TEST_SUITE_P(Ecr, BotocoreCrossCheck, testing::ValuesIn(ecr_cases()),
                         [](const testing::TestParamInfo<EcrCase>& info) { return info.param.name; });

TEST(BotocoreKnownAnswer, EcrListImagesWithSessionTokenMatchesThePeersSheet) {
  const EcrCase c = ecr_cases().front();
  ASSERT_EQ(c.name, "list_images_with_token");
  Signer signer;
  auto r = signer.sign_headers(request_of(c), creds_of(c), params_of(c));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->signature, kKnownListImagesSignature);
}

}  // namespace
}  // namespace ecrs::sigv4
