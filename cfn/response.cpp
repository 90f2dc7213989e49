#include "ecrs/cfn/response.hpp"

#include <algorithm>
#include <vector>

#include "ecrs/cfn/physical_id.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/common/log.hpp"

namespace ecrs::cfn {
namespace {

constexpr std::string_view kEllipsis = " ... ";
// Before Data is dropped, Reason may shrink to this: below it a FAILED answer stops explaining itself.
// (crhelper keeps a 256-character budget for the same reason: custom-resource-helper crhelper/utils.py.)
constexpr std::size_t kMinReasonBytesBeforeDroppingData = 256;
// Query values shorter than this (e.g. Expires' digits) are not worth scrubbing one by one; the whole query is
// scrubbed anyway, this catches a signature quoted on its own.
constexpr std::size_t kMinScrubbedValueBytes = 8;
// A FAILED answer keeps at least this much Reason even when nothing else fits.
constexpr std::size_t kMinFailureReasonBytes = 64;
constexpr std::string_view kDefaultFailureReason = "Failed without a reason; see the function's CloudWatch Logs";

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
        hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string physical_id_for(const CustomResourceOutcome& outcome, const ResponseTarget& target) {
  const bool failed = outcome.status == ResponseStatus::FAILED;
  const std::string& requested = target.physical_resource_id;
  std::string id;
  if (target.request_type == RequestType::Delete) {
    id = requested;  // Delete keeps the id (CDK-RH errors otherwise)
  } else if (target.request_type == RequestType::Update) {
    id = (failed || outcome.physical_resource_id.empty()) ? requested : outcome.physical_resource_id;
  } else if (target.request_type == RequestType::Create) {
    id = failed ? create_failed_id(target.logical_resource_id) : outcome.physical_resource_id;
  } else {
    id = requested;  // unknown RequestType: echo what came, if anything
  }
  if (id.empty()) id = failed || outcome.physical_resource_id.empty() ? create_failed_id(target.logical_resource_id)
                                                                       : outcome.physical_resource_id;
  if (id.size() > kMaxPhysicalResourceIdBytes) id = truncate_middle_utf8(sanitize_utf8(id), kMaxPhysicalResourceIdBytes);
  return id;
}

Json::Value document(const CustomResourceOutcome& outcome, const ResponseTarget& target, const std::string& id,
                     const std::string& reason, bool with_data) {
  Json::Value doc(Json::objectValue);
  doc["Status"] = std::string(to_string(outcome.status));
  if (!reason.empty()) doc["Reason"] = reason;
  doc["PhysicalResourceId"] = id;
  doc["StackId"] = target.stack_id;
  doc["RequestId"] = target.request_id;
  doc["LogicalResourceId"] = target.logical_resource_id;
  if (outcome.no_echo) doc["NoEcho"] = true;
  if (with_data && outcome.data.isObject() && !outcome.data.empty()) doc["Data"] = outcome.data;
  return doc;
}

}  // namespace

std::string_view to_string(ResponseStatus s) { return s == ResponseStatus::SUCCESS ? "SUCCESS" : "FAILED"; }

CustomResourceOutcome CustomResourceOutcome::success(std::string physical_resource_id, std::string reason) {
  CustomResourceOutcome o;
  o.status = ResponseStatus::SUCCESS;
  o.physical_resource_id = std::move(physical_resource_id);
  o.reason = std::move(reason);
  return o;
}

CustomResourceOutcome CustomResourceOutcome::failure(std::string reason, std::string physical_resource_id) {
  CustomResourceOutcome o;
  o.status = ResponseStatus::FAILED;
  o.reason = std::move(reason);
  o.physical_resource_id = std::move(physical_resource_id);
  return o;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
      out += s[i++];
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= s.size();
    std::uint32_t cp = len == 0 ? 0 : c & (0xFF >> (len + 1));
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = is_continuation(cc);
      cp = (cp << 6) | (cc & 0x3F);
    }
    // RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string truncate_middle_utf8(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  auto head_end = [&](std::size_t n) {
    while (n > 0 && n < s.size() && is_continuation(static_cast<unsigned char>(s[n]))) --n;
    return n;
  };
  if (max_bytes < kEllipsis.size() + 2) return std::string(s.substr(0, head_end(max_bytes)));
  const std::size_t budget = max_bytes - kEllipsis.size();
  const std::size_t head = head_end(budget - budget / 2);
  std::size_t tail_start = s.size() - budget / 2;
  while (tail_start < s.size() && is_continuation(static_cast<unsigned char>(s[tail_start]))) ++tail_start;
  std::string out(s.substr(0, head));
  out += kEllipsis;
  out += s.substr(tail_start);
  return out;
}

std::string scrub_response_url(std::string_view text, std::string_view response_url) {
  std::string out(text);
  if (response_url.empty()) return out;
  replace_all(out, response_url, redact_url(response_url));
  const auto q = response_url.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view query = response_url.substr(q + 1);
  replace_all(out, query, "***");
  std::vector<std::string> values;
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto amp = query.find('&', start);
    std::string_view param = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (auto eq = param.find('='); eq != std::string_view::npos) {
      std::string_view value = param.substr(eq + 1);
      if (value.size() >= kMinScrubbedValueBytes) {
        values.emplace_back(value);
        values.push_back(percent_decode(value));
      }
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& v : values) replace_all(out, v, "***");
  return out;
}

std::string build_response(const CustomResourceOutcome& outcome, const ResponseTarget& target) {
  const std::string id = physical_id_for(outcome, target);
  std::string reason = scrub_response_url(sanitize_utf8(outcome.reason), target.response_url);
  if (reason.empty() && outcome.status == ResponseStatus::FAILED) reason = kDefaultFailureReason;

  auto body_with = [&](std::size_t reason_bytes, bool with_data) {
    return to_compact_json(document(outcome, target, id, truncate_middle_utf8(reason, reason_bytes), with_data));
  };
  // The largest Reason that fits: serialised size grows with the Reason's length, so a binary search finds it
  // in a dozen serialisations of a ≤4 KB document.
  auto fit = [&](bool with_data, std::size_t floor) -> std::optional<std::string> {
    std::string body = body_with(reason.size(), with_data);
    if (body.size() <= kMaxResponseBodyBytes) return body;
    std::size_t lo = std::min(floor, reason.size()), hi = reason.size();
    std::string best = body_with(lo, with_data);
    if (best.size() > kMaxResponseBodyBytes) return std::nullopt;
    while (lo + 1 < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      std::string candidate = body_with(mid, with_data);
      if (candidate.size() <= kMaxResponseBodyBytes) {
        lo = mid;
        best = std::move(candidate);
      } else {
        hi = mid;
      }
    }
    return best;
  };
  if (auto body = fit(true, kMinReasonBytesBeforeDroppingData)) return *body;
  const std::size_t floor = outcome.status == ResponseStatus::FAILED ? kMinFailureReasonBytes : 0;
  if (auto body = fit(false, floor)) return *body;
  // Only pathological ids (StackId/RequestId/LogicalResourceId of kilobytes, which CloudFormation never sends)
  // get here; the required fields are never cut, so CloudFormation will reject this rather than misread it.
  return body_with(floor, false);
}

std::string build_response(const CustomResourceOutcome& outcome, const CustomResourceRequest& request) {
  return build_response(outcome, request.response_target());
}

}  // namespace ecrs::cfn
