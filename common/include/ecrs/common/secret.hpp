#pragma once
// Keys and tokens live in Secret, which prints only "***" (as smithy-rs marks Authorization sensitive), so a
// stray log of a credentials struct cannot leak. reveal() is the one deliberate way out: the signer uses it.
#include <ostream>
#include <string>

namespace ecrs {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  friend bool operator==(const Secret&, const Secret&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "***"; }

 private:
  std::string value_;
};

}  // namespace ecrs
