#include "ecrs/ecr/ecr_client.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <initializer_list>

#include "ecrs/common/json.hpp"

namespace ecrs::ecr {
namespace {

constexpr const char* kInvalidResponse = "InvalidResponse";

Error invalid(std::string_view operation, std::string message) {
  return make_error(kInvalidResponse, std::move(message), std::string(operation));
}

// A forward-only scan of a JSON text, for the listing pages a pipelining caller decodes itself: no tree, no node
// per value. It checks the whole grammar as it goes (strings and their escapes, numbers, literals, nesting), so a
// truncated or malformed body is an error, as with jsoncpp, never a partial page taken for a whole one.
class JsonScan {
 public:
  explicit JsonScan(std::string_view text) : s_(text) {}

  bool failed() const { return failed_; }
  std::size_t offset() const { return i_; }
  bool fail() {
    failed_ = true;
    return false;
  }
  char peek() {
    ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  bool at_end() {
    ws();
    return i_ == s_.size();
  }

  // Members of the object at the cursor, one key at a time: begin_object, then next_key until it returns false
  // (the closing brace, or a failure: check failed()). The caller reads or skips each value. `first` belongs
  // to the caller's level of nesting, set true by begin_object.
  bool begin_object(bool& first) {
    first = true;
    return consume('{') || fail();
  }
  bool next_key(bool& first, std::string& scratch, std::string_view& key) {
    if (failed_ || consume('}')) return false;
    if (!first && !consume(',')) return fail();
    first = false;
    if (!string(scratch, key) || !consume(':')) return fail();
    return true;
  }
  // Elements of the array at the cursor, the same way: begin_array, then next_element until false.
  bool begin_array(bool& first) {
    first = true;
    return consume('[') || fail();
  }
  bool next_element(bool& first) {
    if (failed_ || consume(']')) return false;
    if (!first && !consume(',')) return fail();
    first = false;
    return true;
  }

  // A string value: a view into the text when it has no escape, else decoded into `scratch`.
  bool string(std::string& scratch, std::string_view& out) {
    if (!consume('"')) return fail();
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\' && static_cast<unsigned char>(s_[i_]) >= 0x20) ++i_;
    if (i_ < s_.size() && s_[i_] == '"') {
      out = s_.substr(start, i_ - start);
      ++i_;
      return true;
    }
    scratch.assign(s_.substr(start, i_ - start));
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') {
        out = scratch;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail();
      if (c != '\\') {
        scratch.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return fail();
      switch (s_[i_++]) {
        case '"': scratch.push_back('"'); break;
        case '\\': scratch.push_back('\\'); break;
        case '/': scratch.push_back('/'); break;
        case 'b': scratch.push_back('\b'); break;
        case 'f': scratch.push_back('\f'); break;
        case 'n': scratch.push_back('\n'); break;
        case 'r': scratch.push_back('\r'); break;
        case 't': scratch.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return fail();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (i_ + 1 >= s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return fail();
            i_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return fail();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail();
          }
          put_utf8(scratch, cp);
          break;
        }
        default: return fail();
      }
    }
    return fail();
  }

  // A number's text, checked against JSON's grammar.
  bool number(std::string_view& out) {
    ws();
    const std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ >= s_.size() || !digit(s_[i_])) return fail();
    if (s_[i_] == '0') {
      ++i_;
    } else {
      while (i_ < s_.size() && digit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !digit(s_[i_])) return fail();
      while (i_ < s_.size() && digit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !digit(s_[i_])) return fail();
      while (i_ < s_.size() && digit(s_[i_])) ++i_;
    }
    out = s_.substr(start, i_ - start);
    return true;
  }

