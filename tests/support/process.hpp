#pragma once
// Child processes for the binary tests: a clean environment (only what the test passes), stdout and stderr
// captured to files (no pipe can fill up and block the child), a hard timeout, and kill-by-pid of our own child.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace ecrs::test_support {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
};

class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env);
  ~ChildProcess();  // SIGKILL if still running, then reaps
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits up to `timeout` for the exit; on timeout SIGTERM then SIGKILL.
  ProcessResult wait(std::chrono::milliseconds timeout);
  // Current contents of the captured streams.
  std::string out() const;
  std::string err() const;
  pid_t pid() const { return pid_; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

ProcessResult run_process(std::vector<std::string> argv, std::map<std::string, std::string> env,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace ecrs::test_support
