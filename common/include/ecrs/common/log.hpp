#pragma once
// Logs are JSON lines on stdout, one object per line: ts, level, msg, then context fields. The sink is an
// interface so tests capture lines and assert on them, including that no secret appears.
#include <json/value.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/common/json.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs {

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(std::string_view line) = 0;  // one complete JSON object, no trailing newline
};

class StdoutSink final : public LogSink {
 public:
  void write(std::string_view line) override;

 private:
  std::mutex mu_;
};

class CaptureSink final : public LogSink {
 public:
  void write(std::string_view line) override;
  std::vector<std::string> lines() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

enum class LogLevel { debug, info, warn, error };

class Logger {
 public:
  Logger(LogSink& sink, const Clock& clock, LogLevel min_level = LogLevel::info);

  // Fields are merged into the line; `base` fields (request id, repository) come from with().
  void log(LogLevel level, std::string_view msg, const Json::Value& fields = Json::Value(Json::objectValue));
  void debug(std::string_view msg, const Json::Value& f = Json::Value(Json::objectValue)) { log(LogLevel::debug, msg, f); }
  void info(std::string_view msg, const Json::Value& f = Json::Value(Json::objectValue)) { log(LogLevel::info, msg, f); }
  void warn(std::string_view msg, const Json::Value& f = Json::Value(Json::objectValue)) { log(LogLevel::warn, msg, f); }
  void error(std::string_view msg, const Json::Value& f = Json::Value(Json::objectValue)) { log(LogLevel::error, msg, f); }

  // A child logger sharing the sink that adds `fields` to every line.
  Logger with(const Json::Value& fields) const;

  // Defence in depth: any registered value (secret key, session token) is replaced by *** in every line,
  // whatever field it reached. Shared with child loggers.
  void add_redaction(std::string value);

  LogSink& sink() const { return *sink_; }
  const Clock& clock() const { return *clock_; }

 private:
  LogSink* sink_;
  const Clock* clock_;
  LogLevel min_level_;
  Json::Value base_;
  std::shared_ptr<std::vector<std::string>> redactions_;
  std::shared_ptr<std::mutex> redactions_mu_;
};

// The ResponseURL (and any presigned URL) goes through this single redactor: the whole query string is
// blanked, whatever scheme signed it (SigV2 Signature/AWSAccessKeyId or SigV4 X-Amz-*).
std::string redact_url(std::string_view url);

// RFC 3339 UTC with milliseconds, e.g. 2026-11-23T12:00:00.123Z.
std::string format_timestamp(std::chrono::system_clock::time_point t);

}  // namespace ecrs