  // Any value, checked and dropped. Nesting deeper than kMaxDepth is refused (jsoncpp's parser has a limit too).
  bool skip(int depth = 0) {
    constexpr int kMaxDepth = 256;
    if (depth > kMaxDepth) return fail();
    std::string scratch;
    std::string_view ignored;
    switch (peek()) {
      case '"': return string(scratch, ignored);
      case '{': {
        bool first = true;
        begin_object(first);
        while (next_key(first, scratch, ignored)) {
          if (!skip(depth + 1)) return false;
        }
        return !failed_;
      }
      case '[': {
        bool first = true;
        begin_array(first);
        while (next_element(first)) {
          if (!skip(depth + 1)) return false;
        }
        return !failed_;
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number(ignored);
    }
  }

  bool literal(std::string_view word) {
    ws();
    if (s_.substr(i_, word.size()) != word) return fail();
    i_ += word.size();
    return true;
  }

 private:
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool hex4(std::uint32_t& out) {
    if (i_ + 4 > s_.size()) return false;
    out = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      out <<= 4;
      if (c >= '0' && c <= '9') out |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') out |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') out |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }
  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  bool failed_ = false;
};

Error malformed(std::string_view operation, const JsonScan& scan) {
  return invalid(operation, "malformed JSON near offset " + std::to_string(scan.offset()));
}

// A string member as string_or_empty reads one: a string, else (null, number, object...) empty. The value is
// consumed either way.
bool scan_string_or_empty(JsonScan& scan, std::string& scratch, std::string& out) {
  if (scan.peek() != '"') {
    out.clear();
    return scan.skip();
  }
  std::string_view v;
  if (!scan.string(scratch, v)) return false;
  out.assign(v);
  return true;
}

// The value of `key` into whichever of `members` has that name, read as scan_string_or_empty reads one; false
// (nothing consumed) when `key` names none of them.
bool scan_named_string(JsonScan& scan, std::string& scratch, std::string_view key,
                       std::initializer_list<std::pair<std::string_view, std::string*>> members) {
  for (const auto& [name, out] : members) {
    if (name == key) {
      scan_string_or_empty(scan, scratch, *out);
      return true;
    }
  }
  return false;
}

// As get_number: any JSON number, else absent.
bool scan_number(JsonScan& scan, std::optional<double>& out) {
  const char c = scan.peek();
  if (c != '-' && (c < '0' || c > '9')) {
    out.reset();
    return scan.skip();
  }
  std::string_view text;
  if (!scan.number(text)) return false;
  double d = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec == std::errc::result_out_of_range) {
    out.reset();
  } else {
    out = d;
  }
  return p == text.data() + text.size() || ec == std::errc::result_out_of_range;
}

// As get_int: an integer in int64's range, or a whole double inside it; else absent.
bool scan_int(JsonScan& scan, std::optional<std::int64_t>& out) {
  const char c = scan.peek();
  if (c != '-' && (c < '0' || c > '9')) {
    out.reset();
    return scan.skip();
  }
  std::string_view text;
  if (!scan.number(text)) return false;
  out.reset();
  std::int64_t i = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (ec == std::errc() && p == text.data() + text.size()) {
    out = i;
    return true;
  }
  double d = 0;
  const auto [q, dec] = std::from_chars(text.data(), text.data() + text.size(), d);
  constexpr double kTwo63 = 9223372036854775808.0;
  if (dec == std::errc() && q == text.data() + text.size() && d == std::floor(d) && d >= -kTwo63 && d < kTwo63) {
    out = static_cast<std::int64_t>(d);
  }
  return true;
}

// The members of the object at the cursor: `member(key)` reads or skips each value (`key` may point into
// `scratch`, so it is compared before the value is read).
template <class Member>
Result<void> scan_members(JsonScan& scan, std::string& scratch, Member&& member) {
  bool first = true;
  std::string_view key;
  scan.begin_object(first);
  while (scan.next_key(first, scratch, key)) {
    if (auto r = member(key); !r) return r;
  }
  return {};
}

// Finds the array member `key` of the top-level object and calls `element(scan)` for each of its elements, which
// must consume the element. Every other member is checked and skipped; nextToken is collected on the way.
template <class Element>
Result<std::optional<std::string>> scan_list(std::string_view body, std::string_view operation, std::string_view key,
                                             Element&& element) {
  JsonScan scan(body);
  if (scan.peek() != '{') return invalid(operation, "response is not a JSON object");
  std::string scratch;
  std::string_view name;
  std::optional<std::string> token;
  bool first_member = true;
  scan.begin_object(first_member);
  while (scan.next_key(first_member, scratch, name)) {
    if (name == key && scan.peek() == '[') {
      bool first_element = true;
      scan.begin_array(first_element);
      while (scan.next_element(first_element)) {
        auto r = element(scan);
        if (!r) return r.error();
        if (scan.failed()) return malformed(operation, scan);
      }
    } else if (name == key && scan.peek() != 'n') {
      return invalid(operation, std::string("member ") + std::string(key) + " is not a list");
    } else if (name == "nextToken" && scan.peek() == '"') {
      std::string_view v;
      if (!scan.string(scratch, v)) break;
      token = v.empty() ? std::nullopt : std::optional<std::string>(v);
    } else if (name == "nextToken") {
      token.reset();
      scan.skip();
    } else {
      scan.skip();
    }
    if (scan.failed()) break;
  }
  if (scan.failed() || !scan.at_end()) return malformed(operation, scan);
  return token;
}

