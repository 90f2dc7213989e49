// The streaming side of the listing: nextToken read from a raw body before decoding, and the tree-less decoders,
// held to the same answers as the Json::Value decoders.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ecrs/common/json.hpp"
#include "ecrs/ecr/ecr_client.hpp"

namespace ecrs::ecr {
namespace {

std::optional<std::string> token_of(std::string_view body) {
  auto r = find_next_token(body);
  EXPECT_TRUE(r.has_value()) << r.error().describe() << " in " << body;
  return r ? *r : std::nullopt;
}

TEST(FindNextToken, SkipsStringsAndNestedValuesThatContainTheWord) {
  // A tag spelled nextToken, a digest holding escaped quotes around it, a nested member of that name and an
  // array of look-alikes all come before the real, top-level member.
  const std::string body = R"({"imageDetails":[
      {"imageDigest":"sha256:\"nextToken\":\"fake\"","imageTags":["nextToken","x\\\"nextToken\":\"y"],
       "nested":{"nextToken":"inner","deeper":[{"nextToken":"deep"}]}},
      {"imageDigest":"sha256:b\\","imageTags":[]}],
    "other":["nextToken", {"nextToken": null}, 1.5e3, true, false, null],
    "nextToken" : "real-token"})";
  EXPECT_EQ(token_of(body), "real-token");
}

TEST(FindNextToken, ReadsTheTokenWhereverItStandsAndDecodesItsEscapes) {
  EXPECT_EQ(token_of(R"({"nextToken":"a\/b\u00e9\"c","imageIds":[{"imageTag":"nextToken"}]})"),
            "a/b\xC3\xA9\"c");
  EXPECT_EQ(token_of(R"(  {"imageIds":[],"nextToken":"\ud83d\ude00"}  )"), "\xF0\x9F\x98\x80");
}

TEST(FindNextToken, AbsentNullEmptyOrNotAStringIsTheLastPage) {
  EXPECT_EQ(token_of(R"({"imageIds":[]})"), std::nullopt);
  EXPECT_EQ(token_of(R"({"nextToken":null})"), std::nullopt);
  EXPECT_EQ(token_of(R"({"nextToken":""})"), std::nullopt);
  EXPECT_EQ(token_of(R"({"nextToken":12})"), std::nullopt);
  EXPECT_EQ(token_of(R"({})"), std::nullopt);
}

TEST(TrailingNextToken, ReadsALastPlainTokenFromTheEnd) {
  using Token = std::optional<std::optional<std::string>>;
  EXPECT_EQ(trailing_next_token(R"({"imageIds":[{"imageDigest":"sha256:a"}],"nextToken":"abc=="})"),
            Token(std::optional<std::string>("abc==")));
  EXPECT_EQ(trailing_next_token("{\n  \"imageIds\" : [],\n  \"nextToken\" : \"t/1+\"\n}\n"),
            Token(std::optional<std::string>("t/1+")));
  EXPECT_EQ(trailing_next_token(R"({"nextToken":"only"})"), Token(std::optional<std::string>("only")));
  // Empty is the last page, as the scan reads it.
  EXPECT_EQ(trailing_next_token(R"({"imageIds":[],"nextToken":""})"), Token(std::optional<std::string>()));
}

TEST(TrailingNextToken, LeavesAnythingElseToTheScan) {
  for (const char* body : {
           R"({"imageIds":[],"nextToken":"a\/b"})",          // an escape to decode
           R"({"imageIds":[],"nextToken":null})",            // not a string
           R"({"imageIds":[],"nextToken":"t","x":1})",       // not the last member
           R"({"imageIds":[{"nextToken":"t"}]})",            // nested
           R"({"x":{"nextToken":"t"}})",                     // nested
           R"({"imageIds":[],"a":"x\"nextToken\":\"t"})",    // inside a string, quotes escaped
           R"({"imageIds":[],"foo\"nextToken":"t"})",        // a longer member name ending in it
           R"({"imageIds":[],"nextToken":"t"} x)",           // trailing text
           R"({"imageIds":[],"nextToken":"t")",              // truncated
           R"("nextToken":"t"})",                            // no object before it
           R"("t"})", R"(})", ""}) {
    EXPECT_EQ(trailing_next_token(body), std::nullopt) << body;
  }
}

