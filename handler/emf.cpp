#include "ecrs/handler/emf.hpp"

#include "ecrs/common/log.hpp"

namespace ecrs::handler {

Json::Value emf_record(std::string_view mode, const InvocationMetrics& m, std::chrono::milliseconds duration,
                       std::chrono::system_clock::time_point now) {
  Json::Value root(Json::objectValue);
  // Also one of our log lines (ts, level, msg): the spec lets the root carry members it does not name, and a
  // reader of the log stream (or a test) then needs no second line format.
  root["ts"] = format_timestamp(now);
  root["level"] = "info";
  root["msg"] = "invocation metrics";
  root["Mode"] = std::string(mode);
  Json::Value dims(Json::arrayValue);
  Json::Value by_mode(Json::arrayValue);
  by_mode.append("Mode");
  dims.append(by_mode);
  // A dimension set [Mode, name], and the root member it names.
  auto with_mode = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    root[name] = value;
    Json::Value set(Json::arrayValue);
    set.append("Mode");
    set.append(name);
    dims.append(set);
  };
  with_mode("Repository", m.repository);
  with_mode("FunctionName", m.function_name);
  auto metric = [](const char* name, const char* unit) {
    Json::Value v(Json::objectValue);
    v["Name"] = name;
    v["Unit"] = unit;  // one of the spec's MetricDefinition units (CloudWatch StandardUnit)
    return v;
  };
  Json::Value metrics(Json::arrayValue);
  metrics.append(metric("ImagesDeleted", "Count"));
  metrics.append(metric("ImagesPlanned", "Count"));
  metrics.append(metric("BytesReclaimed", "Bytes"));
  metrics.append(metric("ThrottledCalls", "Count"));
  metrics.append(metric("DurationMs", "Milliseconds"));
  metrics.append(metric("Continuations", "Count"));
  metrics.append(metric("Failures", "Count"));
  root["ImagesDeleted"] = static_cast<Json::UInt64>(m.images_deleted);
  root["ImagesPlanned"] = static_cast<Json::UInt64>(m.images_planned);
  root["BytesReclaimed"] = static_cast<Json::Int64>(m.bytes_reclaimed);
  root["ThrottledCalls"] = static_cast<Json::UInt64>(m.throttled_calls);
  root["DurationMs"] = static_cast<Json::Int64>(duration.count());
  root["Continuations"] = static_cast<Json::UInt64>(m.continuations);
  root["Failures"] = static_cast<Json::UInt64>(m.failures);
  Json::Value directive(Json::objectValue);
  directive["Namespace"] = kEmfNamespace;
  directive["Dimensions"] = dims;
  directive["Metrics"] = metrics;
  Json::Value aws(Json::objectValue);
  // Timestamp: milliseconds since the epoch (the spec's "number of milliseconds after Jan 1, 1970 00:00:00 UTC").
  aws["Timestamp"] = static_cast<Json::Int64>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  aws["CloudWatchMetrics"].append(directive);
  root["_aws"] = aws;
  return root;
}

}  // namespace ecrs::handler
