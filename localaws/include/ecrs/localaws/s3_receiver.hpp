#pragma once
// The S3 side of a CloudFormation custom resource: CloudFormation hands the function a presigned S3 URL
// (SigV2 query signing: AWSAccessKeyId, Expires, Signature) and waits for one PUT of the response document.
// This receiver mints such URLs and verifies PUTs the way S3 does: the string to sign is
// "PUT\n<Content-MD5>\n<Content-Type>\n<Expires>\n<path>", so a client that adds a Content-Type gets
// 403 SignatureDoesNotMatch (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html).
// The owner of this header may extend it; keep these members.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecrs/common/secret.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/service.hpp"

namespace ecrs::localaws {

struct ReceivedResponse {
  std::string key;           // the path after /cfn-response/
  std::string body;
  std::string content_type;  // as received; "<absent>" when no header
  bool too_large = false;    // body over 4096 bytes: CloudFormation rejects it
  int status = 200;          // what the receiver answered
};

class S3Receiver : public Service {
 public:
  S3Receiver(std::string endpoint_base, std::string access_key_id, Secret secret, const Clock& clock);
  ~S3Receiver() override;

  bool handle(const HttpRequest& req, const Responder& respond) override;
  void shutdown() override;

  // A CloudFormation-style ResponseURL: <base>/cfn-response/<key>?AWSAccessKeyId=..&Expires=..&Signature=..
  // `key` is used as given (CloudFormation's keys carry %3A and %7C; pass them pre-encoded).
  std::string make_response_url(const std::string& key, std::chrono::seconds expires_in = std::chrono::hours(2));
  // Accepted PUTs (2xx) and rejected ones, in arrival order.
  std::vector<ReceivedResponse> received() const;
  std::vector<ReceivedResponse> accepted(const std::string& key) const;
  std::optional<ReceivedResponse> wait_accepted(const std::string& key, std::chrono::milliseconds timeout);
  // Script failures: the next `count` PUTs are answered with `status` (e.g. 500) before any check.
  void fail_next(int count, int status = 500);
  void set_endpoint_base(std::string base);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecrs::localaws
