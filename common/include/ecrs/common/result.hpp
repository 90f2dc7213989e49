#pragma once
// Result<T>: a T or an Error, with std::expected's member names so it becomes an alias under C++23.
// GCC 12 ships <expected> only in C++23 mode (see shared/docs/style.md).
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace ecrs {

// What aws-sdk-cpp's AWSError carries, without setters. `retryable` is set in one place: aws/ classification.
struct Error {
  std::string code;        // AWS's code (ThrottlingException) or ours (TransportError, InvalidEvent)
  std::string message;     // AWS's message or ours; never a secret
  std::string request_id;  // x-amzn-RequestId; empty when no response arrived
  int http_status = 0;     // 0 when no response arrived
  bool retryable = false;
  std::string context;     // the call and its subject: "BatchDeleteImage repository=web"

  // "context: code: message (HTTP 400, request id ...)" for logs and CloudFormation Reasons.
  std::string describe() const {
    std::string out;
    if (!context.empty()) out += context + ": ";
    out += code;
    if (!message.empty()) out += ": " + message;
    if (http_status != 0 || !request_id.empty()) {
      out += " (";
      if (http_status != 0) out += "HTTP " + std::to_string(http_status);
      if (!request_id.empty()) out += (http_status != 0 ? ", request id " : "request id ") + request_id;
      out += ")";
    }
    return out;
  }
};

inline Error make_error(std::string code, std::string message, std::string context = {}) {
  Error e;
  e.code = std::move(code);
  e.message = std::move(message);
  e.context = std::move(context);
  return e;
}

// Tag type so `return Unexpected{err};` reads like std::unexpected.
struct Unexpected {
  Error error;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit like std::expected
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  Error& error() & { assert(!has_value()); return std::get<1>(v_); }
  const Error& error() const& { assert(!has_value()); return std::get<1>(v_); }
  Error&& error() && { assert(!has_value()); return std::get<1>(std::move(v_)); }

  template <typename U>
  T value_or(U&& fallback) const& { return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const { assert(ok_); }
  Error& error() & { assert(!ok_); return error_; }
  const Error& error() const& { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace ecrs
