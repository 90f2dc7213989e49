#pragma once
// The Lambda management calls the in-use scan needs, restJson1 (botocore/data/lambda/2015-03-31/service-2.json):
// GET /2015-03-31/functions, .../{FunctionName}/versions, .../{FunctionName}/aliases, .../{FunctionName}?Qualifier=.
#include <optional>
#include <string>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/cleanup/call_policy.hpp"
#include "ecrs/common/result.hpp"

namespace ecrs::cleanup {

// ListFunctions/ListVersionsByFunction/ListAliases MaxItems upper bound (Lambda API reference: 1-10000 for
// ListFunctions, where "the maximum is 50" per page; 50 for the others).
inline constexpr int kMaxLambdaItems = 50;

struct LambdaFunction {  // shape FunctionConfiguration (members read)
  std::string function_name;
  std::string function_arn;
  std::string version;
  std::string package_type;  // Zip | Image
};
struct LambdaAlias {  // shape AliasConfiguration
  std::string name;
  std::string function_version;
  std::vector<std::string> additional_versions;  // RoutingConfig.AdditionalVersionWeights keys (weighted alias)
};
struct LambdaFunctionCode {  // GetFunction: Configuration + Code (FunctionCodeLocation)
  LambdaFunction configuration;
  std::string image_uri;
  std::string resolved_image_uri;  // "<repo uri>@sha256:..." — the digest the version runs
};

template <typename T>
struct LambdaPage {
  std::vector<T> items;
  std::optional<std::string> next_marker;
};

class LambdaClient {
 public:
  // `policy` (optional, must outlive the client): deadline and throttling patience for every call.
  explicit LambdaClient(aws::AwsClient& aws, const CallPolicy* policy = nullptr) : aws_(&aws), policy_(policy) {}
  Result<LambdaPage<LambdaFunction>> list_functions(const std::optional<std::string>& marker);
  Result<LambdaPage<LambdaFunction>> list_versions_by_function(const std::string& function_name,
                                                               const std::optional<std::string>& marker);
  Result<LambdaPage<LambdaAlias>> list_aliases(const std::string& function_name,
                                               const std::optional<std::string>& marker);
  Result<LambdaFunctionCode> get_function(const std::string& function_name, const std::string& qualifier);

 private:
  Result<Json::Value> get(const std::string& path, const char* operation, const std::string& subject);
  aws::AwsClient* aws_;
  const CallPolicy* policy_;
};

Result<LambdaPage<LambdaFunction>> decode_function_list(const Json::Value& body, const char* member);
Result<LambdaFunctionCode> decode_get_function(const Json::Value& body);

}  // namespace ecrs::cleanup