// Members of an object, or null when `obj` is not an object (jsoncpp's const operator[] asserts on arrays).
const Json::Value* member(const Json::Value& obj, const char* key) {
  if (!obj.isObject()) return nullptr;
  const Json::Value* v = obj.find(key, key + std::char_traits<char>::length(key));
  if (v == nullptr || v->isNull()) return nullptr;
  return v;
}

std::string string_or_empty(const Json::Value& obj, const char* key) { return get_string(obj, key).value_or(""); }

// An optional array member: absent is an empty list, any other type is a decode error.
Result<const Json::Value*> array_member(const Json::Value& obj, const char* key, std::string_view operation) {
  const Json::Value* v = member(obj, key);
  if (v == nullptr) return static_cast<const Json::Value*>(nullptr);
  if (!v->isArray()) return invalid(operation, std::string("member ") + key + " is not a list");
  return v;
}

ImageId decode_image_id(const Json::Value& v) {
  return ImageId{string_or_empty(v, "imageDigest"), string_or_empty(v, "imageTag")};
}

Json::Value encode_image_id(const ImageId& id) {
  Json::Value v(Json::objectValue);
  if (!id.image_digest.empty()) v["imageDigest"] = id.image_digest;
  if (!id.image_tag.empty()) v["imageTag"] = id.image_tag;
  return v;
}

Json::Value encode_image_ids(const std::vector<ImageId>& ids) {
  Json::Value a(Json::arrayValue);
  for (const auto& id : ids) a.append(encode_image_id(id));
  return a;
}

Result<std::vector<ImageFailure>> decode_failures(const Json::Value& body, std::string_view operation) {
  auto arr = array_member(body, "failures", operation);
  if (!arr) return arr.error();
  std::vector<ImageFailure> out;
  if (*arr == nullptr) return out;
  for (const auto& f : **arr) {
    if (!f.isObject()) return invalid(operation, "a failures entry is not an object");
    ImageFailure failure;
    if (const auto* id = member(f, "imageId")) failure.image_id = decode_image_id(*id);
    failure.failure_code = string_or_empty(f, "failureCode");
    failure.failure_reason = string_or_empty(f, "failureReason");
    out.push_back(std::move(failure));
  }
  return out;
}

std::optional<std::string> next_token_of(const Json::Value& body) {
  auto t = get_string(body, "nextToken");
  if (t && t->empty()) return std::nullopt;
  return t;
}

void put_common(Json::Value& in, const std::string& repository_name, const std::optional<std::string>& registry_id) {
  in["repositoryName"] = repository_name;
  if (registry_id) in["registryId"] = *registry_id;
}

Repository decode_repository(const Json::Value& r) {
  Repository repo;
  repo.repository_arn = string_or_empty(r, "repositoryArn");
  repo.registry_id = string_or_empty(r, "registryId");
  repo.repository_name = string_or_empty(r, "repositoryName");
  repo.repository_uri = string_or_empty(r, "repositoryUri");
  repo.created_at = get_number(r, "createdAt");
  repo.image_tag_mutability = string_or_empty(r, "imageTagMutability");
  return repo;
}

Json::Value list_images_input(const ListImagesRequest& request) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  if (request.max_results) in["maxResults"] = *request.max_results;
  if (request.next_token) in["nextToken"] = *request.next_token;
  if (request.tag_status) in["filter"]["tagStatus"] = std::string(to_string(*request.tag_status));
  return in;
}

