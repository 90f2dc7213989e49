#pragma once
// The admin surface for scripts that cannot call C++ (the demo, shell tests), under /_localaws/:
//   GET  /_localaws/metrics                    metrics JSON
//   POST /_localaws/invoke[?timeout_ms=N]      body = event; {"request_id": ...}
//   GET  /_localaws/outcome/<id>?wait_ms=N     {"request_id","kind","body","error_type"}; 404 {"status":"pending"}
//   POST /_localaws/ecr/seed                   {"repository", "images": N, "tagged": bool, "indexes": N}
//   GET  /_localaws/ecr/summary?repository=X   {"repository","exists","images","tags"}
//   GET  /_localaws/responses                  what the S3 receiver got, in arrival order
//   POST /_localaws/response-url               {"key", "expires_in"}; {"url": ...}
//   POST /_localaws/fault                      a FaultRule as JSON ({"operation","count","http_status",...})
#include <atomic>
#include <chrono>
#include <string>

#include "ecrs/localaws/service.hpp"

namespace ecrs::localaws {

class LocalAws;
class HttpServer;

class AdminService : public Service {
 public:
  AdminService(LocalAws& aws, HttpServer& server) : aws_(aws), server_(server) {}
  bool handle(const HttpRequest& req, const Responder& respond) override;
  void shutdown() override { stopping_ = true; }

 private:
  void poll_outcome(std::string id, std::chrono::steady_clock::time_point deadline, Responder respond);
  LocalAws& aws_;
  HttpServer& server_;
  std::atomic<bool> stopping_{false};
};

}  // namespace ecrs::localaws
