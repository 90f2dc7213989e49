#pragma once
// Just enough XML for the query protocol (STS replies and errors): the text of the first <Tag>...</Tag>,
// entities decoded. AWS query responses are flat and namespace-free where we read them.
#include <optional>
#include <string>
#include <string_view>

namespace ecrs::aws {

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);
std::string xml_unescape(std::string_view s);

}  // namespace ecrs::aws