TEST(FindNextToken, MalformedBodiesAreInvalidResponses) {
  for (const char* body : {
           R"({"imageIds":[],"nextToken":"abc")",           // truncated before the brace
           R"({"imageIds":[{"imageDigest":"sha256:a"},],"nextToken":"t"})",  // trailing comma
           R"({"imageIds":["a\qb"],"nextToken":"t"})",      // unknown escape
           "{\"imageIds\":[\"a\nb\"],\"nextToken\":\"t\"}",  // raw control character in a string
           R"({"imageIds":[{"imageDigest":"sha256:a"],"nextToken":"t"})",  // mismatched nesting
           R"({"imageIds":[01],"nextToken":"t"})",          // leading zero
           R"({"nextToken":"t"} x)",                        // trailing text
           R"({"nextToken":"\ud83d"})",                     // lone surrogate
           R"({"nextToken":tru})",
           R"([{"nextToken":"t"}])",                        // not an object
           ""}) {
    auto r = find_next_token(body);
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code, "InvalidResponse") << body;
  }
}

TEST(StreamingDecoders, WrongTypesNameTheMember) {
  auto a = decode_list_images(R"({"imageIds":{"imageDigest":"sha256:a"}})", [](ImageId&) {});
  ASSERT_FALSE(a.has_value());
  EXPECT_NE(a.error().message.find("imageIds"), std::string::npos);
  auto b = decode_describe_images(R"({"imageDetails":[1]})", [](ImageDetail&) {});
  ASSERT_FALSE(b.has_value());
  EXPECT_NE(b.error().message.find("imageDetails"), std::string::npos);
  auto c = decode_describe_images(R"({"imageDetails":[{"imageTags":"v1"}]})", [](ImageDetail&) {});
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("imageTags"), std::string::npos);
  EXPECT_FALSE(decode_describe_images(R"({"imageDetails":[{"imageDigest":"sha256:a"}]})" "x",
                                      [](ImageDetail&) {}).has_value());
}

// Random pages, written by jsoncpp both compact and indented, decoded both ways: every member, absence and odd
// type (null, a number where a string belongs, a fraction or an out-of-range size) must come out the same.
Json::Value random_value(std::mt19937& rng, int depth);

std::string random_string(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {"sha256:", "nextToken", "\"", "\\", "/", "\xC3\xA9", "\n", "v1",
                                                  "{", "]", ",", ":", "\x01", "imageDigest"};
  std::string s;
  for (int i = std::uniform_int_distribution<int>(0, 4)(rng); i > 0; --i) {
    s += pieces[std::uniform_int_distribution<std::size_t>(0, pieces.size() - 1)(rng)];
  }
  return s;
}

Json::Value random_value(std::mt19937& rng, int depth) {
  switch (std::uniform_int_distribution<int>(0, depth > 2 ? 5 : 7)(rng)) {
    case 0: return Json::Value();
    case 1: return Json::Value(std::uniform_int_distribution<int>(0, 1)(rng) == 1);
    case 2: return Json::Value(static_cast<Json::Int64>(rng()) - static_cast<Json::Int64>(rng()));
    case 3: return Json::Value(std::uniform_real_distribution<double>(-1e20, 1e20)(rng));
    case 4: return Json::Value(1024.0);
    case 5: return Json::Value(random_string(rng));
    case 6: {
      Json::Value a(Json::arrayValue);
      for (int i = std::uniform_int_distribution<int>(0, 3)(rng); i > 0; --i) a.append(random_value(rng, depth + 1));
      return a;
    }
    default: {
      Json::Value o(Json::objectValue);
      for (int i = std::uniform_int_distribution<int>(0, 3)(rng); i > 0; --i) {
        o[random_string(rng)] = random_value(rng, depth + 1);
      }
      return o;
    }
  }
}

Json::Value random_detail(std::mt19937& rng) {
  Json::Value d(Json::objectValue);
  const auto maybe = [&](const char* key, Json::Value typical) {
    const int pick = std::uniform_int_distribution<int>(0, 5)(rng);
    if (pick == 0) return;                        // absent
    d[key] = pick == 1 ? random_value(rng, 1) : typical;  // any type, or the model's
  };
  maybe("imageDigest", random_string(rng) + "sha256:" + std::to_string(rng()));
  Json::Value tags(Json::arrayValue);
  for (int i = std::uniform_int_distribution<int>(0, 3)(rng); i > 0; --i) {
    tags.append(std::uniform_int_distribution<int>(0, 4)(rng) == 0 ? random_value(rng, 2) : Json::Value(random_string(rng)));
  }
  if (std::uniform_int_distribution<int>(0, 5)(rng) != 0) d["imageTags"] = tags;
  maybe("imagePushedAt", Json::Value(1.7e9 + std::uniform_real_distribution<double>(0, 1e6)(rng)));
  maybe("imageSizeInBytes", Json::Value(static_cast<Json::Int64>(rng() % 1000000000)));
  maybe("imageManifestMediaType", Json::Value(kOciImageIndexMediaType));
  maybe("artifactMediaType", Json::Value(random_string(rng)));
  maybe("subjectManifestDigest", Json::Value("sha256:" + random_string(rng)));
  maybe(("unknown" + random_string(rng)).c_str(), random_value(rng, 1));
  return d;
}

