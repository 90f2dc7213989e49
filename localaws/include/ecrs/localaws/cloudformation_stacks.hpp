#pragma once
// The stacks localaws's CloudFormation (query protocol, API 2010-05-15) knows: just enough for
// DescribeStackResource, which the deletion hook uses to find the name of a repository CloudFormation generated.
// Tests seed it; the service reads it. Stacks belong to the main account (keys STS issued for another account
// see none).
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ecrs/common/system.hpp"

namespace ecrs::localaws {

struct StackResourceSpec {
  std::string logical_resource_id;
  std::string physical_resource_id;  // empty: the resource was never created (the reply then has none)
  std::string resource_type;         // e.g. AWS::ECR::Repository
  std::string resource_status = "CREATE_COMPLETE";
  std::chrono::system_clock::time_point last_updated{};  // set by put_resource when left at the epoch
};

struct StackSpec {
  std::string stack_name;
  std::string stack_id;  // arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID
  std::string stack_status = "CREATE_COMPLETE";
  std::map<std::string, StackResourceSpec> resources;  // by logical id
};

class CloudFormationStacks {
 public:
  CloudFormationStacks(std::string account_id, std::string region, const Clock& clock);

  // Adds a stack (or replaces the live one of that name) and returns its stack id; one is made up when empty.
  std::string put_stack(const std::string& stack_name, std::string stack_id = "");
  // Adds or replaces a resource of a stack named by name or id; false when there is no such stack.
  bool put_resource(const std::string& stack_name_or_id, StackResourceSpec resource);
  // DELETE_COMPLETE: as in AWS, the stack is then found by its id only (DescribeStackResource, "Deleted stacks:
  // You must specify the unique stack ID").
  bool set_stack_status(const std::string& stack_name_or_id, std::string status);

  // A copy of the stack `name_or_id` names: its id, or the name of a stack that is not DELETE_COMPLETE.
  std::optional<StackSpec> find(const std::string& name_or_id) const;

  // Requests served, by Action (DescribeStackResource, ...), including rejected ones.
  void count_call(const std::string& action);
  std::uint64_t calls(const std::string& action) const;

  const std::string& account_id() const { return account_id_; }

 private:
  std::string account_id_;
  std::string region_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::vector<StackSpec> stacks_;  // in creation order; deleted stacks stay, as AWS keeps them for 90 days
  std::map<std::string, std::uint64_t> calls_;
  unsigned next_id_ = 0;
};

}  // namespace ecrs::localaws
