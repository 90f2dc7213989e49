#include "ecrs/localaws/localaws.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "admin_service.hpp"
#include "cloudformation_service.hpp"
#include "aws_protocols.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/localaws/ecr_service.hpp"
#include "http_server.hpp"
#include "sso_service.hpp"
#include "world_services.hpp"

namespace ecrs::localaws {
namespace {

RuntimeOptions runtime_options(const Options& o, const Clock& clock) {
  RuntimeOptions r;
  r.region = o.region;
  r.account_id = o.account_id;
  r.function_name = o.function_name;
  r.function_timeout = o.function_timeout;
  r.access_key_id = o.access_key_id;
  r.secret_access_key = o.secret_access_key;
  r.session_token = o.session_token;
  r.clock = &clock;
  return r;
}

FaultOptions fault_options(const Options& o) {
  return FaultOptions{o.throttle_rate, o.error_rate, o.tps, o.seed};
}

HttpResponse not_found(const HttpRequest& req) {
  HttpResponse res;
  res.status = 404;
  res.headers.emplace_back("Content-Type", "application/json");
  Json::Value body;
  body["message"] = "localaws: nothing serves " + req.method + " " + req.path;
  res.body = to_compact_json(body);
  return res;
}

bool has_request_id(const HttpResponse& res) {
  HttpRequest view;  // reuse the case-insensitive lookup
  view.headers = res.headers;
  return view.has_header("x-amzn-RequestId");
}

}  // namespace

struct LocalAws::Impl {
  Options options;
  SystemClock clock;
  SystemRandom request_ids;  // request ids need not be reproducible; faults use the seeded engine
  EcrState state;
  FaultInjector faults;
  Metrics metrics;
  std::mutex lifecycle_mu;
  bool running = false;
  // The server is declared before the services: members die in reverse order, so services (which may still
  // hold deferred responders bound to the server's io_context) go first and the io_context last.
  HttpServer server;
  RuntimeApi runtime;
  S3Receiver s3;
  EcrService ecr;
  AdminService admin;
  // ECS, Lambda management, App Runner, STS and EC2 over every account's World (scheduled cleanup, issue 8).
  Worlds worlds;
  Principals principals;
  EcsService ecs_svc;
  AppRunnerService apprunner_svc;
  LambdaService lambda_svc;
  StsService sts_svc;
  Ec2Service ec2_svc;
  SsoPortalService sso_svc;  // GetRoleCredentials for SSO profiles, and its token registration route
  // CloudFormation's DescribeStackResource over seeded stacks (the deletion hook's auto-named repositories).
  CloudFormationStacks stacks;
  CloudFormationService cloudformation_svc;
  std::vector<Service*> services;

  Impl(Options o, LocalAws& self)
      : options(std::move(o)),
        state(options.account_id, options.region, &clock),
        faults(fault_options(options), clock),
        server([this](HttpRequest req, Responder respond) { dispatch(std::move(req), std::move(respond)); },
               options.threads),
        runtime(runtime_options(options, clock)),
        s3("http://" + options.host + ":" + std::to_string(options.port), options.access_key_id,
           options.secret_access_key, clock),
        ecr(state,
            VerifierOptions{options.access_key_id, options.secret_access_key, options.session_token, options.region,
                            "ecr"},
            faults, metrics, clock, request_ids,
            [this](std::chrono::steady_clock::time_point at, Responder r, HttpResponse res) {
              server.respond_at(at, std::move(r), std::move(res));
            }),
        admin(self, server),
        worlds(options.account_id, options.region),
        principals(options.account_id, options.access_key_id, options.secret_access_key, options.session_token),
        ecs_svc(worlds, principals, clock),
        apprunner_svc(worlds, principals, clock),
        lambda_svc(worlds, principals, clock),
        sts_svc(worlds, principals, clock),
        ec2_svc(worlds, principals, clock),
        sso_svc(principals, clock),
        stacks(options.account_id, options.region, clock),
        cloudformation_svc(stacks, principals, options.region, clock, request_ids),
        // The Runtime API comes before Lambda management: it claims only .../functions/{name}/invocations.
        services{&sso_svc, &admin, &s3, &runtime, &ecr, &ecs_svc, &apprunner_svc, &lambda_svc, &sts_svc, &ec2_svc,
                 &cloudformation_svc} {
    for (const auto& [op, burst] : options.tps_burst) {
      auto rate = options.tps.find(op);
      if (rate != options.tps.end()) faults.set_tps(op, rate->second, burst);
    }
    for (const auto& op : options.deny) faults.deny(op);
    if (options.latency_ms > 0) faults.set_latency("*", std::chrono::milliseconds(options.latency_ms));
  }

