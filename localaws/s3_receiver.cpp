// Stub so the library links while the receiver is written; replaced by its owner.
#include "ecrs/localaws/s3_receiver.hpp"

namespace ecrs::localaws {

struct S3Receiver::Impl {};

S3Receiver::S3Receiver(std::string, std::string, Secret, const Clock&) : impl_(std::make_unique<Impl>()) {}
S3Receiver::~S3Receiver() = default;
bool S3Receiver::handle(const HttpRequest&, const Responder&) { return false; }
void S3Receiver::shutdown() {}
std::string S3Receiver::make_response_url(const std::string&, std::chrono::seconds) { return {}; }
std::vector<ReceivedResponse> S3Receiver::received() const { return {}; }
std::vector<ReceivedResponse> S3Receiver::accepted(const std::string&) const { return {}; }
std::optional<ReceivedResponse> S3Receiver::wait_accepted(const std::string&, std::chrono::milliseconds) { return std::nullopt; }
void S3Receiver::fail_next(int, int) {}
void S3Receiver::set_endpoint_base(std::string) {}

}  // namespace ecrs::localaws
