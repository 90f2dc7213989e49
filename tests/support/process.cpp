#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ecrs::test_support {

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env) {
  char tmpl[] = "/tmp/ecrs-test-child-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, (dir_ + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, (dir_ + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> av;
  for (auto& a : argv) av.push_back(a.data());
  av.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> ev;
  for (auto& e : env_strings) ev.push_back(e.data());
  ev.push_back(nullptr);
  int rc = ::posix_spawn(&pid_, av[0], &fa, nullptr, av.data(), ev.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv.front() + " failed: " + std::to_string(rc));
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string ChildProcess::out() const { return slurp(dir_ + "/out"); }
std::string ChildProcess::err() const { return slurp(dir_ + "/err"); }

ProcessResult ChildProcess::wait(std::chrono::milliseconds timeout) {
  ProcessResult r;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    pid_t w = ::waitpid(pid_, &status_, WNOHANG);
    if (w == pid_) {
      reaped_ = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= until) {
      r.timed_out = true;
      ::kill(pid_, SIGTERM);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (::waitpid(pid_, &status_, WNOHANG) != pid_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
      }
      reaped_ = true;
      break;
    }
    // Polling a child's exit: there is no server to bind here, only a process to reap.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!r.timed_out && WIFEXITED(status_)) r.exit_code = WEXITSTATUS(status_);
  r.out = out();
  r.err = err();
  return r;
}

ProcessResult run_process(std::vector<std::string> argv, std::map<std::string, std::string> env,
                          std::chrono::milliseconds timeout) {
  ChildProcess p(std::move(argv), std::move(env));
  return p.wait(timeout);
}

}  // namespace ecrs::test_support
