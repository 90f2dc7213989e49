#include "ecrs/aws/transport.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

namespace ecrs::aws {

std::vector<Result<HttpResponse>> send_all(Transport& transport, const std::vector<HttpRequest>& requests,
                                           std::size_t max_in_flight, const RequestOptions& options) {
  std::vector<std::optional<Result<HttpResponse>>> slots(requests.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < requests.size(); i = next++) slots[i].emplace(transport.send(requests[i], options));
  };
  std::size_t threads = std::min(std::max<std::size_t>(max_in_flight, 1), requests.size());
  {
    std::vector<std::jthread> pool;
    pool.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  }
  std::vector<Result<HttpResponse>> out;
  out.reserve(requests.size());
  for (auto& s : slots) out.push_back(std::move(*s));
  return out;
}

}  // namespace ecrs::aws
