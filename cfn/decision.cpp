#include "ecrs/cfn/decision.hpp"

#include "ecrs/cfn/physical_id.hpp"

namespace ecrs::cfn {
namespace {

Decision fail(std::string id, std::string reason) {
  Decision d;
  d.action = Action::fail;
  d.physical_resource_id = std::move(id);
  d.reason = std::move(reason);
  return d;
}

Decision succeed(std::string id, std::string reason) {
  Decision d;
  d.action = Action::succeed;
  d.physical_resource_id = std::move(id);
  d.reason = std::move(reason);
  return d;
}

// What the resource pointed at before an Update: its old properties, else what our id names.
std::optional<RepositoryRef> previous_target(const CustomResourceRequest& request,
                                             const std::optional<std::string>& default_repository_name) {
  auto old = parse_properties(request.old_resource_properties, default_repository_name, UnknownProperties::ignore);
  if (old) return RepositoryRef{old->registry_id, old->repository_name};
  return parse_physical_resource_id(request.physical_resource_id);
}

// Same repository unless the name differs or both registries are given and differ. A change between "default"
// and an explicit account id may well be the same registry; calling it a replacement would make CloudFormation
// Delete the old id and empty the repository the resource still points at. The safe error is the other way:
// at worst an old repository is not emptied.
bool same_repository(const RepositoryRef& before, const EmptyEcrRepositoryProperties& after) {
  if (before.repository_name != after.repository_name) return false;
  if (before.registry_id && after.registry_id) return *before.registry_id == *after.registry_id;
  return true;
}

Decision decide_create(const CustomResourceRequest& request, const std::optional<std::string>& default_name) {
  auto props = parse_properties(request.resource_properties, default_name, UnknownProperties::reject);
  if (!props) return fail(create_failed_id(request.logical_resource_id), props.error().message);
  Decision d;
  d.action = Action::check_repository;
  d.physical_resource_id = physical_resource_id(props->registry_id, props->repository_name);
  d.properties = std::move(*props);
  return d;
}

Decision decide_update(const CustomResourceRequest& request, const std::optional<std::string>& default_name) {
  auto props = parse_properties(request.resource_properties, default_name, UnknownProperties::reject);
  // A FAILED Update keeps the old id; CloudFormation rolls back with the old properties.
  if (!props) return fail(request.physical_resource_id, props.error().message);
  Decision d;
  d.action = Action::check_repository;
  auto before = previous_target(request, default_name);
  if (before && same_repository(*before, *props)) {
    d.physical_resource_id = request.physical_resource_id;
  } else {
    d.physical_resource_id = physical_resource_id(props->registry_id, props->repository_name);
    d.replacement = d.physical_resource_id != request.physical_resource_id;
  }
  d.properties = std::move(*props);
  return d;
}

Decision decide_delete(const CustomResourceRequest& request, const std::optional<std::string>& default_name) {
  const std::string& id = request.physical_resource_id;
  if (is_create_failed_id(id)) return succeed(id, "the Create of this resource failed; nothing to delete");

  const Json::Value& props = request.resource_properties;
  const Json::Value& name = props[kRepositoryNameProperty];
  const bool name_given = name.isString() && !name.asString().empty();
  if (!name_given) {
    // Create used ECR_REPOSITORY_NAME only if the id names that repository; if the environment changed since,
    // emptying whatever it names now would hit a repository this resource never managed.
    if (default_name && !default_name->empty()) {
      auto from_env = parse_properties(props, default_name, UnknownProperties::ignore);
      if (from_env && physical_resource_id(from_env->registry_id, from_env->repository_name) == id) {
        Decision d;
        d.action = Action::empty_repository;
        d.physical_resource_id = id;
        d.properties = std::move(*from_env);
        return d;
      }
    }
    return succeed(id, "RepositoryName is missing on Delete; nothing deleted");
  }
  auto parsed = parse_properties(props, std::nullopt, UnknownProperties::ignore);
  if (!parsed) {
    // Properties that fail validation could never have passed Create, so no repository was ever managed under
    // them; failing here would only leave the stack DELETE_FAILED.
    return succeed(id, "properties are not valid (" + parsed.error().message + "); nothing deleted");
  }
  Decision d;
  d.action = Action::empty_repository;
  d.physical_resource_id = id;
  d.properties = std::move(*parsed);
  return d;
}

}  // namespace

std::string_view to_string(Action a) {
  switch (a) {
    case Action::check_repository: return "check_repository";
    case Action::empty_repository: return "empty_repository";
    case Action::succeed: return "succeed";
    case Action::fail: return "fail";
  }
  return "fail";
}

Decision decide(const CustomResourceRequest& request, const std::optional<std::string>& default_repository_name) {
  switch (request.request_type) {
    case RequestType::Create: return decide_create(request, default_repository_name);
    case RequestType::Update: return decide_update(request, default_repository_name);
    case RequestType::Delete: return decide_delete(request, default_repository_name);
  }
  return fail(request.physical_resource_id, "unknown RequestType");
}

}  // namespace ecrs::cfn
