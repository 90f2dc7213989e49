#pragma once
// The seam between localaws's HTTP server and the AWS services it emulates. The server (Beast, asynchronous)
// parses a request and offers it to each service in turn; the one that takes it answers through the
// Responder exactly once, either at once or later (the Runtime API's long poll answers when an event arrives).
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ecrs::localaws {

struct HttpRequest {
  std::string method;
  std::string target;                             // path?query as received (still percent-encoded)
  std::string path;                               // target before '?'
  std::string query;                              // target after '?', raw
  std::vector<std::pair<std::string, std::string>> headers;  // as received, original case and order
  std::string body;

  // Case-insensitive lookup of the first header with this name; empty when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Call exactly once. Safe from any thread; the server posts the write onto the connection's strand.
using Responder = std::function<void(HttpResponse)>;

class Service {
 public:
  virtual ~Service() = default;
  // Returns false when the request is not for this service (the server then tries the next one).
  virtual bool handle(const HttpRequest& req, const Responder& respond) = 0;
  // Answer every pending deferred request (e.g. with 500 or an empty reply) so the server can stop.
  virtual void shutdown() {}
};

}  // namespace ecrs::localaws