  void dispatch(HttpRequest req, Responder respond) {
    Responder stamped = [this, respond = std::move(respond)](HttpResponse res) {
      if (!has_request_id(res)) res.headers.emplace_back("x-amzn-RequestId", make_request_id(request_ids));
      respond(std::move(res));
    };
    try {
      for (Service* s : services) {
        if (s->handle(req, stamped)) return;
      }
      stamped(not_found(req));
    } catch (const std::exception& e) {
      // A bug in a service must not take the server down; the client sees what AWS sends for its own faults.
      HttpResponse res;
      res.status = 500;
      res.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
      res.headers.emplace_back("x-amzn-ErrorType", "ServerException");
      Json::Value body;
      body["__type"] = "ServerException";
      body["message"] = std::string("localaws internal error: ") + e.what();
      res.body = to_compact_json(body);
      stamped(std::move(res));
    }
  }
};

LocalAws::LocalAws(Options options) : impl_(std::make_unique<Impl>(std::move(options), *this)) {
  if (!impl_->options.state_file.empty()) {
    std::ifstream in(impl_->options.state_file);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      auto parsed = parse_json(text.str(), impl_->options.state_file);
      if (!parsed) throw std::runtime_error("localaws: cannot read state file: " + parsed.error().describe());
      auto loaded = impl_->state.load_json(*parsed);
      if (!loaded) throw std::runtime_error("localaws: " + loaded.error().describe());
    }
  }
}

LocalAws::~LocalAws() { stop(); }

void LocalAws::start() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->running) return;
  impl_->server.start(impl_->options.host, impl_->options.port);
  impl_->s3.set_endpoint_base(endpoint());
  impl_->running = true;
}

void LocalAws::stop() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (!impl_->running) return;
  impl_->running = false;
  for (Service* s : impl_->services) s->shutdown();
  impl_->server.stop();
  if (!impl_->options.state_file.empty()) {
    std::ofstream out(impl_->options.state_file, std::ios::trunc);
    out << to_compact_json(impl_->state.to_json()) << "\n";
  }
}

std::uint16_t LocalAws::port() const { return impl_->server.port(); }
std::string LocalAws::endpoint() const { return "http://" + impl_->options.host + ":" + std::to_string(port()); }
std::string LocalAws::runtime_api() const { return impl_->options.host + ":" + std::to_string(port()); }
const Options& LocalAws::options() const { return impl_->options; }
EcrState& LocalAws::ecr() { return impl_->state; }
RuntimeApi& LocalAws::runtime() { return impl_->runtime; }
S3Receiver& LocalAws::s3() { return impl_->s3; }
EcrService& LocalAws::ecr_service() { return impl_->ecr; }
Worlds& LocalAws::worlds() { return impl_->worlds; }
CloudFormationStacks& LocalAws::cloudformation() { return impl_->stacks; }
void LocalAws::add_fault(FaultRule rule) { impl_->faults.add_fault(std::move(rule)); }
void LocalAws::set_latency(std::string operation, std::chrono::milliseconds latency) {
  impl_->faults.set_latency(std::move(operation), latency);
}
void LocalAws::set_tps(const std::string& operation, double calls_per_second) {
  impl_->faults.set_tps(operation, calls_per_second);
}
void LocalAws::set_tps(const std::string& operation, double calls_per_second, double burst) {
  impl_->faults.set_tps(operation, calls_per_second, burst);
}
void LocalAws::deny(std::string operation) { impl_->faults.deny(std::move(operation)); }
void LocalAws::on_call(std::string operation, std::function<void(EcrState&)> hook) {
  impl_->faults.on_call(std::move(operation), std::move(hook));
}

void LocalAws::on_call(std::string operation, std::function<void(const Json::Value&, EcrState&)> hook) {
  impl_->faults.on_call(std::move(operation), std::move(hook));
}
Json::Value LocalAws::metrics() const {
  Json::Value m = impl_->metrics.to_json();
  const auto limited = impl_->faults.rate_limited();
  for (const auto& op : m["operations"].getMemberNames()) {
    const auto it = limited.find(op);
    m["operations"][op]["rate_limited"] = static_cast<Json::UInt64>(it == limited.end() ? 0 : it->second);
  }
  return m;
}

}  // namespace ecrs::localaws
