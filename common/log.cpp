#include "ecrs/common/log.hpp"

#include <json/writer.h>

#include <cstdio>
#include <ctime>

#include "ecrs/common/redaction.hpp"

namespace ecrs {

void StdoutSink::write(std::string_view line) {
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);  // Lambda ships stdout lines to CloudWatch; a crash must not eat buffered lines
}

void CaptureSink::write(std::string_view line) {
  std::lock_guard lock(mu_);
  lines_.emplace_back(line);
}

std::vector<std::string> CaptureSink::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

Logger::Logger(LogSink& sink, const Clock& clock, LogLevel min_level)
    : sink_(&sink),
      clock_(&clock),
      min_level_(min_level),
      base_(Json::objectValue),
      redactions_(std::make_shared<std::vector<std::string>>()),
      redactions_mu_(std::make_shared<std::mutex>()) {}

namespace {
const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

void replace_all(std::string& s, const std::string& needle, std::string_view with) {
  if (needle.empty()) return;
  for (std::size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + with.size())) {
    s.replace(pos, needle.size(), with);
  }
}
}  // namespace

void Logger::log(LogLevel level, std::string_view msg, const Json::Value& fields) {
  if (level < min_level_) return;
  Json::Value line(Json::objectValue);
  line["ts"] = format_timestamp(clock_->now());
  line["level"] = level_name(level);
  line["msg"] = std::string(msg);
  for (const auto& name : base_.getMemberNames()) line[name] = base_[name];
  if (fields.isObject()) {
    for (const auto& name : fields.getMemberNames()) line[name] = fields[name];
  }
  std::string text = redact_secrets(to_compact_json(line));
  {
    std::lock_guard lock(*redactions_mu_);
    for (const auto& r : *redactions_) replace_all(text, r, "***");
  }
  sink_->write(text);
}

Logger Logger::with(const Json::Value& fields) const {
  Logger child = *this;
  if (fields.isObject()) {
    for (const auto& name : fields.getMemberNames()) child.base_[name] = fields[name];
  }
  return child;
}

void Logger::add_redaction(std::string value) {
  // Very short values would blank ordinary words; real keys and tokens are 16+ characters.
  if (value.size() < 8) return;
  register_secret(value);
  std::lock_guard lock(*redactions_mu_);
  for (const auto& r : *redactions_) {
    if (r == value) return;
  }
  redactions_->push_back(std::move(value));
}

std::string redact_url(std::string_view url) {
  auto q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, q)) + "?***";
}

std::string format_timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  if (ms < 0 && ms % 1000 != 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(((ms % 1000) + 1000) % 1000));
  return buf;
}


}  // namespace ecrs
