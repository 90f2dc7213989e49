#pragma once
// The S3 side of a CloudFormation custom resource: CloudFormation hands the function a presigned S3 URL
// (SigV2 query signing: AWSAccessKeyId, Expires, Signature) and waits for one PUT of the response document.
// This receiver mints such URLs and verifies PUTs the way S3 does: the string to sign is
// "PUT\n<Content-MD5>\n<Content-Type>\n<Expires>\n<path>", so a client that adds a Content-Type gets
// 403 SignatureDoesNotMatch (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html).
// The owner of this header may extend it; keep these members.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecrs/common/secret.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/service.hpp"

namespace ecrs::localaws {

struct ReceivedResponse {
  std::string key;  // the path after /cfn-response/, still percent-encoded as received
  std::string body;
  std::string content_type;  // as received; "<absent>" when no header
  bool too_large = false;    // body over 4096 bytes: CloudFormation rejects it
  int status = 200;          // what the receiver answered
  std::string error_code;    // S3's code when rejected (SignatureDoesNotMatch, AccessDenied, ...); empty on 2xx
};

// CloudFormation refuses response documents above 4096 bytes ("Response object is too long"); 4096 itself
// passes (cfn-custom-resource.md section 3). S3 itself stores them, so the receiver answers 200 as S3 would
// and only flags them: the handler cannot tell in AWS either, tests assert on `too_large`.
inline constexpr std::size_t kMaxCfnResponseBytes = 4096;
// The URL prefix the receiver owns; with path-style addressing it is the bucket "cfn-response".
inline constexpr const char* kCfnResponsePrefix = "/cfn-response/";

class S3Receiver : public Service {
 public:
  S3Receiver(std::string endpoint_base, std::string access_key_id, Secret secret, const Clock& clock);
  ~S3Receiver() override;

  // Takes any method on /cfn-response/... (the method is signed, so a POST to a PUT URL fails as on S3).
  // The admin service lists received() at GET /_localaws/responses.
  bool handle(const HttpRequest& req, const Responder& respond) override;
  void shutdown() override;

  // A CloudFormation-style ResponseURL: <base>/cfn-response/<key>?AWSAccessKeyId=..&Expires=..&Signature=..
  // `key` is used as given (CloudFormation's keys carry %3A and %7C; pass them pre-encoded).
  std::string make_response_url(const std::string& key, std::chrono::seconds expires_in = std::chrono::hours(2));
  // Every PUT, accepted (2xx) or rejected, in arrival order.
  std::vector<ReceivedResponse> received() const;
  // The 2xx ones for `key`, in arrival order (too-large bodies included, flagged).
  std::vector<ReceivedResponse> accepted(const std::string& key) const;
  // The first accepted PUT for `key`, waiting up to `timeout` for it.
  std::optional<ReceivedResponse> wait_accepted(const std::string& key, std::chrono::milliseconds timeout);
  // Script failures: the next `count` PUTs are answered with `status` (e.g. 500) before any check.
  void fail_next(int count, int status = 500);
  void set_endpoint_base(std::string base);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecrs::localaws
