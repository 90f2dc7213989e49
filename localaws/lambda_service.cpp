#include "world_services.hpp"

#include "ecrs/sigv4/signer.hpp"

namespace ecrs::localaws {
namespace {

constexpr std::string_view kPrefix = "/2015-03-31/functions";
constexpr const char* kContentType = "application/json";
constexpr int kDefaultMaxItems = 50;  // ListFunctions "returns up to 50 functions per call"

Json::Value configuration(const std::string& account, const std::string& region, const std::string& name,
                          const LambdaFunctionSpec& f, const std::string& version) {
  Json::Value c;
  c["FunctionName"] = name;
  c["FunctionArn"] = "arn:aws:lambda:" + region + ":" + account + ":function:" + name +
                     (version == "$LATEST" ? "" : ":" + version);
  c["Version"] = version;
  c["PackageType"] = f.package_type;
  return c;
}

template <typename F>
Json::Value paged(std::size_t total, const std::map<std::string, std::string>& q, const char* member, F item) {
  std::size_t start = 0;
  if (auto it = q.find("Marker"); it != q.end()) start = std::stoul(it->second);
  std::size_t max = kDefaultMaxItems;
  if (auto it = q.find("MaxItems"); it != q.end()) max = std::stoul(it->second);
  Json::Value out;
  out[member] = Json::Value(Json::arrayValue);
  std::size_t i = start;
  for (; i < total && i < start + max; ++i) out[member].append(item(i));
  if (i < total) out["NextMarker"] = std::to_string(i);
  return out;
}

}  // namespace

bool LambdaService::handle(const HttpRequest& req, const Responder& respond) {
  if (req.path.rfind(kPrefix, 0) != 0) return false;
  AuthFailure failure;
  auto account = principals_.authenticate(req, worlds_.region(), "lambda", clock_.now(), &failure);
  if (!account) {
    respond(json_error(403, failure.error_code, failure.message, kContentType));
    return true;
  }
  const auto q = parse_form(req.query);
  std::string rest = req.path.substr(kPrefix.size());
  if (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
  std::string name = sigv4::uri_decode(rest.substr(0, rest.find('/')));
  const std::string sub = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
  std::lock_guard lock(worlds_.mutex());
  World& world = worlds_.world(*account);
  const std::string& region = worlds_.region();
  if (req.method != "GET") {
    respond(json_error(400, "InvalidRequestContentException", "localaws: unsupported Lambda call", kContentType));
    return true;
  }
  if (name.empty()) {  // ListFunctions: $LATEST of each
    std::vector<std::pair<std::string, const LambdaFunctionSpec*>> all;
    for (const auto& [n, f] : world.functions) all.emplace_back(n, &f);
    respond(json_reply(200, paged(all.size(), q, "Functions", [&](std::size_t i) {
                         return configuration(*account, region, all[i].first, *all[i].second, "$LATEST");
                       }), kContentType));
    return true;
  }
  auto it = world.functions.find(name);
  if (it == world.functions.end()) {
    respond(json_error(404, "ResourceNotFoundException", "Function not found: " + name, kContentType));
    return true;
  }
  const LambdaFunctionSpec& f = it->second;
  if (sub == "versions") {
    respond(json_reply(200, paged(f.versions.size(), q, "Versions", [&](std::size_t i) {
                         return configuration(*account, region, name, f, f.versions[i].version);
                       }), kContentType));
  } else if (sub == "aliases") {
    std::vector<std::pair<std::string, std::string>> aliases(f.aliases.begin(), f.aliases.end());
    respond(json_reply(200, paged(aliases.size(), q, "Aliases", [&](std::size_t i) {
                         Json::Value a;
                         a["Name"] = aliases[i].first;
                         a["FunctionVersion"] = aliases[i].second;
                         a["AliasArn"] = "arn:aws:lambda:" + region + ":" + *account + ":function:" + name + ":" +
                                         aliases[i].first;
                         if (auto w = f.alias_weights.find(aliases[i].first); w != f.alias_weights.end()) {
                           for (const auto& [v, weight] : w->second)
                             a["RoutingConfig"]["AdditionalVersionWeights"][v] = weight;
                         }
                         return a;
                       }), kContentType));
  } else if (sub.empty()) {  // GetFunction
    std::string qualifier = "$LATEST";
    if (auto qi = q.find("Qualifier"); qi != q.end()) qualifier = qi->second;
    if (auto al = f.aliases.find(qualifier); al != f.aliases.end()) qualifier = al->second;
    for (const auto& v : f.versions) {
      if (v.version != qualifier) continue;
      Json::Value out;
      out["Configuration"] = configuration(*account, region, name, f, v.version);
      out["Code"]["RepositoryType"] = "ECR";
      out["Code"]["ImageUri"] = v.image_uri;
      out["Code"]["ResolvedImageUri"] = v.resolved_image_uri;
      respond(json_reply(200, out, kContentType));
      return true;
    }
    respond(json_error(404, "ResourceNotFoundException", "Function not found: " + name + ":" + qualifier,
                       kContentType));
  } else {
    respond(json_error(404, "ResourceNotFoundException", "localaws: unsupported Lambda path", kContentType));
  }
  return true;
}

}  // namespace ecrs::localaws
