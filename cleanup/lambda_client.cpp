#include "ecrs/cleanup/lambda_client.hpp"

#include "ecrs/cleanup/decode.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::cleanup {

using detail::array_member;
using detail::opt_string;

namespace {

constexpr const char* kFunctionsPath = "/2015-03-31/functions";

std::string query(const std::optional<std::string>& marker) {
  std::string q = "?MaxItems=" + std::to_string(kMaxLambdaItems);
  if (marker) q += "&Marker=" + sigv4::uri_encode(*marker, false);
  return q;
}

Result<LambdaFunction> decode_function(const Json::Value& f) {
  LambdaFunction out;
  ECRS_CLEANUP_TRY(name, opt_string(f, "FunctionName", "FunctionConfiguration"));
  ECRS_CLEANUP_TRY(arn, opt_string(f, "FunctionArn", "FunctionConfiguration"));
  ECRS_CLEANUP_TRY(version, opt_string(f, "Version", "FunctionConfiguration"));
  ECRS_CLEANUP_TRY(type, opt_string(f, "PackageType", "FunctionConfiguration"));
  out.function_name = name;
  out.function_arn = arn;
  out.version = version;
  out.package_type = type;
  return out;
}

}  // namespace

Result<LambdaPage<LambdaFunction>> decode_function_list(const Json::Value& body, const char* member) {
  LambdaPage<LambdaFunction> page;
  ECRS_CLEANUP_TRY(items, array_member(body, member, "ListFunctionsResponse"));
  for (const auto& f : items) {
    ECRS_CLEANUP_TRY(fn, decode_function(f));
    page.items.push_back(std::move(fn));
  }
  ECRS_CLEANUP_TRY(marker, opt_string(body, "NextMarker", "ListFunctionsResponse"));
  if (!marker.empty()) page.next_marker = marker;
  return page;
}

Result<LambdaFunctionCode> decode_get_function(const Json::Value& body) {
  LambdaFunctionCode out;
  ECRS_CLEANUP_TRY(config, decode_function(body["Configuration"]));
  out.configuration = std::move(config);
  ECRS_CLEANUP_TRY(uri, opt_string(body["Code"], "ImageUri", "FunctionCodeLocation"));
  ECRS_CLEANUP_TRY(resolved, opt_string(body["Code"], "ResolvedImageUri", "FunctionCodeLocation"));
  out.image_uri = uri;
  out.resolved_image_uri = resolved;
  return out;
}

Result<Json::Value> LambdaClient::get(const std::string& path, const char* operation, const std::string& subject) {
  ECRS_CLEANUP_TRY(res, call_with(policy_, subject, [&](const aws::CallOptions& options) {
                     return aws_->rest_call("GET", path, "", {}, options, operation);
                   }));
  if (res.body.empty()) return Json::Value(Json::objectValue);
  auto parsed = parse_json(res.body, operation);
  if (!parsed) return parsed.error();
  return std::move(*parsed);
}

Result<LambdaPage<LambdaFunction>> LambdaClient::list_functions(const std::optional<std::string>& marker) {
  ECRS_CLEANUP_TRY(body, get(std::string(kFunctionsPath) + query(marker), "ListFunctions", ""));
  return decode_function_list(body, "Functions");
}

Result<LambdaPage<LambdaFunction>> LambdaClient::list_versions_by_function(const std::string& function_name,
                                                                          const std::optional<std::string>& marker) {
  ECRS_CLEANUP_TRY(body, get(std::string(kFunctionsPath) + "/" + sigv4::uri_encode(function_name, false) +
                                 "/versions" + query(marker),
                             "ListVersionsByFunction", "function=" + function_name));
  return decode_function_list(body, "Versions");
}

Result<LambdaPage<LambdaAlias>> LambdaClient::list_aliases(const std::string& function_name,
                                                           const std::optional<std::string>& marker) {
  ECRS_CLEANUP_TRY(body, get(std::string(kFunctionsPath) + "/" + sigv4::uri_encode(function_name, false) +
                                 "/aliases" + query(marker),
                             "ListAliases", "function=" + function_name));
  LambdaPage<LambdaAlias> page;
  ECRS_CLEANUP_TRY(items, array_member(body, "Aliases", "ListAliasesResponse"));
  for (const auto& a : items) {
    LambdaAlias alias;
    ECRS_CLEANUP_TRY(name, opt_string(a, "Name", "AliasConfiguration"));
    ECRS_CLEANUP_TRY(version, opt_string(a, "FunctionVersion", "AliasConfiguration"));
    alias.name = name;
    alias.function_version = version;
    const Json::Value& weights = a["RoutingConfig"]["AdditionalVersionWeights"];
    if (weights.isObject()) {
      for (const auto& v : weights.getMemberNames()) alias.additional_versions.push_back(v);
    }
    page.items.push_back(std::move(alias));
  }
  ECRS_CLEANUP_TRY(marker_out, opt_string(body, "NextMarker", "ListAliasesResponse"));
  if (!marker_out.empty()) page.next_marker = marker_out;
  return page;
}

Result<LambdaFunctionCode> LambdaClient::get_function(const std::string& function_name, const std::string& qualifier) {
  std::string path = std::string(kFunctionsPath) + "/" + sigv4::uri_encode(function_name, false);
  if (!qualifier.empty()) path += "?Qualifier=" + sigv4::uri_encode(qualifier, false);
  ECRS_CLEANUP_TRY(body, get(path, "GetFunction", "function=" + function_name));
  return decode_get_function(body);
}

}  // namespace ecrs::cleanup
