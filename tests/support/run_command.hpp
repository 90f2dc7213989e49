#pragma once
// Runs a shell command (a peer: the AWS CLI, a boto3 script) and captures its exit status and combined output.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace ecrs::test_support {

struct CommandRun {
  int status = -1;  // exit code; -1 when the command could not start or was killed
  std::string output;
};

inline CommandRun run_command(const std::string& command) {
  CommandRun r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) r.output += buf.data();
  const int raw = ::pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

}  // namespace ecrs::test_support
