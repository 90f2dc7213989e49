#pragma once
// A throw-away directory for HOME and ~/.aws files, removed with its contents, and the effects a credential
// source uses (real transport, fake clock that also sleeps): shared by the aws and credentials tests.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/curl_transport.hpp"

namespace ecrs::test {

class TempHome {
 public:
  TempHome() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ecrs-cred-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempHome() { std::filesystem::remove_all(path_); }
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;
  std::string write(const std::string& rel, const std::string& text, bool executable = false) const {
    auto p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    if (executable) chmod(p.c_str(), 0700);
    return p.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Effects {
  explicit Effects(const Environment& env, std::chrono::system_clock::time_point start = std::chrono::system_clock::now())
      : transport(env), clock(start), ctx{env, transport, clock, clock, random, nullptr, std::nullopt, std::nullopt} {}
  aws::CurlTransport transport;
  FakeClock clock;
  FixedRandom random{0.0};
  aws::CredentialContext ctx;
};

}  // namespace ecrs::test