Json::Value describe_images_input(const DescribeImagesRequest& request) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  if (!request.image_ids.empty()) in["imageIds"] = encode_image_ids(request.image_ids);
  if (request.max_results) in["maxResults"] = *request.max_results;
  if (request.next_token) in["nextToken"] = *request.next_token;
  if (request.tag_status) in["filter"]["tagStatus"] = std::string(to_string(*request.tag_status));
  return in;
}

// What CallOptions::context carries: the subject; AwsClient prefixes the operation ("ListImages repository=web").
std::string subject_of(const std::string& repository_name, const std::optional<std::string>& registry_id) {
  std::string s;
  if (!repository_name.empty()) s = "repository=" + repository_name;
  if (registry_id) s += (s.empty() ? "registry=" : " registry=") + *registry_id;
  return s;
}

std::string full_context(std::string_view operation, const std::string& subject) {
  std::string out(operation);
  if (!subject.empty()) out += " " + subject;
  return out;
}

}  // namespace

std::string_view to_string(TagStatus s) {
  switch (s) {
    case TagStatus::tagged: return "TAGGED";
    case TagStatus::untagged: return "UNTAGGED";
    case TagStatus::any: break;
  }
  return "ANY";
}

Result<ListImagesResponse> decode_list_images(const Json::Value& body) {
  constexpr std::string_view op = "ListImages";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  auto arr = array_member(body, "imageIds", op);
  if (!arr) return arr.error();
  ListImagesResponse out;
  if (*arr != nullptr) {
    out.image_ids.reserve((*arr)->size());
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "an imageIds entry is not an object");
      out.image_ids.push_back(decode_image_id(v));
    }
  }
  out.next_token = next_token_of(body);
  return out;
}

Result<std::optional<std::string>> find_next_token(std::string_view body) {
  return scan_list(body, "response", "", [](JsonScan& scan) -> Result<void> {
    scan.skip();
    return {};
  });
}

std::optional<std::optional<std::string>> trailing_next_token(std::string_view body) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t p = body.size();
  auto skip_ws = [&] {
    while (p > 0 && ws(body[p - 1])) --p;
  };
  auto take = [&](char c) {
    skip_ws();
    if (p == 0 || body[p - 1] != c) return false;
    --p;
    return true;
  };
  if (!take('}') || !take('"')) return std::nullopt;
  const std::size_t close = p;
  const std::size_t open = close == 0 ? std::string_view::npos : body.rfind('"', close - 1);
  if (open == std::string_view::npos) return std::nullopt;
  const std::string_view token = body.substr(open + 1, close - open - 1);
  // A backslash is an escape to decode, or the quote found is an escaped one inside a longer string.
  auto plain = [](char c) { return c != '\\' && static_cast<unsigned char>(c) >= 0x20; };
  if (!std::all_of(token.begin(), token.end(), plain)) return std::nullopt;
  p = open;
  if (!take(':') || !take('"')) return std::nullopt;
  constexpr std::string_view kName = "\"nextToken";
  if (p < kName.size() || body.substr(p - kName.size(), kName.size()) != kName) return std::nullopt;
  p -= kName.size();
  // The name's opening quote: a `,` or `{` before it, not a `\` (an escaped quote inside another string).
  if (!(take(',') || take('{'))) return std::nullopt;
  if (token.empty()) return std::optional<std::string>{};
  return std::optional<std::string>(std::string(token));
}

Result<std::optional<std::string>> decode_list_images(std::string_view body,
                                                      const std::function<void(ImageId&)>& on_image_id) {
  constexpr std::string_view op = "ListImages";
  ImageId id;
  std::string scratch;
  return scan_list(body, op, "imageIds", [&](JsonScan& scan) -> Result<void> {
    if (scan.peek() != '{') return invalid(op, "an imageIds entry is not an object");
    id.image_digest.clear();
    id.image_tag.clear();
    auto r = scan_members(scan, scratch, [&](std::string_view key) -> Result<void> {
      if (!scan_named_string(scan, scratch, key, {{"imageDigest", &id.image_digest}, {"imageTag", &id.image_tag}})) {
        scan.skip();
      }
      return {};
    });
    if (r && !scan.failed()) on_image_id(id);
    return r;
  });
}

