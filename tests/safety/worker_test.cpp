// Issue #21, robustness: an exception in a worker thread becomes that item's Error; the process lives on and
// every other item still runs.
#include <gtest/gtest.h>

#include <atomic>
#include <new>
#include <stdexcept>
#include <vector>

#include "ecrs/aws/transport.hpp"
#include "ecrs/handler/lifecycle_ops.hpp"

namespace ecrs::safety_test {
namespace {

// Throws for the requests whose body is "throw", answers 200 otherwise.
class ThrowingTransport final : public aws::Transport {
 public:
  Result<aws::HttpResponse> send(const aws::HttpRequest& req, const aws::RequestOptions&) override {
    ++calls;
    if (req.body == "throw") throw std::bad_alloc();
    if (req.body == "throw-int") throw 42;
    aws::HttpResponse r;
    r.status = 200;
    return r;
  }
  std::atomic<int> calls{0};
};

TEST(SendAll, AThrowingSendBecomesThatRequestsErrorAndTheOthersStillRun) {
  ThrowingTransport transport;
  std::vector<aws::HttpRequest> requests;
  for (int i = 0; i < 12; ++i) {
    requests.push_back({"POST", "http://127.0.0.1:1/", {}, i == 3 ? "throw" : i == 7 ? "throw-int" : "ok"});
  }
  const auto results = aws::send_all(transport, requests, 4);
  ASSERT_EQ(results.size(), requests.size());
  EXPECT_EQ(transport.calls.load(), 12);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i == 3 || i == 7) {
      ASSERT_FALSE(results[i]) << i;
      EXPECT_EQ(results[i].error().code, "InternalError");
      EXPECT_NE(results[i].error().context.find("request " + std::to_string(i)), std::string::npos);
    } else {
      ASSERT_TRUE(results[i]) << i;
      EXPECT_EQ(results[i]->status, 200);
    }
  }
}

TEST(RunBounded, AThrowingItemIsReportedAndEveryOtherItemRuns) {
  for (int workers : {1, 4}) {
    std::vector<int> ran(20, 0);
    std::vector<std::string> errors(20);
    handler::run_bounded(
        ran.size(), workers,
        [&](std::size_t i) {
          if (i == 5) throw std::runtime_error("json depth exceeded");
          if (i == 9) throw 7;
          ran[i] = 1;
        },
        [&](std::size_t i, const Error& e) { errors[i] = e.code + ": " + e.message; });
    for (std::size_t i = 0; i < ran.size(); ++i) {
      if (i == 5 || i == 9) {
        EXPECT_EQ(ran[i], 0);
        EXPECT_NE(errors[i].find("InternalError"), std::string::npos) << errors[i];
      } else {
        EXPECT_EQ(ran[i], 1) << i << " workers=" << workers;
        EXPECT_TRUE(errors[i].empty()) << errors[i];
      }
    }
    EXPECT_NE(errors[5].find("json depth exceeded"), std::string::npos) << errors[5];
  }
}

TEST(RunBounded, WithoutAnErrorHandlerTheExceptionReachesTheCallerAfterEveryWorkerEnds) {
  std::atomic<int> ran{0};
  EXPECT_THROW(handler::run_bounded(16, 4,
                                    [&](std::size_t i) {
                                      if (i == 2) throw std::runtime_error("boom");
                                      ++ran;
                                    }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 15) << "the other items still ran";
}

}  // namespace
}  // namespace ecrs::safety_test
