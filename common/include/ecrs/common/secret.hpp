#pragma once
// Keys and tokens live in Secret, which prints only "***" (as smithy-rs marks Authorization sensitive), so a
// stray log of a credentials struct cannot leak. reveal() is the one deliberate way out: the signer uses it.
// Every value is registered with the process-wide redactor (redaction.hpp) as it is made, so whatever source
// produced it (environment, profile, container, IMDS, AssumeRole, a refresh) its text never leaves the process
// in an error message, a log line, a custom-resource Reason or a Runtime API payload.
#include <ostream>
#include <string>

#include "ecrs/common/redaction.hpp"

namespace ecrs {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) { register_secret(value_); }
  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  friend bool operator==(const Secret&, const Secret&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "***"; }

 private:
  std::string value_;
};

}  // namespace ecrs
