// A BatchDeleteImage that does not answer before the call deadline: ECR may still carry it out. A fake ECR
// behind the real client (a Transport that answers from memory and "sleeps" on the fake clock) shows that the
// report counts such a batch as possibly deleted, never as deleted or remaining, and that a batch whose measured
// latency does not fit before the call deadline is not started at all.
#include <gtest/gtest.h>
#include <json/value.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <memory>
#include <set>
#include <string>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/transport.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/ecr/executor.hpp"

namespace ecrs::ecr {
namespace {

using namespace std::chrono_literals;

// One repository in memory. Every BatchDeleteImage takes `delete_latency` of fake time; when the call's timeout
// (cut to the caller's deadline) is shorter, the fake sleeps the timeout, answers Timeout as libcurl does, and
// deletes the batch anyway, as ECR does with a request it received.
class SlowDeleteEcr final : public aws::Transport {
 public:
  SlowDeleteEcr(FakeClock& clock, std::size_t images, std::chrono::milliseconds delete_latency)
      : clock_(clock), latency_(delete_latency) {
    for (std::size_t i = 0; i < images; ++i) {
      char digest[80];
      std::snprintf(digest, sizeof digest, "sha256:%064zx", i + 1);
      images_.insert(digest);
    }
  }

  Result<aws::HttpResponse> send(const aws::HttpRequest& request, const aws::RequestOptions& options) override {
    const std::string target = aws::find_header(request.headers, "X-Amz-Target").value_or("");
    auto body = parse_json(request.body);
    if (!body) return make_error("TransportError", "fake: bad request body", target);
    std::lock_guard l(mu_);
    Json::Value out(Json::objectValue);
    if (target.ends_with(".DescribeImages")) {
      out["imageDetails"] = Json::Value(Json::arrayValue);
      // Every image here is untagged: a TAGGED listing finds none.
      if ((*body)["filter"]["tagStatus"].asString() == "TAGGED") {
        return aws::HttpResponse{200, {{"Content-Type", "application/x-amz-json-1.1"}}, to_compact_json(out)};
      }
      for (const auto& d : images_) {
        Json::Value detail(Json::objectValue);
        detail["imageDigest"] = d;
        detail["imageManifestMediaType"] = "application/vnd.docker.distribution.manifest.v2+json";
        out["imageDetails"].append(detail);
      }
    } else if (target.ends_with(".BatchDeleteImage")) {
      ++delete_calls_;
      const auto latency = delete_calls_ == stall_call_ ? std::chrono::milliseconds(std::chrono::hours(1)) : latency_;
      const bool cut = options.total_timeout < latency;
      clock_.advance(cut ? options.total_timeout : latency);
      out["imageIds"] = Json::Value(Json::arrayValue);
      out["failures"] = Json::Value(Json::arrayValue);
      for (const auto& id : (*body)["imageIds"]) {
        if (images_.erase(id["imageDigest"].asString()) == 1) out["imageIds"].append(id);
      }
      if (cut) {
        ++cut_calls_;
        return make_error("Timeout", "Operation timed out (fake)", "BatchDeleteImage");
      }
    } else {
      return make_error("TransportError", "fake: unexpected operation " + target, target);
    }
    return aws::HttpResponse{200, {{"Content-Type", "application/x-amz-json-1.1"}}, to_compact_json(out)};
  }

  std::size_t images_left() const {
    std::lock_guard l(mu_);
    return images_.size();
  }
  int delete_calls() const {
    std::lock_guard l(mu_);
    return delete_calls_;
  }
  int cut_calls() const {
    std::lock_guard l(mu_);
    return cut_calls_;
  }
  // The n-th BatchDeleteImage (from 1) stalls: ECR carries it out but answers after an hour.
  void stall_call(int n) {
    std::lock_guard g(mu_);
    stall_call_ = n;
  }

