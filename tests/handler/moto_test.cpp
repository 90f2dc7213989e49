// The same end-to-end Delete against moto_server, an ECR written by other people: our client, executor and
// runtime loop must agree with it too. moto ignores ListImages paging and signatures, so only the outcome is
// asserted. The Runtime API and the ResponseURL still come from LocalAws.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "harness.hpp"
#include "support/process.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::handler::testing {
namespace {

using namespace std::chrono_literals;

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path != nullptr ? path : "";
  std::size_t start = 0;
  while (start <= p.size()) {
    auto end = p.find(':', start);
    std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}

bool port_accepts(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::map<std::string, std::string> python_env() {
  std::map<std::string, std::string> env;
  for (const char* k : {"PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION", "LANG"}) {
    if (const char* v = std::getenv(k)) env[k] = v;
  }
  env["AWS_EC2_METADATA_DISABLED"] = "true";
  return env;
}

class MotoServer {
 public:
  MotoServer() {
    const std::string moto = find_on_path("moto_server");
    if (moto.empty()) throw std::runtime_error("moto_server not found on PATH (pyenv's moto is required)");
    port_ = test::unused_local_port();
    child_ = std::make_unique<ChildProcess>(std::vector<std::string>{moto, "-H", "127.0.0.1", "-p", std::to_string(port_)},
                                            python_env());
    // moto_server binds its own socket and cannot take ours: poll for the listener, bounded.
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!port_accepts(port_)) {
      if (std::chrono::steady_clock::now() > until) throw std::runtime_error("moto_server did not start: " + child_->err());
      std::this_thread::sleep_for(50ms);
    }
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> child_;
};

std::string seed_script() { return std::string(ECRS_HANDLER_TEST_SOURCE_DIR) + "/moto_seed.py"; }

std::size_t moto_images(const MotoServer& moto, const std::string& verb, const std::string& repo, int count = 0) {
  std::vector<std::string> argv{find_on_path("python3"), seed_script(), moto.endpoint(), verb, repo};
  if (verb == "seed") argv.push_back(std::to_string(count));
  auto r = run_process(argv, python_env(), 60s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return static_cast<std::size_t>(std::strtoul(r.out.c_str(), nullptr, 10));
}

// One moto_server for the suite (it takes seconds to start); each case uses its own repository.
class AgainstMoto : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() {
    try {
      moto_ = new MotoServer();
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete moto_;
    moto_ = nullptr;
  }
  static MotoServer* moto_;
  static std::string start_error_;
};
MotoServer* AgainstMoto::moto_ = nullptr;
std::string AgainstMoto::start_error_;

TEST_P(AgainstMoto, DeleteEmptiesTheRepositoryAndAnswersSuccess) {
  const int n = GetParam();
  ASSERT_NE(moto_, nullptr) << "moto_server is required (pyenv): " << start_error_;
  const MotoServer& moto = *moto_;
  const std::string repo = "motorepo-" + std::to_string(n);
  ASSERT_EQ(moto_images(moto, "seed", repo, n), static_cast<std::size_t>(n));
  LambdaHarness h;
  h.start_loop({{"AWS_ENDPOINT_URL_ECR", moto.endpoint()}});
  auto ev = h.make_event({.repository = repo, .physical_id = "ecr-sweeper:default:" + repo});
  const std::string id = h.invoke(ev);
  Json::Value resp = h.wait_response(ev, 60s);
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString();
  expect_envelope(resp, ev);
  EXPECT_EQ(resp["Data"]["ImagesDeleted"].asString(), std::to_string(n));
  EXPECT_EQ(moto_images(moto, "count", repo), 0u);
  auto out = h.wait_outcome(id);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, "response");
}

INSTANTIATE_TEST_SUITE_P(Images, AgainstMoto, ::testing::Values(0, 1, 250),
                         [](const auto& info) { return "Images" + std::to_string(info.param); });

}  // namespace
}  // namespace ecrs::handler::testing
