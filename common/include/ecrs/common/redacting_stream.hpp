#pragma once
// A stream buffer that passes text to another one with every registered credential blanked (redaction.hpp).
// The CLI's stdout and stderr go through it: a verb prints AWS error text itself (Error::describe() after a
// failed call), and InvalidSignatureException quotes the canonical request, whose x-amz-security-token header
// is the session token. Text is held until a newline or a flush, so a value is never split between two
// redactions; a progress line that ends in '\r' is flushed by its writer and redacted whole.
#include <streambuf>
#include <string>

namespace ecrs {

class RedactingStreambuf final : public std::streambuf {
 public:
  explicit RedactingStreambuf(std::streambuf& target) : target_(&target) {}
  ~RedactingStreambuf() override { sync(); }
  RedactingStreambuf(const RedactingStreambuf&) = delete;
  RedactingStreambuf& operator=(const RedactingStreambuf&) = delete;

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  // Writes what is held through the redactor; false when the target refused it.
  bool drain();

  std::streambuf* target_;
  std::string pending_;
};

}  // namespace ecrs