 private:
  FakeClock& clock_;
  mutable std::mutex mu_;
  std::chrono::milliseconds latency_;
  std::set<std::string> images_;
  int delete_calls_ = 0;
  int cut_calls_ = 0;
  int stall_call_ = 0;
};

struct FakeWorld {
  FakeWorld(std::size_t images, std::chrono::milliseconds latency)
      : clock(std::chrono::system_clock::now()), ecr(clock, images, latency), logger(sink, clock) {
    sigv4::Credentials c;
    c.access_key_id = "test";
    c.secret_access_key = Secret("test");
    credentials = std::make_unique<aws::StaticCredentialsProvider>(c);
    aws = std::make_unique<aws::AwsClient>(aws::AwsContext{ecr, *credentials, clock, clock, random, retry, &logger},
                                           aws::Endpoint{"http://127.0.0.1:1", "us-east-1", "ecr"});
    client = std::make_unique<EcrClient>(*aws);
  }
  Result<EmptyReport> empty(const EmptyOptions& o) {
    return empty_repository(*client, o, clock, clock, random, logger);
  }

  FakeClock clock;
  SlowDeleteEcr ecr;
  FixedRandom random{0.5};
  CaptureSink sink;
  Logger logger;
  aws::RetryStrategy retry;
  std::unique_ptr<aws::StaticCredentialsProvider> credentials;
  std::unique_ptr<aws::AwsClient> aws;
  std::unique_ptr<EcrClient> client;
};

EmptyOptions one_at_a_time(FakeWorld& w, std::chrono::milliseconds work, std::chrono::milliseconds calls) {
  EmptyOptions o;
  o.repository = "web";
  o.max_concurrency = 1;
  o.deadline = w.clock.now() + work;
  o.call_deadline = w.clock.now() + calls;
  return o;
}

TEST(DeadlineCut, ABatchCutAtTheCallDeadlineIsCountedAsPossiblyDeletedNotRemaining) {
  FakeWorld w(300, 50ms);
  // Two batches answer in 50 ms; then ECR stalls past the call deadline while it deletes the third batch.
  w.ecr.stall_call(3);
  EmptyOptions o = one_at_a_time(w, 10s, 10500ms);
  auto r = w.empty(o);
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(w.ecr.cut_calls(), 1);
  EXPECT_EQ(w.ecr.images_left(), 0u);  // ECR carried out the cut call
  EXPECT_EQ(r->deleted, 200u);
  EXPECT_EQ(r->possibly_deleted, 100u);
  EXPECT_EQ(r->remaining, 0u);
  EXPECT_TRUE(r->deadline_reached);
  EXPECT_FALSE(r->complete);
  // The next invocation's listing settles it: nothing left, nothing more deleted.
  EmptyOptions next = o;
  next.deadline.reset();
  next.call_deadline.reset();
  auto again = w.empty(next);
  ASSERT_TRUE(again.has_value()) << again.error().describe();
  EXPECT_TRUE(again->complete);
  EXPECT_EQ(again->deleted, 0u);
  EXPECT_EQ(again->possibly_deleted, 0u);
}

TEST(DeadlineCut, ACallerWithOnlyACallDeadlineGetsTheSameHonestCount) {
  FakeWorld w(300, 50ms);
  w.ecr.stall_call(2);
  EmptyOptions o = one_at_a_time(w, 10s, 10s);
  o.deadline.reset();
  auto r = w.empty(o);
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(w.ecr.cut_calls(), 1);
  EXPECT_EQ(w.ecr.delete_calls(), 2);  // nothing after the cut: the call deadline has passed
  EXPECT_EQ(r->deleted, 100u);
  EXPECT_EQ(r->possibly_deleted, 100u);
  EXPECT_EQ(r->remaining, 100u);
  EXPECT_TRUE(r->deadline_reached);
}

TEST(DeadlineCut, ABatchWhoseMeasuredLatencyDoesNotFitBeforeTheCallDeadlineIsNotStarted) {
  // Each batch takes 400 ms. Two fit before the work stops at 900 ms; the third would start at 800 ms with
  // 350 ms to the call deadline: enough for kMinCallTime, not for the latency just measured.
  FakeWorld w(300, 400ms);
  auto r = w.empty(one_at_a_time(w, 900ms, 1150ms));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(w.ecr.delete_calls(), 2);
  EXPECT_EQ(w.ecr.cut_calls(), 0);
  EXPECT_EQ(r->deleted, 200u);
  EXPECT_EQ(r->possibly_deleted, 0u);
  EXPECT_EQ(r->remaining, 100u);
  EXPECT_EQ(w.ecr.images_left(), 100u);
  EXPECT_TRUE(r->deadline_reached);
}

}  // namespace
}  // namespace ecrs::ecr
