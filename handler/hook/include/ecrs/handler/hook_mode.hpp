#pragma once
// The stack-deletion hook as an event mode: CloudFormation Lambda Hooks requests (cfn::looks_like_hook_request)
// are answered with the Lambda result itself; there is no ResponseURL.
#include <memory>

#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {

std::unique_ptr<EventMode> make_hook_mode(AwsSession& session);

}  // namespace ecrs::handler
