// Issue #21: the ResponseURL is PUT to only when it is https to an S3 endpoint of a CloudFormation partition
// (plain http only to loopback while the Runtime API is local). A table of hosts, and a refused URL that is
// never PUT to.
#include <gtest/gtest.h>

#include <string>

#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/response_sender.hpp"

namespace ecrs::safety_test {
namespace {

struct Row {
  const char* url;
  bool accepted;
};

TEST(ResponseUrl, AcceptsOnlyThePartitionsS3Hosts) {
  const Row rows[] = {
      // What CloudFormation sends, path and virtual-hosted, every regional spelling.
      {"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3A?X-Amz-Signature=x", true},
      {"https://cloudformation-custom-resource-response-uswest2.s3-us-west-2.amazonaws.com/k?Signature=x", true},
      {"https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/k", true},
      {"https://s3.amazonaws.com/bucket/key", true},
      {"https://s3.us-east-2.amazonaws.com/bucket/key", true},
      {"https://s3-external-1.amazonaws.com/bucket/key", true},
      {"https://bucket.s3-external-1.amazonaws.com/key", true},
      {"https://bucket.s3.dualstack.us-east-1.amazonaws.com/key", true},
      {"https://bucket.s3-fips.us-gov-west-1.amazonaws.com/key", true},
      {"https://bucket.s3-fips.dualstack.us-east-1.amazonaws.com/key", true},
      {"https://s3-fips-us-gov-west-1.amazonaws.com/bucket/key", true},
      {"https://bucket.s3.cn-north-1.amazonaws.com.cn/key", true},
      {"https://s3.cn-northwest-1.amazonaws.com.cn/bucket/key", true},
      {"https://my.dotted.bucket.s3.us-west-2.amazonaws.com/key", true},
      {"https://BUCKET.S3.US-EAST-1.AMAZONAWS.COM/key", true},
      {"https://s3.amazonaws.com:443/bucket/key", true},
      {"http://127.0.0.1:8080/cfn-response/k?sig=1", true},
      {"http://localhost:9000/k", true},
      // Refused: not https, not S3, not AWS, look-alikes, other ports.
      {"http://s3.amazonaws.com/bucket/key", false},
      {"http://bucket.s3.us-east-1.amazonaws.com/key", false},
      {"https://example.com/cfn-response", false},
      {"https://s3.amazonaws.com.evil.example/key", false},
      {"https://evil-s3.amazonaws.com.example.net/key", false},
      {"https://s3.amazonaws.evil.com/key", false},
      {"https://sqs.us-east-1.amazonaws.com/123/queue", false},
      {"https://lambda.us-east-1.amazonaws.com/2015-03-31/functions", false},
      {"https://bucket.s3.us-east-1.amazonaws.com.attacker.io/key", false},
      {"https://s3.amazonaws.com:8443/bucket/key", false},
      {"https://s3-fips.amazonaws.com/key", false},
      {"https://s3.not_a_region.amazonaws.com/key", false},
      {"https://169.254.169.254/latest/meta-data", false},
      {"https://127.0.0.1/k", false},
      {"http://10.0.0.1/k", false},
      {"ftp://s3.amazonaws.com/k", false},
      {"s3.amazonaws.com/bucket/key", false},
  };
  for (const auto& row : rows) {
    auto r = handler::check_response_url(row.url, true);
    EXPECT_EQ(static_cast<bool>(r), row.accepted) << row.url << (r ? "" : ": " + r.error().describe());
    if (!r) {
      EXPECT_EQ(r.error().code, "InvalidResponseURL");
      EXPECT_EQ(r.error().describe().find("Signature"), std::string::npos) << r.error().describe();
    }
  }
}

TEST(ResponseUrl, PlainHttpToLoopbackOnlyWhenTheRuntimeApiIsLocal) {
  EXPECT_TRUE(handler::check_response_url("http://127.0.0.1:8080/k", true));
  EXPECT_FALSE(handler::check_response_url("http://127.0.0.1:8080/k", false));
  EXPECT_TRUE(handler::check_response_url("https://bucket.s3.us-east-1.amazonaws.com/k", false));
}

class CountingTransport final : public aws::Transport {
 public:
  Result<aws::HttpResponse> send(const aws::HttpRequest&, const aws::RequestOptions&) override {
    ++calls;
    aws::HttpResponse r;
    r.status = 200;
    return r;
  }
  int calls = 0;
};

TEST(ResponseUrl, ARefusedUrlIsLoggedRedactedAndNeverPut) {
  CountingTransport transport;
  FakeClock clock;
  FixedRandom random(0.5);
  CaptureSink sink;
  Logger log(sink, clock);
  auto r = handler::put_response(transport, "https://collector.example.com/x?X-Amz-Signature=abc123secretsig", "{}",
                                 handler::PutPolicy{}, clock, clock, random, log);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "InvalidResponseURL");
  EXPECT_EQ(transport.calls, 0);
  ASSERT_FALSE(sink.lines().empty());
  for (const auto& line : sink.lines()) EXPECT_EQ(line.find("abc123secretsig"), std::string::npos) << line;
}

}  // namespace
}  // namespace ecrs::safety_test
