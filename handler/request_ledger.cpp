#include "ecrs/handler/request_ledger.hpp"

namespace ecrs::handler {

void RequestLedger::touch(const std::string& key) {
  if (entries_.count(key) != 0) return;
  entries_[key] = Entry{};
  order_.push_back(key);
  while (order_.size() > capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

bool RequestLedger::claim(const std::string& key, int continuation) {
  std::lock_guard lock(mu_);
  touch(key);
  Entry& e = entries_[key];
  if (e.answered || continuation <= e.highest_started) return false;
  e.highest_started = continuation;
  return true;
}

void RequestLedger::mark_answered(const std::string& key) {
  std::lock_guard lock(mu_);
  touch(key);
  entries_[key].answered = true;
}

void RequestLedger::release(const std::string& key, int continuation) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.highest_started == continuation) it->second.highest_started = continuation - 1;
}

bool RequestLedger::answered(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.answered;
}

}  // namespace ecrs::handler
