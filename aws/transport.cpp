#include "ecrs/aws/transport.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

namespace ecrs::aws {

std::vector<Result<HttpResponse>> send_all(Transport& transport, const std::vector<HttpRequest>& requests,
                                           std::size_t max_in_flight, const RequestOptions& options) {
  std::vector<std::optional<Result<HttpResponse>>> slots(requests.size());
  // An exception must not end a worker (std::terminate: no answer to anyone); it becomes that request's Error.
  auto send_one = [&](std::size_t i) {
    const std::string context = "send_all request " + std::to_string(i) + " " + requests[i].method;
    try {
      slots[i].emplace(transport.send(requests[i], options));
    } catch (const std::exception& e) {
      slots[i].emplace(make_error("InternalError", std::string("the transport threw: ") + e.what(), context));
    } catch (...) {
      slots[i].emplace(make_error("InternalError", "the transport threw a non-standard exception", context));
    }
  };
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < requests.size(); i = next++) send_one(i);
  };
  std::size_t threads = std::min(std::max<std::size_t>(max_in_flight, 1), requests.size());
  {
    std::vector<std::jthread> pool;
    pool.reserve(threads);
    try {
      for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
    } catch (const std::system_error&) {
      // No thread to spare (EAGAIN): this thread takes what the pool could not; the started ones join below.
      worker();
    }
  }
  std::vector<Result<HttpResponse>> out;
  out.reserve(requests.size());
  for (auto& s : slots) out.push_back(std::move(*s));
  return out;
}

}  // namespace ecrs::aws
