#include "world_services.hpp"

#include <algorithm>

#include "ecrs/common/json.hpp"

namespace ecrs::localaws {
namespace {

constexpr const char* kTarget = "AmazonEC2ContainerServiceV20141113.";
constexpr const char* kContentType = "application/x-amz-json-1.1";
constexpr int kDefaultMaxResults = 100;  // ECS list operations (API reference: "up to 100 results")

std::string last_segment(const std::string& name_or_arn) {
  const auto slash = name_or_arn.rfind('/');
  return slash == std::string::npos ? name_or_arn : name_or_arn.substr(slash + 1);
}

Json::Value page(const std::vector<std::string>& all, const Json::Value& in, const char* member) {
  const int max = in.isMember("maxResults") && in["maxResults"].isInt() ? in["maxResults"].asInt() : kDefaultMaxResults;
  std::size_t start = 0;
  if (in.isMember("nextToken") && in["nextToken"].isString()) start = std::stoul(in["nextToken"].asString());
  Json::Value out;
  out[member] = Json::Value(Json::arrayValue);
  std::size_t i = start;
  for (; i < all.size() && i < start + static_cast<std::size_t>(max); ++i) out[member].append(all[i]);
  if (i < all.size()) out["nextToken"] = std::to_string(i);
  return out;
}

struct Ctx {
  const std::string& account;
  const std::string& region;
  std::string arn(const std::string& kind, const std::string& rest) const {
    return "arn:aws:ecs:" + region + ":" + account + ":" + kind + "/" + rest;
  }
};

}  // namespace

bool EcsService::handle(const HttpRequest& req, const Responder& respond) {
  const std::string target = req.header("X-Amz-Target");
  if (req.method != "POST" || target.rfind(kTarget, 0) != 0) return false;
  const std::string op = target.substr(std::string(kTarget).size());
  AuthFailure failure;
  auto account = principals_.authenticate(req, worlds_.region(), "ecs", clock_.now(), &failure);
  if (!account) {
    respond(json_error(403, failure.error_code, failure.message, kContentType));
    return true;
  }
  auto parsed = parse_json(req.body.empty() ? "{}" : req.body, op);
  if (!parsed || !parsed->isObject()) {
    respond(json_error(400, "SerializationException", "Start of structure or map found where not expected.",
                       kContentType));
    return true;
  }
  const Json::Value& in = *parsed;
  std::lock_guard lock(worlds_.mutex());
  World& world = worlds_.world(*account);
  const Ctx ctx{*account, worlds_.region()};
  auto cluster_of = [&](std::string* name) -> EcsClusterSpec* {
    *name = last_segment(in.get("cluster", "default").asString());
    auto it = world.clusters.find(*name);
    return it == world.clusters.end() ? nullptr : &it->second;
  };
  auto no_cluster = [&] { respond(json_error(400, "ClusterNotFoundException", "Cluster not found.", kContentType)); };

  if (op == "ListClusters") {
    std::vector<std::string> arns;
    for (const auto& [name, c] : world.clusters) arns.push_back(ctx.arn("cluster", name));
    respond(json_reply(200, page(arns, in, "clusterArns"), kContentType));
  } else if (op == "ListServices") {
    std::string name;
    EcsClusterSpec* c = cluster_of(&name);
    if (!c) return no_cluster(), true;
    std::vector<std::string> arns;
    for (const auto& s : c->services) arns.push_back(ctx.arn("service", name + "/" + s.name));
    respond(json_reply(200, page(arns, in, "serviceArns"), kContentType));
  } else if (op == "DescribeServices") {
    std::string name;
    EcsClusterSpec* c = cluster_of(&name);
    if (!c) return no_cluster(), true;
    Json::Value out;
    out["services"] = Json::Value(Json::arrayValue);
    out["failures"] = Json::Value(Json::arrayValue);
    for (const auto& wanted : in["services"]) {
      const std::string sname = last_segment(wanted.asString());
      auto it = std::find_if(c->services.begin(), c->services.end(), [&](const auto& s) { return s.name == sname; });
      if (it == c->services.end()) {
        Json::Value f;
        f["arn"] = ctx.arn("service", name + "/" + sname);
        f["reason"] = "MISSING";
        out["failures"].append(f);
        continue;
      }
      Json::Value s;
      s["serviceArn"] = ctx.arn("service", name + "/" + it->name);
      s["serviceName"] = it->name;
      s["clusterArn"] = ctx.arn("cluster", name);
      s["status"] = "ACTIVE";
      s["desiredCount"] = it->desired_count;
      s["runningCount"] = it->desired_count;
      s["pendingCount"] = 0;
      s["deployments"] = Json::Value(Json::arrayValue);
      for (const auto& d : it->deployments) {
        Json::Value dep;
        dep["id"] = d.id;
        dep["status"] = d.status;
        dep["taskDefinition"] = ctx.arn("task-definition", d.task_definition);
        if (d.status == "PRIMARY") s["taskDefinition"] = dep["taskDefinition"];
        s["deployments"].append(dep);
      }
      out["services"].append(s);
    }
    respond(json_reply(200, out, kContentType));
  } else if (op == "ListTasks") {
    std::string name;
    EcsClusterSpec* c = cluster_of(&name);
    if (!c) return no_cluster(), true;
    const std::string desired = in.get("desiredStatus", "RUNNING").asString();
    std::vector<std::string> arns;
    for (const auto& t : c->tasks) {
      if (t.desired_status == desired) arns.push_back(ctx.arn("task", name + "/" + t.id));
    }
    respond(json_reply(200, page(arns, in, "taskArns"), kContentType));
  } else if (op == "DescribeTasks") {
    std::string name;
    EcsClusterSpec* c = cluster_of(&name);
    if (!c) return no_cluster(), true;
    Json::Value out;
    out["tasks"] = Json::Value(Json::arrayValue);
    out["failures"] = Json::Value(Json::arrayValue);
    for (const auto& wanted : in["tasks"]) {
      const std::string id = last_segment(wanted.asString());
      auto it = std::find_if(c->tasks.begin(), c->tasks.end(), [&](const auto& t) { return t.id == id; });
      if (it == c->tasks.end()) {
        Json::Value f;
        f["arn"] = wanted.asString();
        f["reason"] = "MISSING";
        out["failures"].append(f);
        continue;
      }
      Json::Value t;
      t["taskArn"] = ctx.arn("task", name + "/" + it->id);
      t["clusterArn"] = ctx.arn("cluster", name);
      t["taskDefinitionArn"] = ctx.arn("task-definition", it->task_definition);
      t["lastStatus"] = it->last_status;
      t["desiredStatus"] = it->desired_status;
      t["containers"] = Json::Value(Json::arrayValue);
      for (const auto& ct : it->containers) {
        Json::Value cj;
        cj["name"] = ct.name;
        cj["image"] = ct.image;
        if (!ct.image_digest.empty()) cj["imageDigest"] = ct.image_digest;
        cj["lastStatus"] = it->last_status;
        cj["taskArn"] = t["taskArn"];
        t["containers"].append(cj);
      }
      out["tasks"].append(t);
    }
    respond(json_reply(200, out, kContentType));
  } else if (op == "DescribeTaskDefinition") {
    std::string key = last_segment(in.get("taskDefinition", "").asString());
    if (key.find(':') == std::string::npos) {  // a family alone names its latest ACTIVE revision
      std::string best;
      int rev = 0;
      for (const auto& [k, td] : world.task_definitions) {
        if (td.family == key && td.revision > rev) rev = td.revision, best = k;
      }
      key = best;
    }
    auto it = world.task_definitions.find(key);
    if (it == world.task_definitions.end()) {
      respond(json_error(400, "ClientException", "Unable to describe task definition.", kContentType));
      return true;
    }
    Json::Value td;
    td["taskDefinitionArn"] = ctx.arn("task-definition", key);
    td["family"] = it->second.family;
    td["revision"] = it->second.revision;
    td["status"] = "ACTIVE";
    td["containerDefinitions"] = Json::Value(Json::arrayValue);
    for (const auto& c : it->second.containers) {
      Json::Value cj;
      cj["name"] = c.name;
      cj["image"] = c.image;
      td["containerDefinitions"].append(cj);
    }
    Json::Value out;
    out["taskDefinition"] = td;
    respond(json_reply(200, out, kContentType));
  } else {
    respond(json_error(400, "UnknownOperationException", "", kContentType));
  }
  return true;
}

}  // namespace ecrs::localaws