Result<std::optional<std::string>> decode_describe_images(std::string_view body,
                                                          const std::function<void(ImageDetail&)>& on_detail) {
  constexpr std::string_view op = "DescribeImages";
  ImageDetail d;
  std::string scratch;
  return scan_list(body, op, "imageDetails", [&](JsonScan& scan) -> Result<void> {
    if (scan.peek() != '{') return invalid(op, "an imageDetails entry is not an object");
    // Reused from entry to entry: a member absent from this one must not keep the last one's value.
    d.image_digest.clear();
    d.image_tags.clear();
    d.image_pushed_at.reset();
    d.image_size_in_bytes.reset();
    d.image_manifest_media_type.clear();
    d.artifact_media_type.clear();
    d.subject_manifest_digest.clear();
    auto r = scan_members(scan, scratch, [&](std::string_view key) -> Result<void> {
      if (key == "imageTags") {
        d.image_tags.clear();
        if (scan.peek() == 'n') {
          scan.skip();
          return {};
        }
        if (scan.peek() != '[') return invalid(op, "member imageTags is not a list");
        bool first_tag = true;
        scan.begin_array(first_tag);
        while (scan.next_element(first_tag)) {
          std::string_view tag;
          if (scan.peek() == '"') {
            if (scan.string(scratch, tag)) d.image_tags.emplace_back(tag);
          } else {
            scan.skip();
          }
        }
      } else if (key == "imagePushedAt") {
        scan_number(scan, d.image_pushed_at);
      } else if (key == "imageSizeInBytes") {
        scan_int(scan, d.image_size_in_bytes);
      } else if (!scan_named_string(scan, scratch, key,
                                    {{"imageDigest", &d.image_digest},
                                     {"imageManifestMediaType", &d.image_manifest_media_type},
                                     {"artifactMediaType", &d.artifact_media_type},
                                     {"subjectManifestDigest", &d.subject_manifest_digest}})) {
        scan.skip();
      }
      return {};
    });
    if (r && !scan.failed()) on_detail(d);
    return r;
  });
}

Result<DescribeImagesResponse> decode_describe_images(const Json::Value& body) {
  constexpr std::string_view op = "DescribeImages";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  auto arr = array_member(body, "imageDetails", op);
  if (!arr) return arr.error();
  DescribeImagesResponse out;
  if (*arr != nullptr) {
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "an imageDetails entry is not an object");
      ImageDetail d;
      d.image_digest = string_or_empty(v, "imageDigest");
      auto tags = array_member(v, "imageTags", op);
      if (!tags) return tags.error();
      if (*tags != nullptr) {
        for (const auto& t : **tags) {
          if (t.isString()) d.image_tags.push_back(t.asString());
        }
      }
      d.image_pushed_at = get_number(v, "imagePushedAt");
      d.image_size_in_bytes = get_int(v, "imageSizeInBytes");
      d.image_manifest_media_type = string_or_empty(v, "imageManifestMediaType");
      d.artifact_media_type = string_or_empty(v, "artifactMediaType");
      d.subject_manifest_digest = string_or_empty(v, "subjectManifestDigest");
      out.image_details.push_back(std::move(d));
    }
  }
  out.next_token = next_token_of(body);
  return out;
}

Result<BatchDeleteImageResponse> decode_batch_delete_image(const Json::Value& body) {
  constexpr std::string_view op = "BatchDeleteImage";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  BatchDeleteImageResponse out;
  auto arr = array_member(body, "imageIds", op);
  if (!arr) return arr.error();
  if (*arr != nullptr) {
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "an imageIds entry is not an object");
      out.image_ids.push_back(decode_image_id(v));
    }
  }
  auto failures = decode_failures(body, op);
  if (!failures) return failures.error();
  out.failures = std::move(*failures);
  return out;
}

Result<BatchGetImageResponse> decode_batch_get_image(const Json::Value& body) {
  constexpr std::string_view op = "BatchGetImage";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  BatchGetImageResponse out;
  auto arr = array_member(body, "images", op);
  if (!arr) return arr.error();
  if (*arr != nullptr) {
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "an images entry is not an object");
      Image img;
      img.registry_id = string_or_empty(v, "registryId");
      img.repository_name = string_or_empty(v, "repositoryName");
      if (const auto* id = member(v, "imageId")) img.image_id = decode_image_id(*id);
      img.image_manifest = string_or_empty(v, "imageManifest");
      img.image_manifest_media_type = string_or_empty(v, "imageManifestMediaType");
      out.images.push_back(std::move(img));
    }
  }
  auto failures = decode_failures(body, op);
  if (!failures) return failures.error();
  out.failures = std::move(*failures);
  return out;
}

