#pragma once
// One CloudWatch embedded-metric-format (EMF) record per Lambda invocation, written by the runtime loop to the
// log stream (stdout), from which CloudWatch Logs extracts the metrics. Pure: the caller passes the time.
// Specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
#include <json/value.h>

#include <chrono>
#include <string>
#include <string_view>

#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {

inline constexpr const char* kEmfNamespace = "ecr-sweeper";
// The metric names, each a top-level member of every record (the spec requires every metric a directive names
// to be present at the root).
inline constexpr const char* kEmfMetricNames[] = {"ImagesDeleted", "ImagesPlanned",  "BytesReclaimed", "ThrottledCalls",
                                                  "DurationMs",    "Continuations", "Failures"};

// The record for one invocation of `mode`, which is also a log line (ts, level info, msg): dimension sets [Mode],
// [Mode, Repository] when the metrics name one repository, and [Mode, FunctionName] when they name the function
// (the templates' Failures alarms use that one).
Json::Value emf_record(std::string_view mode, const InvocationMetrics& metrics, std::chrono::milliseconds duration,
                       std::chrono::system_clock::time_point now);

}  // namespace ecrs::handler
