#pragma once
// Helpers for calling localaws services directly (no socket): a Responder that records what it was given, a
// URL-to-request splitter, and a child-process runner for the peer tools (python3/botocore, curl, bash).
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ecrs/localaws/service.hpp"

namespace ecrs::localaws::testing {

struct Captured {
  std::mutex mu;
  std::vector<HttpResponse> responses;

  std::size_t count() {
    std::lock_guard l(mu);
    return responses.size();
  }
  HttpResponse only() {
    std::lock_guard l(mu);
    if (responses.size() != 1) return HttpResponse{-static_cast<int>(responses.size()), {}, "not answered once"};
    return responses.front();
  }
};

inline Responder capture(const std::shared_ptr<Captured>& c) {
  return [c](HttpResponse r) {
    std::lock_guard l(c->mu);
    c->responses.push_back(std::move(r));
  };
}

inline std::string header_of(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return v;
  }
  return "<absent>";
}

// "http://host:port/path?query" -> a request as the server would parse it.
inline HttpRequest request_for_url(const std::string& method, const std::string& url, std::string body = {}) {
  HttpRequest req;
  req.method = method;
  const auto scheme_end = url.find("://");
  const auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  req.target = path_start == std::string::npos ? "/" : url.substr(path_start);
  const auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? std::string() : req.target.substr(q + 1);
  req.headers.emplace_back("Host", url.substr(scheme_end + 3, path_start - scheme_end - 3));
  req.body = std::move(body);
  return req;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout only
};

// Runs `command` through /bin/sh and returns its stdout and exit status.
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string source_dir() {
  const char* dir = std::getenv("ECRS_SOURCE_DIR");
  return dir != nullptr ? dir : ECRS_TEST_SOURCE_DIR_FALLBACK;
}

inline std::string test_dir() { return source_dir() + "/tests/localaws_lambda"; }

inline std::string trim_newline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace ecrs::localaws::testing
