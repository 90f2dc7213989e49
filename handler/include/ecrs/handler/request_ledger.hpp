#pragma once
// Duplicate deliveries: Lambda's asynchronous invocation may deliver one event more than once, even without
// errors (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), and
// CloudFormation must get exactly one response per StackId+RequestId. The ledger remembers, for this process,
// which requests were answered and how far each continuation chain got. It is bounded: the oldest entries go.
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace ecrs::handler {

inline constexpr std::size_t kLedgerCapacity = 1024;  // a warm container sees far fewer requests than this

class RequestLedger {
 public:
  explicit RequestLedger(std::size_t capacity = kLedgerCapacity) : capacity_(capacity) {}

  // Claims (key, continuation) for handling. False when the request was already answered or this part of
  // its continuation chain was already started here: the delivery is a duplicate.
  bool claim(const std::string& key, int continuation);
  void mark_answered(const std::string& key);
  // The work was claimed but no response went out (the PUT failed): a redelivery may try again.
  void release(const std::string& key, int continuation);
  bool answered(const std::string& key) const;

 private:
  struct Entry {
    bool answered = false;
    int highest_started = -1;
  };
  void touch(const std::string& key);

  mutable std::mutex mu_;
  std::size_t capacity_;
  std::map<std::string, Entry> entries_;
  std::deque<std::string> order_;
};

}  // namespace ecrs::handler
