#include "aws_protocols.hpp"

#include "ecrs/common/json.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::localaws {

Principals::Principals(std::string account, std::string access_key_id, Secret secret, Secret token) {
  by_key_[access_key_id] = Entry{std::move(account), std::move(secret), std::move(token)};
}

std::optional<std::string> Principals::authenticate(const HttpRequest& req, const std::string& region,
                                                    const std::string& service,
                                                    std::chrono::system_clock::time_point now,
                                                    AuthFailure* failure) const {
  const std::string auth = req.header("Authorization");
  const auto cred = auth.find("Credential=");
  std::string key;
  if (cred != std::string::npos) key = auth.substr(cred + 11, auth.find('/', cred) - cred - 11);
  Entry entry;
  {
    std::lock_guard lock(mu_);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
      if (failure) *failure = {"UnrecognizedClientException", "The security token included in the request is invalid."};
      return std::nullopt;
    }
    entry = it->second;
  }
  VerifierOptions opts{key, entry.secret, entry.token, region, service};
  if (auto denied = verify_sigv4(req, opts, now)) {
    if (failure) *failure = *denied;
    return std::nullopt;
  }
  return entry.account;
}

Principals::Issued Principals::issue(const std::string& account) {
  std::lock_guard lock(mu_);
  ++counter_;
  Issued out;
  out.access_key_id = "ASIALOCALAWS" + std::to_string(100000 + counter_);
  out.secret_access_key = "localaws-secret-" + std::to_string(counter_);
  out.session_token = "localaws-session-token-" + std::to_string(counter_);
  by_key_[out.access_key_id] = Entry{account, Secret(out.secret_access_key), Secret(out.session_token)};
  return out;
}

HttpResponse json_reply(int status, const Json::Value& body, const char* content_type) {
  HttpResponse res;
  res.status = status;
  res.headers.emplace_back("Content-Type", content_type);
  res.body = to_compact_json(body);
  return res;
}

HttpResponse json_error(int status, const std::string& code, const std::string& message, const char* content_type) {
  Json::Value body;
  body["__type"] = code;
  body["message"] = message;
  HttpResponse res = json_reply(status, body, content_type);
  res.headers.emplace_back("x-amzn-ErrorType", code);
  return res;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

HttpResponse query_error(int status, const std::string& code, const std::string& message) {
  HttpResponse res;
  res.status = status;
  res.headers.emplace_back("Content-Type", "text/xml");
  res.body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>" +
             xml_escape(code) + "</Code><Message>" + xml_escape(message) +
             "</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>";
  return res;
}

std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    auto amp = body.find('&', pos);
    if (amp == std::string::npos) amp = body.size();
    std::string pair = body.substr(pos, amp - pos);
    for (char& c : pair) {
      if (c == '+') c = ' ';
    }
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      out[sigv4::uri_decode(pair.substr(0, eq))] =
          eq == std::string::npos ? std::string() : sigv4::uri_decode(pair.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return out;
}

}  // namespace ecrs::localaws

namespace ecrs::localaws {
std::string signing_service_of(const HttpRequest& req) {
  // Credential=AKID/yyyymmdd/region/service/aws4_request
  const std::string auth = req.header("Authorization");
  auto pos = auth.find("Credential=");
  if (pos == std::string::npos) return "";
  for (int i = 0; i < 3; ++i) {
    pos = auth.find('/', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  const auto end = auth.find('/', pos);
  return end == std::string::npos ? "" : auth.substr(pos, end - pos);
}
}  // namespace ecrs::localaws
