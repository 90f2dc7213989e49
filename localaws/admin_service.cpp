#include "admin_service.hpp"

#include <charconv>

#include "ecrs/common/json.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "ecrs/localaws/world.hpp"
#include "http_server.hpp"

namespace ecrs::localaws {
namespace {

constexpr const char* kPrefix = "/_localaws/";
// An outcome wait polls this often and never longer than the cap, so a forgotten wait cannot pin the server.
constexpr std::chrono::milliseconds kOutcomePoll{10};
constexpr std::chrono::milliseconds kMaxOutcomeWait{120000};
// CloudFormation's ResponseURLs stay valid for two hours (the custom resource timeout ceiling is one hour).
constexpr std::chrono::seconds kDefaultUrlLifetime{7200};

HttpResponse json_response(int status, const Json::Value& body) {
  HttpResponse res;
  res.status = status;
  res.headers.emplace_back("Content-Type", "application/json");
  res.body = to_compact_json(body);
  return res;
}

HttpResponse bad_request(const std::string& message) {
  Json::Value body;
  body["message"] = message;
  return json_response(400, body);
}

std::optional<std::int64_t> query_int(const std::string& query, const std::string& name) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    const auto end = std::min(query.find('&', pos), query.size());
    const std::string pair = query.substr(pos, end - pos);
    if (pair.rfind(name + "=", 0) == 0) {
      std::int64_t v = 0;
      const std::string s = pair.substr(name.size() + 1);
      if (std::from_chars(s.data(), s.data() + s.size(), v).ec == std::errc()) return v;
      return std::nullopt;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::string query_string(const std::string& query, const std::string& name) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    const auto end = std::min(query.find('&', pos), query.size());
    const std::string pair = query.substr(pos, end - pos);
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
    pos = end + 1;
  }
  return {};
}

Json::Value outcome_json(const InvocationOutcome& o) {
  Json::Value j;
  j["request_id"] = o.request_id;
  j["kind"] = o.kind;
  j["body"] = o.body;
  j["error_type"] = o.error_type;
  return j;
}

}  // namespace

bool AdminService::handle_world(const std::string& method, const std::string& route, const std::string& query,
                                const Json::Value& body, const Responder& respond) {
  Worlds& worlds = aws_.worlds();
  std::string account = get_string(body, "account").value_or(query_string(query, "account"));
  if (account.empty()) account = worlds.main_account();
  auto need = [&](std::initializer_list<const char*> keys) {
    for (const char* k : keys)
      if (get_string(body, k).value_or("").empty()) {
        respond(bad_request(route + " needs \"" + k + "\""));
        return false;
      }
    return true;
  };
  Json::Value out;
  out["account"] = account;
  if (method == "POST" && route == "ecs/service") {
    if (!need({"cluster", "service", "image"})) return true;
    const std::string cluster = *get_string(body, "cluster");
    const std::string service = *get_string(body, "service");
    const std::string image = *get_string(body, "image");
    const auto running = get_int(body, "running").value_or(1);
    std::lock_guard lock(worlds.mutex());
    World& world = worlds.world(account);
    // One task definition per service, revision bumped on every seed, as a new deployment would.
    int revision = 1;
    while (world.task_definitions.count(service + ":" + std::to_string(revision))) ++revision;
    const std::string td = service + ":" + std::to_string(revision);
    world.task_definitions[td] = EcsTaskDefinitionSpec{service, revision, {{service, image}}};
    EcsClusterSpec& c = world.clusters[cluster];
    std::erase_if(c.services, [&](const EcsServiceSpec& s) { return s.name == service; });
    c.services.push_back({service, static_cast<int>(running), {{"ecs-svc/" + td, "PRIMARY", td}}});
    for (std::int64_t i = 0; i < running; ++i)
      c.tasks.push_back({service + "-" + std::to_string(revision) + "-" + std::to_string(i), td, "RUNNING", "RUNNING",
                         {{service, image, get_string(body, "digest").value_or("")}}});
    out["task_definition"] = td;
    out["tasks"] = static_cast<Json::Int64>(running);
  } else if (method == "POST" && route == "lambda/function") {
    if (!need({"function", "image_uri"})) return true;
    const std::string image = *get_string(body, "image_uri");
    std::lock_guard lock(worlds.mutex());
    LambdaFunctionSpec& f = worlds.world(account).functions[*get_string(body, "function")];
    f.package_type = "Image";
    const std::string version = std::to_string(f.versions.size() + 1);
    const std::string resolved = get_string(body, "resolved_image_uri").value_or(image);
    std::erase_if(f.versions, [](const LambdaVersionSpec& v) { return v.version == "$LATEST"; });
    f.versions.push_back({version, image, resolved});
    f.versions.push_back({"$LATEST", image, resolved});
    if (auto alias = get_string(body, "alias")) f.aliases[*alias] = version;
    out["version"] = version;
  } else if (method == "POST" && route == "apprunner/service") {
    if (!need({"service", "image"})) return true;
    std::lock_guard lock(worlds.mutex());
    auto& services = worlds.world(account).apprunner_services;
    const std::string name = *get_string(body, "service");
    std::erase_if(services, [&](const AppRunnerServiceSpec& s) { return s.name == name; });
    services.push_back({name, *get_string(body, "image"), "ECR"});
  } else if (method == "GET" && route == "world") {
    std::lock_guard lock(worlds.mutex());
    World& world = worlds.world(account);
    Json::Value ecs(Json::arrayValue), lambda(Json::arrayValue), apprunner(Json::arrayValue);
    for (const auto& [cluster, c] : world.clusters)
      for (const auto& s : c.services) ecs.append(cluster + "/" + s.name);
    for (const auto& [name, f] : world.functions) lambda.append(name);
    for (const auto& s : world.apprunner_services) apprunner.append(s.name);
    out["ecs_services"] = ecs;
    out["lambda_functions"] = lambda;
    out["apprunner_services"] = apprunner;
  } else {
    return false;
  }
  respond(json_response(200, out));
  return true;
}

