// The aws-c-auth SigV4 suite as data: every case folder under testdata/aws-signing-test-suite/v4 is one
// parameterised test per signing mode (header, query), and each stage is checked on its own so a failure
// names it, as aws-c-auth's own runner does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ecrs/common/json.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::sigv4 {
namespace {

namespace fs = std::filesystem;

// The suite pinned in shared/testdata/aws-signing-test-suite/README.md has 38 cases; a moved or truncated
// directory must fail rather than pass with fewer.
constexpr std::size_t kExpectedCaseCount = 38;

fs::path suite_dir() {
  // gtest_discover_tests lists the cases at build time without the test environment, so the configured
  // path is the fallback; ctest runs get ECRS_SHARED_DIR.
  const char* shared = std::getenv("ECRS_SHARED_DIR");
  fs::path base = shared != nullptr && *shared != '\0' ? fs::path(shared) : fs::path(ECRS_DEFAULT_SHARED_DIR);
  return base / "testdata" / "aws-signing-test-suite" / "v4";
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(suite_dir(), ec)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// request.txt split into what the signer sees and what a signed request is rebuilt from.
struct RawRequest {
  std::string method, target, version;
  std::vector<std::string> header_lines;  // as in the file, continuation lines included
  std::string body;
  Request request;  // path/query split, obs-folds joined with a space (RFC 9112 5.2); body unset

  // Request::body is a view: bind it to this object's body only once the object stops moving.
  Request view() const {
    Request r = request;
    r.body = body;
    return r;
  }
};

std::optional<RawRequest> parse_request(const std::string& text) {
  RawRequest raw;
  std::string head;
  if (auto sep = text.find("\n\n"); sep != std::string::npos) {
    head = text.substr(0, sep);
    raw.body = text.substr(sep + 2);
  } else {
    head = text;
    while (!head.empty() && head.back() == '\n') head.pop_back();
  }
  std::vector<std::string> lines;
  std::istringstream in(head);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.empty()) return std::nullopt;
  const std::string& start = lines[0];
  auto first = start.find(' ');
  auto last = start.rfind(' ');
  if (first == std::string::npos || last == first) return std::nullopt;
  raw.method = start.substr(0, first);
  raw.target = start.substr(first + 1, last - first - 1);
  raw.version = start.substr(last + 1);
  raw.request.method = raw.method;
  auto q = raw.target.find('?');
  raw.request.path = raw.target.substr(0, q);
  raw.request.query = q == std::string::npos ? "" : raw.target.substr(q + 1);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    raw.header_lines.push_back(line);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (raw.request.headers.empty()) return std::nullopt;
      raw.request.headers.back().second += " " + line;
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) return std::nullopt;
    raw.request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return raw;
}

// HTTP field names are case-insensitive (RFC 9110 5.1) and the suite itself writes both X-Amz-Date and
// x-amz-content-sha256, so signed requests compare with header names lowercased.
std::string lowercase_header_names(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  bool in_head = true;
  bool first_line = true;
  std::string line;
  while (std::getline(in, line)) {
    if (!in.eof()) line += '\n';
    if (in_head && !first_line && line != "\n" && line[0] != ' ' && line[0] != '\t') {
      auto colon = line.find(':');
      for (std::size_t i = 0; i < colon && i < line.size(); ++i) {
        line[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i])));
      }
    }
    if (line == "\n") in_head = false;
    first_line = false;
    out += line;
  }
  return out;
}

std::string render_signed(const RawRequest& raw, const std::string& target, const std::vector<Header>& added) {
  std::string out = raw.method + " " + target + " " + raw.version + "\n";
  for (const auto& line : raw.header_lines) out += line + "\n";
  for (const auto& [name, value] : added) out += name + ":" + value + "\n";
  out += "\n" + raw.body;
  return out;
}

struct Case {
  RawRequest raw;
  Credentials creds;
  SigningParams params;
};