Result<DescribeRepositoriesResponse> decode_describe_repositories(const Json::Value& body) {
  constexpr std::string_view op = "DescribeRepositories";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  auto arr = array_member(body, "repositories", op);
  if (!arr) return arr.error();
  DescribeRepositoriesResponse out;
  if (*arr != nullptr) {
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "a repositories entry is not an object");
      out.repositories.push_back(decode_repository(v));
    }
  }
  out.next_token = next_token_of(body);
  return out;
}

Result<std::vector<std::string>> parse_index_manifest(std::string_view manifest) {
  auto doc = parse_json(manifest, "image index manifest");
  if (!doc) return doc.error();
  const auto* manifests = member(*doc, "manifests");
  if (manifests == nullptr || !manifests->isArray()) {
    return make_error(kInvalidResponse, "image index has no manifests list", "image index manifest");
  }
  std::vector<std::string> out;
  for (const auto& m : *manifests) {
    if (auto d = get_string(m, "digest"); d && !d->empty()) out.push_back(*d);
  }
  return out;
}

Result<Json::Value> EcrClient::call(std::string_view operation, const Json::Value& input, const std::string& subject,
                                    aws::CallOptions& options) {
  if (options.context.empty()) options.context = subject;
  auto r = aws_->json_call(kEcrTargetPrefix, operation, input, options);
  if (!r) {
    Error e = std::move(r).error();
    if (e.context.empty()) e.context = full_context(operation, options.context);
    return e;
  }
  return r;
}

Result<RawPage> EcrClient::call_page(std::string_view operation, const Json::Value& input, const std::string& subject,
                                     aws::CallOptions& options) {
  if (options.context.empty()) options.context = subject;
  // What AwsClient::json_call sends, with the body handed back undecoded (awsJson 1.1, POST /).
  aws::HttpRequest req;
  req.method = "POST";
  req.url = aws_->endpoint().url + "/";
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", std::string(kEcrTargetPrefix) + "." + std::string(operation)}};
  req.body = to_compact_json(input);
  auto res = aws_->send_signed(std::move(req), options, operation);
  if (!res) {
    Error e = std::move(res).error();
    if (e.context.empty()) e.context = full_context(operation, options.context);
    return e;
  }
  RawPage page;
  page.body = res->body.empty() ? std::string("{}") : std::move(res->body);
  if (auto trailing = trailing_next_token(page.body)) {
    page.next_token = std::move(*trailing);
    return page;
  }
  auto token = find_next_token(page.body);
  if (!token) {
    Error e = std::move(token).error();
    e.context = full_context(operation, options.context);
    e.http_status = res->status;
    return e;
  }
  page.next_token = std::move(*token);
  return page;
}

Result<RawPage> EcrClient::list_images_page(const ListImagesRequest& request, aws::CallOptions options) {
  return call_page("ListImages", list_images_input(request), subject_of(request.repository_name, request.registry_id),
                   options);
}

Result<RawPage> EcrClient::describe_images_page(const DescribeImagesRequest& request, aws::CallOptions options) {
  return call_page("DescribeImages", describe_images_input(request),
                   subject_of(request.repository_name, request.registry_id), options);
}