void AdminService::poll_outcome(std::string id, std::chrono::steady_clock::time_point deadline, Responder respond) {
  for (const auto& o : aws_.runtime().outcomes()) {
    if (o.request_id == id) {
      respond(json_response(200, outcome_json(o)));
      return;
    }
  }
  if (stopping_ || std::chrono::steady_clock::now() >= deadline) {
    Json::Value pending;
    pending["status"] = "pending";
    pending["request_id"] = id;
    respond(json_response(404, pending));
    return;
  }
  server_.schedule(kOutcomePoll, [this, id = std::move(id), deadline, respond = std::move(respond)]() mutable {
    poll_outcome(std::move(id), deadline, std::move(respond));
  });
}

bool AdminService::handle(const HttpRequest& req, const Responder& respond) {
  if (req.path.rfind(kPrefix, 0) != 0) return false;
  const std::string route = req.path.substr(std::string(kPrefix).size());
  Json::Value body(Json::objectValue);
  if (req.method == "POST" && route != "invoke" && !req.body.empty()) {
    auto parsed = parse_json(req.body, route);
    if (!parsed || !parsed->isObject()) {
      respond(bad_request("expected a JSON object"));
      return true;
    }
    body = std::move(*parsed);
  }
  if (req.method == "GET" && route == "metrics") {
    respond(json_response(200, aws_.metrics()));
  } else if (req.method == "POST" && route == "invoke") {
    std::optional<std::chrono::milliseconds> timeout;
    if (auto ms = query_int(req.query, "timeout_ms")) timeout = std::chrono::milliseconds(*ms);
    Json::Value out;
    out["request_id"] = aws_.runtime().invoke(req.body, timeout);
    respond(json_response(200, out));
  } else if (req.method == "GET" && route.rfind("outcome/", 0) == 0) {
    const auto wait = std::min(std::chrono::milliseconds(query_int(req.query, "wait_ms").value_or(0)), kMaxOutcomeWait);
    poll_outcome(route.substr(std::string("outcome/").size()), std::chrono::steady_clock::now() + wait, respond);
  } else if (req.method == "POST" && route == "ecr/seed") {
    const std::string repo = get_string(body, "repository").value_or("");
    if (repo.empty()) {
      respond(bad_request("ecr/seed needs \"repository\""));
      return true;
    }
    const auto images = get_int(body, "images").value_or(0);
    const bool tagged = get_bool(body, "tagged").value_or(true);
    const auto indexes = get_int(body, "indexes").value_or(0);
    EcrState& ecr = aws_.ecr();
    ecr.create_repository(repo);
    for (std::int64_t i = 0; i < images; ++i) ecr.put_image(repo, tagged ? "v" + std::to_string(i) : std::string());
    for (std::int64_t i = 0; i < indexes; ++i) {
      // A multi-arch index over two untagged per-platform children, tagged like a release.
      const std::string amd64 = ecr.put_image(repo, "");
      const std::string arm64 = ecr.put_image(repo, "");
      ecr.put_index(repo, {amd64, arm64}, "multi-" + std::to_string(i));
    }
    Json::Value out;
    out["repository"] = repo;
    out["images"] = static_cast<Json::UInt64>(ecr.image_count(repo));
    out["tags"] = static_cast<Json::UInt64>(ecr.tag_count(repo));
    respond(json_response(200, out));
  } else if (req.method == "GET" && route == "ecr/summary") {
    const std::string repo = query_string(req.query, "repository");
    Json::Value out;
    out["repository"] = repo;
    out["exists"] = aws_.ecr().has_repository(repo);
    out["images"] = static_cast<Json::UInt64>(aws_.ecr().image_count(repo));
    out["tags"] = static_cast<Json::UInt64>(aws_.ecr().tag_count(repo));
    respond(json_response(200, out));
  } else if (req.method == "GET" && route == "responses") {
    Json::Value out(Json::arrayValue);
    for (const auto& r : aws_.s3().received()) {
      Json::Value j;
      j["key"] = r.key;
      j["body"] = r.body;
      j["content_type"] = r.content_type;
      j["too_large"] = r.too_large;
      j["status"] = r.status;
      out.append(j);
    }
    respond(json_response(200, out));
  } else if (req.method == "POST" && route == "response-url") {
    const std::string key = get_string(body, "key").value_or("");
    if (key.empty()) {
      respond(bad_request("response-url needs \"key\""));
      return true;
    }
    const auto expires = std::chrono::seconds(get_int(body, "expires_in").value_or(kDefaultUrlLifetime.count()));
    Json::Value out;
    out["url"] = aws_.s3().make_response_url(key, expires);
    respond(json_response(200, out));
  } else if (req.method == "POST" && route == "fault") {
    FaultRule rule;
    rule.operation = get_string(body, "operation").value_or("*");
    rule.count = static_cast<int>(get_int(body, "count").value_or(1));
    rule.http_status = static_cast<int>(get_int(body, "http_status").value_or(400));
    rule.error_code = get_string(body, "error_code").value_or("ThrottlingException");
    rule.message = get_string(body, "message").value_or("Rate exceeded");
    aws_.add_fault(rule);
    respond(json_response(200, Json::Value(Json::objectValue)));
  } else if (!handle_world(req.method, route, req.query, body, respond)) {
    Json::Value out;
    out["message"] = "no admin route " + req.method + " " + req.path;
    respond(json_response(404, out));
  }
  return true;
}

}  // namespace ecrs::localaws
