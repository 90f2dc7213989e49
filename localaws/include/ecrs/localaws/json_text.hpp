#pragma once
// Compact JSON written straight into one string, for replies too large to build as a Json::Value tree first: a
// 1,000-entry DescribeImages page is 1,000 objects of eleven members, and allocating, sorting and freeing that
// tree cost ~20 ms per page, all of it under the ECR state lock. The text is byte for byte what jsoncpp's
// to_compact_json (emitUTF8) writes for the same value, provided members are written in sorted order (jsoncpp
// objects are std::maps): control characters as \b \f \n \r \t or \u00xx, '"' and '\' escaped, other bytes
// (UTF-8 included) as they are; doubles as printf "%.17g" with ".0" added to a whole number. Tests hold it to
// that by parsing a reply and writing it again with jsoncpp.
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

namespace ecrs::localaws {

class JsonText {
 public:
  explicit JsonText(std::size_t reserve = 0) { out_.reserve(reserve); }

  JsonText& begin_object() { return open('{'); }
  JsonText& end_object() { return close('}'); }
  JsonText& begin_array() { return open('['); }
  JsonText& end_array() { return close(']'); }

  JsonText& key(std::string_view name) {
    separate();
    quoted(name);
    out_ += ':';
    need_comma_ = false;
    return *this;
  }

  JsonText& string(std::string_view s) {
    separate();
    quoted(s);
    need_comma_ = true;
    return *this;
  }

  JsonText& number(std::int64_t n) {
    separate();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, r.ptr);
    need_comma_ = true;
    return *this;
  }

  // jsoncpp's valueToString(double): 17 significant digits, and ".0" when that reads as an integer. std::to_chars
  // with a precision is specified as printf's %.*g in the C locale.
  JsonText& number(double d) {
    separate();
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::general, kDoubleDigits);
    const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
    out_ += text;
    if (text.find_first_of(".e") == std::string_view::npos) out_ += ".0";
    need_comma_ = true;
    return *this;
  }

  // A value already written as JSON (an array built apart, a Json::Value written by to_compact_json).
  JsonText& raw(std::string_view json) {
    separate();
    out_ += json;
    need_comma_ = true;
    return *this;
  }

  // Members with a string value, the common case.
  JsonText& member(std::string_view name, std::string_view value) { return key(name).string(value); }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  static constexpr int kDoubleDigits = 17;  // jsoncpp StreamWriterBuilder's default "precision"

  JsonText& open(char c) {
    separate();
    out_ += c;
    need_comma_ = false;
    return *this;
  }

  JsonText& close(char c) {
    out_ += c;
    need_comma_ = true;
    return *this;
  }

  void separate() {
    if (need_comma_) out_ += ',';
  }

  // Eight bytes at a time until one may need escaping: a 1,000-image DescribeImages page is ~390 KB of strings,
  // and the byte loop alone took a third of localaws's time serving it (perf), under the state lock.
  static bool needs_escape(std::uint64_t w) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    auto has_zero = [](std::uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
    const bool below_space = ((w - kOnes * 0x20) & ~w & kHigh) != 0;  // some byte < 0x20 (or a false alarm)
    return below_space || has_zero(w ^ (kOnes * '"')) || has_zero(w ^ (kOnes * '\\'));
  }

  void quoted(std::string_view s) {
    out_ += '"';
    std::size_t run = 0;  // start of the bytes not yet copied
    std::size_t i = 0;
    for (std::uint64_t w; i + 8 <= s.size(); i += 8) {
      std::memcpy(&w, s.data() + i, 8);
      if (needs_escape(w)) break;
    }
    for (; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      escape(c);
    }
    out_.append(s.data() + run, s.size() - run);
    out_ += '"';
  }

  void escape(unsigned char c) {
    switch (c) {
      case '"': out_ += "\\\""; return;
      case '\\': out_ += "\\\\"; return;
      case '\b': out_ += "\\b"; return;
      case '\f': out_ += "\\f"; return;
      case '\n': out_ += "\\n"; return;
      case '\r': out_ += "\\r"; return;
      case '\t': out_ += "\\t"; return;
      default: {
        constexpr const char* kHex = "0123456789abcdef";
        const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out_.append(u, sizeof u);
      }
    }
  }

  std::string out_;
  bool need_comma_ = false;
};

}  // namespace ecrs::localaws