// Loads a case or records why it can't; a case that can't be read is a failure, never a skip.
std::optional<Case> load_case(const std::string& name) {
  const fs::path dir = suite_dir() / name;
  auto request_text = read_file(dir / "request.txt");
  auto context_text = read_file(dir / "context.json");
  if (!request_text || !context_text) {
    ADD_FAILURE() << name << ": request.txt or context.json unreadable in " << dir;
    return std::nullopt;
  }
  auto raw = parse_request(*request_text);
  if (!raw) {
    ADD_FAILURE() << name << ": request.txt is not an HTTP request";
    return std::nullopt;
  }
  auto ctx = parse_json(*context_text, name);
  if (!ctx) {
    ADD_FAILURE() << name << ": " << ctx.error().describe();
    return std::nullopt;
  }
  const Json::Value& c = (*ctx)["credentials"];
  auto akid = get_string(c, "access_key_id");
  auto secret = get_string(c, "secret_access_key");
  auto region = get_string(*ctx, "region");
  auto service = get_string(*ctx, "service");
  auto timestamp = get_string(*ctx, "timestamp");
  auto expires = get_int(*ctx, "expiration_in_seconds");
  if (!akid || !secret || !region || !service || !timestamp || !expires) {
    ADD_FAILURE() << name << ": context.json lacks credentials, region, service, timestamp or expiration";
    return std::nullopt;
  }
  // "2015-08-30T12:36:00Z" -> "20150830T123600Z"
  std::string compact;
  for (char ch : *timestamp) {
    if (ch != '-' && ch != ':') compact += ch;
  }
  auto when = parse_amz_date(compact);
  if (!when) {
    ADD_FAILURE() << name << ": bad timestamp " << *timestamp;
    return std::nullopt;
  }
  Case out{std::move(*raw), {}, {}};
  out.creds.access_key_id = *akid;
  out.creds.secret_access_key = Secret(*secret);
  out.creds.session_token = Secret(get_string(c, "token").value_or(""));
  out.params.region = *region;
  out.params.service = *service;
  out.params.time = *when;
  out.params.normalize_path = get_bool(*ctx, "normalize").value_or(true);
  out.params.sign_body = get_bool(*ctx, "sign_body").value_or(false);
  out.params.omit_session_token = get_bool(*ctx, "omit_session_token").value_or(false);
  out.params.expires = std::chrono::seconds(*expires);
  return out;
}

struct Expected {
  std::string canonical_request, string_to_sign, signature, signed_request;
};

std::optional<Expected> load_expected(const std::string& name, const std::string& mode) {
  const fs::path dir = suite_dir() / name;
  auto cr = read_file(dir / (mode + "-canonical-request.txt"));
  auto sts = read_file(dir / (mode + "-string-to-sign.txt"));
  auto sig = read_file(dir / (mode + "-signature.txt"));
  auto sr = read_file(dir / (mode + "-signed-request.txt"));
  if (!cr || !sts || !sig || !sr) {
    ADD_FAILURE() << name << ": missing one of the " << mode << "-*.txt files";
    return std::nullopt;
  }
  return Expected{*cr, *sts, *sig, *sr};
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

class AwsSigningSuite : public testing::TestWithParam<std::string> {};

TEST_P(AwsSigningSuite, HeaderSigningMatchesEveryStage) {
  auto c = load_case(GetParam());
  auto want = load_expected(GetParam(), "header");
  ASSERT_TRUE(c && want);
  Signer signer;
  auto got = signer.sign_headers(c->raw.view(), c->creds, c->params);
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(got->canonical_request, want->canonical_request) << "stage: canonical request";
  EXPECT_EQ(got->string_to_sign, want->string_to_sign) << "stage: string to sign";
  EXPECT_EQ(got->signature, want->signature) << "stage: signature";
  EXPECT_EQ(lowercase_header_names(render_signed(c->raw, c->raw.target, got->headers_to_add)),
            lowercase_header_names(want->signed_request))
      << "stage: signed request";
}

TEST_P(AwsSigningSuite, QuerySigningMatchesEveryStage) {
  auto c = load_case(GetParam());
  auto want = load_expected(GetParam(), "query");
  ASSERT_TRUE(c && want);
  Signer signer;
  auto got = signer.presign_query(c->raw.view(), c->creds, c->params);
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(got->canonical_request, want->canonical_request) << "stage: canonical request";
  EXPECT_EQ(got->string_to_sign, want->string_to_sign) << "stage: string to sign";
  EXPECT_EQ(got->signature, want->signature) << "stage: signature";
  EXPECT_TRUE(got->headers_to_add.empty()) << "query signing adds no headers";
  EXPECT_EQ(lowercase_header_names(render_signed(c->raw, c->raw.request.path + "?" + got->signed_query, {})),
            lowercase_header_names(want->signed_request))
      << "stage: signed request";
}

INSTANTIATE_TEST_SUITE_P(V4, AwsSigningSuite, testing::ValuesIn(case_names()), test_name);

TEST(AwsSigningSuiteInventory, FindsExactlyThirtyEightCases) {
  EXPECT_EQ(case_names().size(), kExpectedCaseCount) << "in " << suite_dir();
}

// The same Signer reused across cases must give what a fresh one gives: the cached signing key is keyed by
// day, region, service and access key, and checked against the secret.
TEST(AwsSigningSuiteInventory, OneSignerReusedAcrossAllCasesGivesTheSameSignatures) {
  Signer shared;
  std::size_t checked = 0;
  for (const auto& name : case_names()) {
    auto c = load_case(name);
    auto want = load_expected(name, "header");
    ASSERT_TRUE(c && want) << name;
    auto got = shared.sign_headers(c->raw.view(), c->creds, c->params);
    ASSERT_TRUE(got) << name;
    EXPECT_EQ(got->signature, want->signature) << name;
    ++checked;
  }
  EXPECT_EQ(checked, kExpectedCaseCount);
}

}  // namespace
}  // namespace ecrs::sigv4
