#pragma once
// The response document PUT to the ResponseURL (shared/docs/cfn-custom-resource.md §3).
#include <json/value.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "ecrs/cfn/request.hpp"

namespace ecrs::cfn {

// "Response object is too long." above 4096 bytes; 4096 itself is accepted (CFNUG/crpg-ref,
// gh:awsdocs/aws-cloudformation-user-guide#262). Counted in UTF-8 bytes, not UTF-16 units (sst#3584).
inline constexpr std::size_t kMaxResponseBodyBytes = 4096;

enum class ResponseStatus { SUCCESS, FAILED };
std::string_view to_string(ResponseStatus s);

struct CustomResourceOutcome {
  ResponseStatus status = ResponseStatus::FAILED;
  std::string reason;                // required when FAILED
  std::string physical_resource_id;  // may be empty: build_response picks a valid one
  Json::Value data;                  // object for Fn::GetAtt, or null
  bool no_echo = false;

  static CustomResourceOutcome success(std::string physical_resource_id, std::string reason = {});
  static CustomResourceOutcome failure(std::string reason, std::string physical_resource_id = {});
};

// The body, ≤ kMaxResponseBodyBytes and valid JSON. PhysicalResourceId is never empty:
// - Delete, and any FAILED Update: the request's id, echoed (changing it would mean replacement);
// - Update: the outcome's id if set (a new id is a replacement), else the request's;
// - Create: the outcome's id on SUCCESS; the CREATE_FAILED marker on FAILED, so the Delete that follows a failed
//   Create is recognised and touches nothing, whatever repository exists by then.
// Reason is made valid UTF-8, scrubbed of the ResponseURL's query, and shortened in the middle if the body
// would be too long; Data is dropped only if a short Reason still does not fit. Required fields are never cut.
std::string build_response(const CustomResourceOutcome& outcome, const ResponseTarget& target);
std::string build_response(const CustomResourceOutcome& outcome, const CustomResourceRequest& request);

// Pure helpers, exposed for tests and for the handler's logs.
std::string sanitize_utf8(std::string_view s);  // invalid byte sequences become '?'
// Keeps the start and the end with " ... " between, ≤ max_bytes, never splitting a UTF-8 sequence.
std::string truncate_middle_utf8(std::string_view s, std::size_t max_bytes);
// Replaces the URL, its query string and each long query value with redacted forms.
std::string scrub_response_url(std::string_view text, std::string_view response_url);

}  // namespace ecrs::cfn
