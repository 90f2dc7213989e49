#include "ecrs/common/redacting_stream.hpp"

#include "ecrs/common/redaction.hpp"

namespace ecrs {

bool RedactingStreambuf::drain() {
  if (pending_.empty()) return true;
  const std::string out = redact_secrets(std::move(pending_));
  pending_.clear();
  const auto n = static_cast<std::streamsize>(out.size());
  return target_->sputn(out.data(), n) == n;
}

RedactingStreambuf::int_type RedactingStreambuf::overflow(int_type ch) {
  if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
  pending_.push_back(traits_type::to_char_type(ch));
  if (ch == '\n' && !drain()) return traits_type::eof();
  return ch;
}

std::streamsize RedactingStreambuf::xsputn(const char* s, std::streamsize n) {
  pending_.append(s, static_cast<std::size_t>(n));
  if (pending_.find('\n') != std::string::npos) {
    // Everything up to the last newline goes now; a line still being written waits for its end or a flush.
    const auto cut = pending_.rfind('\n') + 1;
    std::string rest = pending_.substr(cut);
    pending_.resize(cut);
    const bool ok = drain();
    pending_ = std::move(rest);
    if (!ok) return 0;
  }
  return n;
}

int RedactingStreambuf::sync() {
  if (!drain()) return -1;
  return target_->pubsync();
}

}  // namespace ecrs
