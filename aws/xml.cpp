#include "ecrs/aws/xml.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace ecrs::aws {

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  std::string open = "<" + std::string(tag);
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    std::size_t after = pos + open.size();
    if (after >= xml.size()) return std::nullopt;
    char c = xml[after];
    if (c == '>' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '/') {
      auto gt = xml.find('>', after);
      if (gt == std::string_view::npos) return std::nullopt;
      if (xml[gt - 1] == '/') return std::string();  // <Tag/>
      std::string close = "</" + std::string(tag) + ">";
      auto end = xml.find(close, gt + 1);
      if (end == std::string_view::npos) return std::nullopt;
      return xml_unescape(xml.substr(gt + 1, end - gt - 1));
    }
    pos = after;  // a longer tag sharing the prefix (<CodeX>)
  }
  return std::nullopt;
}

std::string xml_unescape(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities = {
      {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}}};
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '&') {
      out += s[i++];
      continue;
    }
    bool done = false;
    for (const auto& [ent, ch] : kEntities) {
      if (s.substr(i, ent.size()) == ent) {
        out += ch;
        i += ent.size();
        done = true;
        break;
      }
    }
    if (!done && s.substr(i, 2) == "&#") {
      auto semi = s.find(';', i);
      unsigned cp = 0;
      bool hex = i + 2 < s.size() && (s[i + 2] == 'x' || s[i + 2] == 'X');
      std::size_t start = i + (hex ? 3 : 2);
      if (semi != std::string_view::npos) {
        auto [p, ec] = std::from_chars(s.data() + start, s.data() + semi, cp, hex ? 16 : 10);
        if (ec == std::errc{} && p == s.data() + semi && cp < 0x80) {
          out += static_cast<char>(cp);
          i = semi + 1;
          done = true;
        }
      }
    }
    if (!done) out += s[i++];
  }
  return out;
}

}  // namespace ecrs::aws
