// Stub so the library links while the Runtime API is written; replaced by its owner.
#include "ecrs/localaws/runtime_api.hpp"

namespace ecrs::localaws {

struct RuntimeApi::Impl {
  RuntimeOptions options;
};

RuntimeApi::RuntimeApi(RuntimeOptions options) : impl_(std::make_unique<Impl>(Impl{std::move(options)})) {}
RuntimeApi::~RuntimeApi() = default;
bool RuntimeApi::handle(const HttpRequest&, const Responder&) { return false; }
void RuntimeApi::shutdown() {}
std::string RuntimeApi::invoke(std::string, std::optional<std::chrono::milliseconds>) { return {}; }
std::optional<InvocationOutcome> RuntimeApi::wait_outcome(const std::string&, std::chrono::milliseconds) { return std::nullopt; }
std::vector<InvocationOutcome> RuntimeApi::outcomes() const { return {}; }
std::vector<std::string> RuntimeApi::invoked_by_api() const { return {}; }
std::optional<std::string> RuntimeApi::init_error() const { return std::nullopt; }
std::size_t RuntimeApi::pending() const { return 0; }
bool RuntimeApi::wait_idle(std::chrono::milliseconds) { return true; }

}  // namespace ecrs::localaws
