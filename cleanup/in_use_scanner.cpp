#include "ecrs/cleanup/in_use_scanner.hpp"

#include <map>
#include <set>

namespace ecrs::cleanup {
namespace {

void add_ref(ScanResult& out, const std::string& image, const std::string& user) {
  if (auto ref = parse_image_ref(image)) out.refs.push_back({*ref, user});
}

template <typename T>
std::vector<std::vector<T>> chunks(const std::vector<T>& items, std::size_t n) {
  std::vector<std::vector<T>> out;
  for (std::size_t i = 0; i < items.size(); i += n) {
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + n)));
  }
  return out;
}

Result<void> scan_ecs(EcsClient& ecs, const std::string& label, ScanResult& out) {
  std::vector<std::string> clusters;
  std::optional<std::string> token;
  do {
    auto page = ecs.list_clusters(token);
    if (!page) return page.error();
    clusters.insert(clusters.end(), page->arns.begin(), page->arns.end());
    token = page->next_token;
  } while (token);
  out.counts.clusters += static_cast<int>(clusters.size());

  // task definition -> who references it (service deployments), described once each.
  std::map<std::string, std::vector<std::string>> task_definitions;
  for (const auto& cluster : clusters) {
    std::vector<std::string> services;
    token.reset();
    do {
      auto page = ecs.list_services(cluster, token);
      if (!page) return page.error();
      services.insert(services.end(), page->arns.begin(), page->arns.end());
      token = page->next_token;
    } while (token);
    for (const auto& batch : chunks(services, kMaxDescribeServices)) {
      auto described = ecs.describe_services(cluster, batch);
      if (!described) return described.error();
      for (const auto& svc : *described) {
        ++out.counts.services;
        const std::string who = "ecs service " + svc.service_arn;
        if (!svc.task_definition.empty()) task_definitions[svc.task_definition].push_back(who);
        for (const auto& d : svc.deployments) {
          if (!d.task_definition.empty())
            task_definitions[d.task_definition].push_back(who + " (deployment " + d.status + ")");
        }
      }
    }
    std::vector<std::string> tasks;
    token.reset();
    do {
      auto page = ecs.list_tasks(cluster, token);
      if (!page) return page.error();
      tasks.insert(tasks.end(), page->arns.begin(), page->arns.end());
      token = page->next_token;
    } while (token);
    for (const auto& batch : chunks(tasks, kMaxDescribeTasks)) {
      auto described = ecs.describe_tasks(cluster, batch);
      if (!described) return described.error();
      for (const auto& task : *described) {
        ++out.counts.tasks;
        const std::string who = "ecs task " + task.task_arn;
        if (!task.task_definition_arn.empty()) task_definitions[task.task_definition_arn].push_back(who);
        for (const auto& c : task.containers) {
          add_ref(out, c.image, who + " container " + c.name);
          // The digest the task runs: the reference may name a tag that has since moved to another image.
          if (!c.image_digest.empty()) {
            if (auto ref = parse_image_ref(c.image)) {
              ref->digest = c.image_digest;
              out.refs.push_back({*ref, who + " container " + c.name + " (resolved)"});
            }
          }
        }
      }
    }
  }
  for (const auto& [td, users] : task_definitions) {
    auto def = ecs.describe_task_definition(td);
    if (!def) return def.error();
    ++out.counts.task_definitions;
    for (const auto& c : def->container_definitions) {
      add_ref(out, c.image, users.front() + " via " + td + " container " + c.name);
    }
  }
  (void)label;
  return {};
}

Result<void> scan_lambda(LambdaClient& lambda, ScanResult& out) {
  std::vector<std::string> functions;
  std::optional<std::string> marker;
  do {
    auto page = lambda.list_functions(marker);
    if (!page) return page.error();
    for (const auto& f : page->items) {
      if (f.package_type == "Image") functions.push_back(f.function_name);
    }
    marker = page->next_marker;
  } while (marker);
  for (const auto& fn : functions) {
    ++out.counts.functions;
    std::map<std::string, std::vector<std::string>> aliases_by_version;
    marker.reset();
    do {
      auto page = lambda.list_aliases(fn, marker);
      if (!page) return page.error();
      for (const auto& a : page->items) {
        aliases_by_version[a.function_version].push_back(a.name);
        for (const auto& v : a.additional_versions) aliases_by_version[v].push_back(a.name + " (weighted)");
      }
      marker = page->next_marker;
    } while (marker);
    std::set<std::string> versions;
    marker.reset();
    do {
      auto page = lambda.list_versions_by_function(fn, marker);
      if (!page) return page.error();
      for (const auto& v : page->items) versions.insert(v.version);
      marker = page->next_marker;
    } while (marker);
    // An alias may route to a version the listing no longer pages to; describe it anyway.
    for (const auto& [v, names] : aliases_by_version) versions.insert(v);
    for (const auto& v : versions) {
      auto code = lambda.get_function(fn, v);
      if (!code) return code.error();
      ++out.counts.function_versions;
      std::string who = "lambda " + fn + ":" + v;
      if (auto it = aliases_by_version.find(v); it != aliases_by_version.end()) {
        who += " (alias";
        for (const auto& n : it->second) who += " " + n;
        who += ")";
      }
      add_ref(out, code->image_uri, who);
      if (!code->resolved_image_uri.empty()) add_ref(out, code->resolved_image_uri, who + " (resolved)");
    }
  }
  return {};
}

Result<void> scan_apprunner(AppRunnerClient& apprunner, ScanResult& out) {
  std::optional<std::string> token;
  do {
    auto page = apprunner.list_services(token);
    if (!page) return page.error();
    for (const auto& s : page->first) {
      auto svc = apprunner.describe_service(s.service_arn);
      if (!svc) return svc.error();
      ++out.counts.apprunner_services;
      if (!svc->image_identifier.empty()) add_ref(out, svc->image_identifier, "apprunner " + svc->service_arn);
    }
    token = page->second;
  } while (token);
  return {};
}

}  // namespace

Result<ScanResult> scan_in_use(const ScanClients& clients, Logger& logger) {
  ScanResult out;
  if (clients.ecs) {
    if (auto r = scan_ecs(*clients.ecs, clients.label, out); !r) return r.error();
  }
  if (clients.lambda) {
    if (auto r = scan_lambda(*clients.lambda, out); !r) return r.error();
  }
  if (clients.apprunner) {
    if (auto r = scan_apprunner(*clients.apprunner, out); !r) return r.error();
  }
  if (!clients.label.empty()) {
    for (auto& r : out.refs) r.user = clients.label + " " + r.user;
  }
  Json::Value f;
  f["scope"] = clients.label;
  f["references"] = static_cast<Json::UInt64>(out.refs.size());
  f["clusters"] = out.counts.clusters;
  f["services"] = out.counts.services;
  f["tasks"] = out.counts.tasks;
  f["functions"] = out.counts.functions;
  f["function_versions"] = out.counts.function_versions;
  f["apprunner_services"] = out.counts.apprunner_services;
  logger.debug("in-use scan", f);
  return out;
}

}  // namespace ecrs::cleanup
