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
// What runs images, so in-use protection can be tried without C++ ("account" defaults to the main account):
//   POST /_localaws/ecs/service     {"cluster","service","image", "running": N (tasks, default 1), "digest"}
//   POST /_localaws/lambda/function {"function","image_uri", "resolved_image_uri", "alias"}
//   POST /_localaws/apprunner/service {"service","image"}
//   GET  /_localaws/world?account=A  {"ecs_services","lambda_functions","apprunner_services"}
// and, served by the SSO portal (sso_service.hpp): POST /_localaws/sso/token {"access_token","expires_in"}
#include <atomic>
#include <chrono>
#include <string>

#include <json/value.h>

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
  // The world routes above; false when `route` is not one of them.
  bool handle_world(const std::string& method, const std::string& route, const std::string& query,
                    const Json::Value& body, const Responder& respond);
  void poll_outcome(std::string id, std::chrono::steady_clock::time_point deadline, Responder respond);
  LocalAws& aws_;
  HttpServer& server_;
  std::atomic<bool> stopping_{false};
};

}  // namespace ecrs::localaws