TEST(StreamingDecoders, AgreeWithTheTreeDecodersOnRandomPages) {
  std::mt19937 rng(16);
  for (int page = 0; page < 300; ++page) {
    Json::Value body(Json::objectValue);
    Json::Value details(Json::arrayValue), ids(Json::arrayValue);
    for (int i = std::uniform_int_distribution<int>(0, 6)(rng); i > 0; --i) {
      details.append(random_detail(rng));
      Json::Value id(Json::objectValue);
      if (rng() % 4 != 0) id["imageDigest"] = "sha256:" + random_string(rng);
      if (rng() % 2 != 0) id["imageTag"] = rng() % 5 == 0 ? random_value(rng, 2) : Json::Value(random_string(rng));
      ids.append(id);
    }
    body["imageDetails"] = details;
    body["imageIds"] = ids;
    body["noise"] = random_value(rng, 0);
    if (rng() % 3 != 0) body["nextToken"] = rng() % 5 == 0 ? random_value(rng, 1) : Json::Value(random_string(rng));
    for (const std::string& text : {to_compact_json(body), body.toStyledString()}) {
      auto tree_d = decode_describe_images(body);
      std::vector<ImageDetail> got;
      auto stream_d = decode_describe_images(text, [&](ImageDetail& d) { got.push_back(d); });
      ASSERT_TRUE(tree_d.has_value()) << tree_d.error().describe();
      ASSERT_TRUE(stream_d.has_value()) << stream_d.error().describe() << "\n" << text;
      EXPECT_EQ(*stream_d, tree_d->next_token) << text;
      EXPECT_EQ(token_of(text), tree_d->next_token) << text;
      ASSERT_EQ(got.size(), tree_d->image_details.size()) << text;
      for (std::size_t i = 0; i < got.size(); ++i) {
        const auto& a = got[i];
        const auto& b = tree_d->image_details[i];
        EXPECT_EQ(a.image_digest, b.image_digest) << text;
        EXPECT_EQ(a.image_tags, b.image_tags) << text;
        EXPECT_EQ(a.image_pushed_at, b.image_pushed_at) << text;
        EXPECT_EQ(a.image_size_in_bytes, b.image_size_in_bytes) << text;
        EXPECT_EQ(a.image_manifest_media_type, b.image_manifest_media_type) << text;
        EXPECT_EQ(a.artifact_media_type, b.artifact_media_type) << text;
        EXPECT_EQ(a.subject_manifest_digest, b.subject_manifest_digest) << text;
      }
      auto tree_l = decode_list_images(body);
      std::vector<ImageId> ids_got;
      auto stream_l = decode_list_images(text, [&](ImageId& id) { ids_got.push_back(id); });
      ASSERT_TRUE(tree_l.has_value()) << tree_l.error().describe();
      ASSERT_TRUE(stream_l.has_value()) << stream_l.error().describe();
      EXPECT_EQ(*stream_l, tree_l->next_token);
      EXPECT_EQ(ids_got, tree_l->image_ids) << text;
    }
  }
}

TEST(TrailingNextToken, NeverDisagreesWithTheScanOnRandomPages) {
  std::mt19937 rng(61);
  int read_from_end = 0;
  for (int page = 0; page < 2000; ++page) {
    Json::Value body(Json::objectValue);
    // jsoncpp writes members sorted: "aNoise" goes first, nextToken last, as ECR writes it.
    body["aNoise"] = random_value(rng, 0);
    body["imageIds"] = random_value(rng, 0);
    if (rng() % 4 != 0) body["nextToken"] = rng() % 5 == 0 ? random_value(rng, 1) : Json::Value(random_string(rng));
    if (rng() % 4 == 0) body["zLater"] = random_value(rng, 1);
    for (const std::string& text : {to_compact_json(body), body.toStyledString()}) {
      const auto fast = trailing_next_token(text);
      if (!fast) continue;
      ++read_from_end;
      EXPECT_EQ(*fast, token_of(text)) << text;
    }
  }
  // Most tokens here hold a quote, a backslash or a control character; enough are plain to show the fast path.
  EXPECT_GT(read_from_end, 300);
}

}  // namespace
}  // namespace ecrs::ecr
