#pragma once
// What a request asks the handler to do, decided without I/O (issue 5, "Resource contract"). The handler runs
// the action and turns its result into a CustomResourceOutcome.
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/cfn/properties.hpp"
#include "ecrs/cfn/request.hpp"

namespace ecrs::cfn {

enum class Action {
  check_repository,  // Create/Update: the repository must exist (DescribeRepositories); touch no image
  empty_repository,  // Delete: delete every image (or, with dry_run, only log the plan)
  succeed,           // nothing to do: answer SUCCESS (reason says why, for the log)
  fail,              // answer FAILED with `reason`
};
std::string_view to_string(Action a);

struct Decision {
  Action action = Action::fail;
  std::string physical_resource_id;  // the id to answer with, whatever the action's result
  std::optional<EmptyEcrRepositoryProperties> properties;  // the repository to check or empty
  bool replacement = false;  // Update changed the repository: CloudFormation will Delete the old id
  std::string reason;        // for fail: the Reason; for succeed: why nothing was done
};

// Create: valid properties -> check_repository under the derived id; invalid -> fail (id: CREATE_FAILED marker).
// Update: invalid -> fail echoing the old id; valid -> check_repository, same id unless the repository changed
//   (never empties: the old repository is emptied by the Delete CloudFormation sends for the old id).
// Delete: CREATE_FAILED marker -> succeed; properties naming a repository -> empty_repository echoing the id;
//   no name, or properties that could never have passed Create -> succeed, nothing done.
Decision decide(const CustomResourceRequest& request, const std::optional<std::string>& default_repository_name);

}  // namespace ecrs::cfn