Result<ListImagesResponse> EcrClient::list_images(const ListImagesRequest& request, aws::CallOptions options) {
  auto body = call("ListImages", list_images_input(request), subject_of(request.repository_name, request.registry_id),
                   options);
  if (!body) return body.error();
  auto out = decode_list_images(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<DescribeImagesResponse> EcrClient::describe_images(const DescribeImagesRequest& request,
                                                          aws::CallOptions options) {
  auto body = call("DescribeImages", describe_images_input(request),
                   subject_of(request.repository_name, request.registry_id), options);
  if (!body) return body.error();
  auto out = decode_describe_images(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<BatchDeleteImageResponse> EcrClient::batch_delete_image(const BatchDeleteImageRequest& request,
                                                               aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  in["imageIds"] = encode_image_ids(request.image_ids);
  auto body = call("BatchDeleteImage", in, subject_of(request.repository_name, request.registry_id), options);
  if (!body) return body.error();
  auto out = decode_batch_delete_image(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<BatchGetImageResponse> EcrClient::batch_get_image(const BatchGetImageRequest& request,
                                                         aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  in["imageIds"] = encode_image_ids(request.image_ids);
  if (!request.accepted_media_types.empty()) {
    Json::Value types(Json::arrayValue);
    for (const auto& t : request.accepted_media_types) types.append(t);
    in["acceptedMediaTypes"] = types;
  }
  auto body = call("BatchGetImage", in, subject_of(request.repository_name, request.registry_id), options);
  if (!body) return body.error();
  auto out = decode_batch_get_image(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<DescribeRepositoriesResponse> EcrClient::describe_repositories(const DescribeRepositoriesRequest& request,
                                                                      aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  if (request.registry_id) in["registryId"] = *request.registry_id;
  if (!request.repository_names.empty()) {
    Json::Value names(Json::arrayValue);
    for (const auto& n : request.repository_names) names.append(n);
    in["repositoryNames"] = names;
  }
  if (request.max_results) in["maxResults"] = *request.max_results;
  if (request.next_token) in["nextToken"] = *request.next_token;
  const std::string subject =
      subject_of(request.repository_names.size() == 1 ? request.repository_names[0] : "", request.registry_id);
  auto body = call("DescribeRepositories", in, subject, options);
  if (!body) return body.error();
  auto out = decode_describe_repositories(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<DeleteRepositoryResponse> EcrClient::delete_repository(const DeleteRepositoryRequest& request,
                                                              aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  if (request.force) in["force"] = true;
  auto body = call("DeleteRepository", in, subject_of(request.repository_name, request.registry_id), options);
  if (!body) return body.error();
  DeleteRepositoryResponse out;
  if (const auto* r = member(*body, "repository")) out.repository = decode_repository(*r);
  return out;
}

Result<ListTagsForResourceResponse> EcrClient::list_tags_for_resource(const ListTagsForResourceRequest& request,
                                                                      aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  in["resourceArn"] = request.resource_arn;
  auto body = call("ListTagsForResource", in, "resourceArn=" + request.resource_arn, options);
  if (!body) return body.error();
  auto arr = array_member(*body, "tags", "ListTagsForResource");
  if (!arr) {
    arr.error().context = full_context("ListTagsForResource", options.context);
    return arr.error();
  }
  ListTagsForResourceResponse out;
  if (*arr != nullptr) {
    for (const auto& t : **arr) out.tags.push_back(Tag{string_or_empty(t, "Key"), string_or_empty(t, "Value")});
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> EcrClient::index_children(
    const std::string& repository_name, const std::optional<std::string>& registry_id,
    const std::vector<std::string>& index_digests, aws::CallOptions options) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (std::size_t i = 0; i < index_digests.size(); i += kMaxImageIdsPerCall) {
    BatchGetImageRequest req;
    req.repository_name = repository_name;
    req.registry_id = registry_id;
    req.accepted_media_types = {kOciImageIndexMediaType, kDockerManifestListMediaType};
    const std::size_t end = std::min(index_digests.size(), i + kMaxImageIdsPerCall);
    for (std::size_t j = i; j < end; ++j) req.image_ids.push_back(ImageId{index_digests[j], ""});
    auto got = batch_get_image(req, options);
    if (!got) return got.error();
    // A failure here (ImageNotFound: deleted meanwhile; UnsupportedImageType) only means we learn no children
    // for that digest; the executor still deletes it and retries children ECR refuses.
    for (const auto& img : got->images) {
      if (!is_index_media_type(img.image_manifest_media_type)) continue;
      auto children = parse_index_manifest(img.image_manifest);
      if (!children) {
        Error e = std::move(children).error();
        e.context = full_context("BatchGetImage", subject_of(repository_name, registry_id)) +
                    " digest=" + img.image_id.image_digest;
        return e;
      }
      out.emplace_back(img.image_id.image_digest, std::move(*children));
    }
  }
  return out;
}

}  // namespace ecrs::ecr
