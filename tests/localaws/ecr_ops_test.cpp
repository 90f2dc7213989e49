// ECR semantics without HTTP: EcrService::call on an EcrState, asserting what ECR answers.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include "ecrs/common/json.hpp"
#include "ecrs/localaws/json_text.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "ecrs/sigv4/signer.hpp"
#include "test_client.hpp"

namespace ecrs::localaws {
namespace {

using testing::obj;

Json::Value id_digest(const std::string& d) { return obj({{"imageDigest", d}}); }
Json::Value id_tag(const std::string& t) { return obj({{"imageTag", t}}); }
Json::Value arr(std::initializer_list<Json::Value> items) {
  Json::Value a(Json::arrayValue);
  for (const auto& i : items) a.append(i);
  return a;
}

class EcrOps : public ::testing::Test {
 protected:
  EcrOps() : aws_(Options{}) {}
  EcrReply call(const std::string& op, const Json::Value& in) { return aws_.ecr_service().call(op, in); }
  void create(const std::string& name) {
    ASSERT_EQ(call("CreateRepository", obj({{"repositoryName", name}})).status, 200);
  }
  LocalAws aws_;
};

TEST_F(EcrOps, CreateRepositoryAnswersTheRepositoryAndRejectsADuplicate) {
  auto r = call("CreateRepository", obj({{"repositoryName", "team/web"}}));
  ASSERT_EQ(r.status, 200) << to_compact_json(r.body);
  EXPECT_EQ(r.body["repository"]["repositoryArn"].asString(), "arn:aws:ecr:us-east-1:123456789012:repository/team/web");
  EXPECT_EQ(r.body["repository"]["repositoryUri"].asString(),
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web");
  auto dup = call("CreateRepository", obj({{"repositoryName", "team/web"}}));
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(dup.error_code, "RepositoryAlreadyExistsException");
}

TEST_F(EcrOps, ValidatesRequestsAgainstBotocoresModel) {
  create("web");
  auto one_letter = call("ListImages", obj({{"repositoryName", "A"}}));
  EXPECT_EQ(one_letter.error_code, "InvalidParameterException");
  EXPECT_NE(one_letter.body["message"].asString().find("'repositoryName'"), std::string::npos);
  auto missing = call("ListImages", Json::Value(Json::objectValue));
  EXPECT_EQ(missing.error_code, "InvalidParameterException");
  EXPECT_NE(missing.body["message"].asString().find("Member must not be null"), std::string::npos);
  auto too_many = call("ListImages", obj({{"repositoryName", "web"}, {"maxResults", 1001}}));
  EXPECT_EQ(too_many.body["message"].asString(),
            "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or "
            "equal to 1000'");
  EXPECT_EQ(call("ListImages", obj({{"repositoryName", "web"}, {"maxResults", 0}})).error_code,
            "InvalidParameterException");
  EXPECT_EQ(call("ListImages", obj({{"repositoryName", "web"}, {"maxResults", 1000}})).status, 200);
  Json::Value ids(Json::arrayValue);
  for (int i = 0; i < 101; ++i) ids.append(id_tag("t" + std::to_string(i)));
  auto batch = call("BatchDeleteImage", obj({{"repositoryName", "web"}, {"imageIds", ids}}));
  EXPECT_EQ(batch.body["message"].asString(),
            "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or "
            "equal to 100'");
  EXPECT_EQ(call("BatchDeleteImage", obj({{"repositoryName", "web"}, {"imageIds", Json::Value(Json::arrayValue)}}))
                .error_code,
            "InvalidParameterException");
  auto bad_enum = call("ListImages", obj({{"repositoryName", "web"}, {"filter", obj({{"tagStatus", "SOME"}})}}));
  EXPECT_NE(bad_enum.body["message"].asString().find("enum value set: [TAGGED, UNTAGGED, ANY]"), std::string::npos);
  EXPECT_EQ(call("ListImages", obj({{"repositoryName", 42}})).error_code, "SerializationException");
  EXPECT_EQ(call("ListImages", obj({{"repositoryName", "web"}, {"registryId", "12"}})).error_code,
            "InvalidParameterException");
  EXPECT_EQ(call("PutLifecyclePolicy", obj({{"repositoryName", "web"}, {"lifecyclePolicyText", "{}"}})).error_code,
            "InvalidParameterException");
  // Paths into lists and nested structures, as ECR spells them (1-based list positions).
  auto nested = call("BatchDeleteImage",
                     obj({{"repositoryName", "web"}, {"imageIds", arr({id_tag("ok"), obj({{"imageTag", 5}})})}}));
  EXPECT_EQ(nested.error_code, "SerializationException");
  EXPECT_EQ(nested.body["message"].asString(), "Unexpected value type for 'imageIds.2.imageTag': expected string");
  EXPECT_EQ(call("ListImages", obj({{"repositoryName", "web"}, {"filter", obj({{"tagStatus", "SOME"}})}}))
                .body["message"]
                .asString(),
            "Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: 'Member must satisfy enum value "
            "set: [TAGGED, UNTAGGED, ANY]'");
  EXPECT_EQ(call("CreateRepository", obj({{"repositoryName", "new"}, {"tags", arr({obj({{"Key", "a"}})})}}))
                .body["message"]
                .asString(),
            "Invalid parameter at 'tags.1.Value' failed to satisfy constraint: 'Member must not be null'");
  // Members the model does not know are ignored, as the JSON protocol ignores them.
  EXPECT_EQ(call("ListImages", obj({{"repositoryName", "web"}, {"unknownMember", 1}})).status, 200);
}

TEST_F(EcrOps, DeletingATagKeepsTheImageUntilItsLastTagGoes) {
  create("web");
  const auto digest = aws_.ecr().put_image("web", "a");
  aws_.ecr().put_manifest("web", aws_.ecr().repository("web")->images.at(digest).manifest, "", "b");
  ASSERT_EQ(aws_.ecr().tag_count("web"), 2u);
  auto first = call("BatchDeleteImage", obj({{"repositoryName", "web"}, {"imageIds", arr({id_tag("a")})}}));
  ASSERT_EQ(first.body["imageIds"].size(), 1u);
  EXPECT_EQ(first.body["imageIds"][0]["imageDigest"].asString(), digest);
  EXPECT_EQ(aws_.ecr().image_count("web"), 1u);
  call("BatchDeleteImage", obj({{"repositoryName", "web"}, {"imageIds", arr({id_tag("b")})}}));
  EXPECT_EQ(aws_.ecr().image_count("web"), 0u);
}

TEST_F(EcrOps, DeletingADigestRemovesTheImageWithAllItsTags) {
  create("web");
  const auto digest = aws_.ecr().put_image("web", "a");
  aws_.ecr().put_manifest("web", aws_.ecr().repository("web")->images.at(digest).manifest, "", "b");
  auto r = call("BatchDeleteImage", obj({{"repositoryName", "web"}, {"imageIds", arr({id_digest(digest)})}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["imageIds"].size(), 2u);  // one entry per removed tag
  EXPECT_EQ(r.body["failures"].size(), 0u);
  EXPECT_EQ(aws_.ecr().image_count("web"), 0u);
}

TEST_F(EcrOps, BatchDeleteReportsEachFailureWithItsCode) {
  create("web");
  const auto a = aws_.ecr().put_image("web", "a");
  const auto b = aws_.ecr().put_image("web", "b");
  const std::string absent = "sha256:" + sigv4::sha256_hex("nothing");
  auto r = call("BatchDeleteImage",
                obj({{"repositoryName", "web"},
                     {"imageIds", arr({id_digest(absent), id_digest("sha256:xyz"), id_tag("-bad"),
                                       obj({{"imageDigest", a}, {"imageTag", "b"}}), Json::Value(Json::objectValue),
                                       id_tag("nope")})}}));
  ASSERT_EQ(r.status, 200);
  std::vector<std::string> codes;
  for (const auto& f : r.body["failures"]) codes.push_back(f["failureCode"].asString());
  EXPECT_EQ(codes, (std::vector<std::string>{"ImageNotFound", "InvalidImageDigest", "InvalidImageTag",
                                             "ImageTagDoesNotMatchDigest", "MissingDigestAndTag", "ImageNotFound"}));
  EXPECT_EQ(r.body["imageIds"].size(), 0u);
  EXPECT_EQ(aws_.ecr().image_count("web"), 2u);
  (void)b;
}

// The digest and tag patterns ECR's failure reasons quote, checked by hand-written scans: each row is an id and
// the failure code BatchDeleteImage gives it ("ImageNotFound" = well formed, absent). The reply is written as
// text, so it must also be the bytes jsoncpp would write.
TEST_F(EcrOps, BatchDeleteJudgesIdsByEcrsPatternsAndWritesJsoncppBytes) {
  create("web");
  const auto kept = aws_.ecr().put_image("web", "keep");
  const std::vector<std::pair<Json::Value, std::string>> rows{
      {id_digest("sha256:0123456789abcdefABCDEF"), "ImageNotFound"},
      {id_digest("a-b_c+d.e:0f"), "ImageNotFound"},
      {id_digest("sha256:xyz"), "InvalidImageDigest"},
      {id_digest("sha256:"), "InvalidImageDigest"},
      {id_digest(":abc"), "InvalidImageDigest"},
      {id_digest("sha256"), "InvalidImageDigest"},
      {id_digest("sha256:ab:cd"), "InvalidImageDigest"},
      {id_digest("sha 256:ab"), "InvalidImageDigest"},
      {id_digest("sha256/x:ab"), "InvalidImageDigest"},
      {id_tag("v1.2_3-rc"), "ImageNotFound"},
      {id_tag("_x"), "ImageNotFound"},
      {id_tag("9"), "ImageNotFound"},
      {id_tag("-lead"), "InvalidImageTag"},
      {id_tag(".lead"), "InvalidImageTag"},
      {id_tag("a/b"), "InvalidImageTag"},
      {id_tag("a b"), "InvalidImageTag"},
      {id_tag("caf\xc3\xa9"), "InvalidImageTag"},
  };
  Json::Value ids(Json::arrayValue);
  for (const auto& [id, code] : rows) ids.append(id);
  ids.append(id_tag("keep"));
  auto r = call("BatchDeleteImage", obj({{"repositoryName", "web"}, {"imageIds", ids}}));
  ASSERT_EQ(r.status, 200) << r.json;
  EXPECT_EQ(to_compact_json(r.body), r.json);
  ASSERT_EQ(r.body["failures"].size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(r.body["failures"][static_cast<Json::ArrayIndex>(i)]["failureCode"].asString(), rows[i].second)
        << to_compact_json(rows[i].first);
    EXPECT_EQ(r.body["failures"][static_cast<Json::ArrayIndex>(i)]["imageId"], rows[i].first);
  }
  ASSERT_EQ(r.body["imageIds"].size(), 1u);
  EXPECT_EQ(r.body["imageIds"][0]["imageDigest"].asString(), kept);
  EXPECT_EQ(r.body["imageIds"][0]["imageTag"].asString(), "keep");
  EXPECT_EQ(aws_.ecr().image_count("web"), 0u);
}

TEST_F(EcrOps, AChildAnIndexReferencesCannotBeDeletedUntilTheIndexIsGone) {
  create("multi");
  const auto amd64 = aws_.ecr().put_image("multi", "");
  const auto arm64 = aws_.ecr().put_image("multi", "");
  const auto index = aws_.ecr().put_index("multi", {amd64, arm64}, "latest");
  ASSERT_FALSE(index.empty());
  auto refused = call("BatchDeleteImage", obj({{"repositoryName", "multi"}, {"imageIds", arr({id_digest(amd64)})}}));
  ASSERT_EQ(refused.body["failures"].size(), 1u);
  EXPECT_EQ(refused.body["failures"][0]["failureCode"].asString(), "ImageReferencedByManifestList");
  EXPECT_NE(refused.body["failures"][0]["failureReason"].asString().find(index), std::string::npos);
  // The index first, then its children, in one call: ids apply in order.
  auto ok = call("BatchDeleteImage", obj({{"repositoryName", "multi"},
                                          {"imageIds", arr({id_digest(index), id_digest(amd64), id_digest(arm64)})}}));
  EXPECT_EQ(ok.body["failures"].size(), 0u) << to_compact_json(ok.body);
  EXPECT_EQ(aws_.ecr().image_count("multi"), 0u);
}

TEST_F(EcrOps, ListImagesPagesAndTheTokenSurvivesDeletionsBetweenPages) {
  create("web");
  std::set<std::string> all;
  for (int i = 0; i < 240; ++i) all.insert(aws_.ecr().put_image("web", "t" + std::to_string(i)));
  for (int i = 0; i < 10; ++i) all.insert(aws_.ecr().put_image("web", ""));
  std::set<std::string> seen;
  std::vector<std::size_t> pages;
  Json::Value in = obj({{"repositoryName", "web"}, {"maxResults", 100}});
  bool deleted = false;
  std::set<std::string> deleted_digests;
  for (;;) {
    auto r = call("ListImages", in);
    ASSERT_EQ(r.status, 200) << to_compact_json(r.body);
    pages.push_back(r.body["imageIds"].size());
    for (const auto& id : r.body["imageIds"]) {
      EXPECT_TRUE(seen.insert(id["imageDigest"].asString()).second) << "listed twice";
    }
    if (!r.body.isMember("nextToken")) break;
    if (!deleted) {
      // Delete the last listed image and 20 not yet listed; the token must still lead on without repeats.
      Json::Value ids(Json::arrayValue);
      ids.append(r.body["imageIds"][r.body["imageIds"].size() - 1]);
      int extra = 0;
      for (const auto& d : all) {
        if (seen.count(d) == 0 && extra < 20) {
          ids.append(id_digest(d));
          deleted_digests.insert(d);
          ++extra;
        }
      }
      ASSERT_EQ(call("BatchDeleteImage", obj({{"repositoryName", "web"}, {"imageIds", ids}})).status, 200);
      deleted = true;
    }
    in["nextToken"] = r.body["nextToken"];
  }
  EXPECT_EQ(seen.size(), all.size() - deleted_digests.size());
  EXPECT_EQ(pages, (std::vector<std::size_t>{100, 100, 30}));
  EXPECT_EQ(call("ListImages", obj({{"repositoryName", "web"}, {"nextToken", "garbage!"}})).error_code,
            "InvalidParameterException");
}

TEST_F(EcrOps, ListImagesGivesOneEntryPerTagAndFiltersByTagStatus) {
  create("web");
  const auto d = aws_.ecr().put_image("web", "a");
  aws_.ecr().put_manifest("web", aws_.ecr().repository("web")->images.at(d).manifest, "", "b");
  aws_.ecr().put_image("web", "");
  auto count = [&](const char* status) {
    return call("ListImages", obj({{"repositoryName", "web"}, {"filter", obj({{"tagStatus", status}})}}))
        .body["imageIds"].size();
  };
  EXPECT_EQ(count("ANY"), 3u);
  EXPECT_EQ(count("TAGGED"), 2u);
  EXPECT_EQ(count("UNTAGGED"), 1u);
  auto untagged = call("ListImages", obj({{"repositoryName", "web"}, {"filter", obj({{"tagStatus", "UNTAGGED"}})}}));
  EXPECT_FALSE(untagged.body["imageIds"][0].isMember("imageTag"));
}

TEST_F(EcrOps, DescribeImagesReportsEveryDetailAndPages) {
  create("web");
  const auto subject = aws_.ecr().put_image("web", "v1");
  const auto sig = aws_.ecr().put_referrer("web", subject);
  for (int i = 0; i < 5; ++i) aws_.ecr().put_image("web", "x" + std::to_string(i));
  auto r = call("DescribeImages", obj({{"repositoryName", "web"}, {"imageIds", arr({id_digest(sig)})}}));
  ASSERT_EQ(r.status, 200);
  const auto& d = r.body["imageDetails"][0];
  EXPECT_EQ(d["subjectManifestDigest"].asString(), subject);
  EXPECT_EQ(d["imageManifestMediaType"].asString(), kOciManifest);
  EXPECT_EQ(d["artifactMediaType"].asString(), "application/vnd.dev.cosign.artifact.sig.v1+json");
  EXPECT_GT(d["imageSizeInBytes"].asInt64(), 0);
  EXPECT_GT(d["imagePushedAt"].asDouble(), 1.6e9);
  EXPECT_FALSE(d.isMember("lastRecordedPullTime"));
  call("BatchGetImage", obj({{"repositoryName", "web"}, {"imageIds", arr({id_digest(sig)})}}));
  auto pulled = call("DescribeImages", obj({{"repositoryName", "web"}, {"imageIds", arr({id_digest(sig)})}}));
  EXPECT_TRUE(pulled.body["imageDetails"][0].isMember("lastRecordedPullTime"));
  std::size_t total = 0;
  Json::Value in = obj({{"repositoryName", "web"}, {"maxResults", 3}});
  for (int page = 0; page < 10; ++page) {
    auto p = call("DescribeImages", in);
    total += p.body["imageDetails"].size();
    if (!p.body.isMember("nextToken")) break;
    in["nextToken"] = p.body["nextToken"];
  }
  EXPECT_EQ(total, 7u);
  EXPECT_EQ(call("DescribeImages", obj({{"repositoryName", "web"}, {"imageIds", arr({id_tag("none")})}})).error_code,
            "ImageNotFoundException");
}

// The listing pages are written as text, not through a Json::Value tree (json_text.hpp): jsoncpp reading a page
// and writing it again must give the same bytes, so escaping, number format and member order are what the tree
// gave, over every optional member and characters that need escaping.
TEST_F(EcrOps, ListingPagesAreTheBytesJsoncppWouldWrite) {
  create("web");
  const auto subject = aws_.ecr().put_image("web", "v1");
  aws_.ecr().put_image("web", "v2");
  aws_.ecr().put_image("web", "");
  const auto sig = aws_.ecr().put_referrer("web", subject);
  const auto child = aws_.ecr().put_image("web", "");
  aws_.ecr().put_index("web", {child}, "multi");
  // An artifact type with a quote, a backslash, control characters, DEL and UTF-8 (the manifest is free text).
  const std::string odd_type = R"(application/x\"q\\\u0001\n\t\u001f\u007f\u00e9)";  // as JSON text
  aws_.ecr().put_manifest("web",
                          R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":")" +
                              odd_type + R"(","config":{"size":3},"layers":[]})",
                          "", "odd");
  call("BatchGetImage", obj({{"repositoryName", "web"}, {"imageIds", arr({id_digest(sig)})}}));
  int pages = 0;
  std::set<std::string> seen;
  for (const char* op : {"DescribeImages", "ListImages"}) {
    Json::Value in = obj({{"repositoryName", "web"}, {"maxResults", 3}});
    for (int page = 0; page < 10; ++page) {
      auto r = call(op, in);
      ASSERT_EQ(r.status, 200) << r.json;
      ASSERT_FALSE(r.json.empty()) << op;
      EXPECT_EQ(to_compact_json(r.body), r.json) << op;
      for (const auto& d : r.body[std::string(op) == "ListImages" ? "imageIds" : "imageDetails"]) {
        seen.insert(d.get("artifactMediaType", "").asString());
      }
      ++pages;
      if (!r.body.isMember("nextToken")) break;
      in["nextToken"] = r.body["nextToken"];
    }
  }
  EXPECT_EQ(pages, 6);  // 7 images in pages of 3, then their 7 (digest, tag) entries in pages of 3
  ASSERT_TRUE(parse_json("\"" + odd_type + "\""));
  EXPECT_EQ(seen.count(parse_json("\"" + odd_type + "\"")->asString()), 1u);
  auto by_id = call("DescribeImages", obj({{"repositoryName", "web"}, {"imageIds", arr({id_digest(sig), id_tag("v2")})}}));
  ASSERT_EQ(by_id.status, 200);
  EXPECT_EQ(to_compact_json(by_id.body), by_id.json);
  EXPECT_EQ(by_id.body["imageDetails"].size(), 2u);
}

TEST(JsonText, WritesNumbersStringsAndNestingAsJsoncppDoes) {
  const std::vector<double> doubles{0.0, 1.0, -3.5, 0.1, 1764769850.123, 1e21, 1.5e-7, 123456789012345678.0};
  const std::vector<std::int64_t> ints{0, -1, 42, std::numeric_limits<std::int64_t>::min(),
                                       std::numeric_limits<std::int64_t>::max()};
  JsonText text;
  Json::Value tree;
  text.begin_object().key("a").begin_array();
  for (double d : doubles) {
    text.number(d);
    tree["a"].append(d);
  }
  text.end_array().key("b").begin_array();
  for (auto n : ints) {
    text.number(n);
    tree["b"].append(static_cast<Json::Int64>(n));
  }
  text.end_array().key("c").begin_array().end_array().key("d").begin_object().end_object();
  tree["c"] = Json::Value(Json::arrayValue);
  tree["d"] = Json::Value(Json::objectValue);
  const std::string odd = std::string("q\"b\\s\b\f\n\r\t") + '\x01' + '\x1f' + '\x7f' + "\xc3\xa9/</";
  text.member("e", odd).key("f").begin_array().begin_object().member("g", "").end_object().string("h").end_array();
  tree["e"] = odd;
  tree["f"].append(obj({{"g", ""}}));
  tree["f"].append("h");
  text.end_object();
  EXPECT_EQ(text.str(), to_compact_json(tree));
}

TEST_F(EcrOps, PutImageDigestsTheManifestBytesAndMovesTags) {
  create("web");
  const std::string manifest =
      R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 7, "digest": "sha256:aa"}, "layers": [{"size": 100, "digest": "sha256:bb"}]})";
  auto r = call("PutImage", obj({{"repositoryName", "web"}, {"imageManifest", manifest}, {"imageTag", "v1"}}));
  ASSERT_EQ(r.status, 200) << to_compact_json(r.body);
  const std::string digest = "sha256:" + sigv4::sha256_hex(manifest);
  EXPECT_EQ(r.body["image"]["imageId"]["imageDigest"].asString(), digest);
  EXPECT_EQ(aws_.ecr().repository("web")->images.at(digest).size_bytes, 107);
  EXPECT_EQ(call("PutImage", obj({{"repositoryName", "web"}, {"imageManifest", manifest}, {"imageTag", "v1"}})).error_code,
            "ImageAlreadyExistsException");
  const auto other = aws_.ecr().put_image("web", "");
  auto moved = call("PutImage", obj({{"repositoryName", "web"},
                                     {"imageManifest", aws_.ecr().repository("web")->images.at(other).manifest},
                                     {"imageTag", "v1"}}));
  ASSERT_EQ(moved.status, 200);
  auto repo = *aws_.ecr().repository("web");
  EXPECT_TRUE(repo.images.at(digest).tags.empty());  // kept, untagged
  EXPECT_EQ(repo.images.at(other).tags.count("v1"), 1u);
  const std::string bad_index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}]})";
  EXPECT_EQ(call("PutImage", obj({{"repositoryName", "web"}, {"imageManifest", bad_index}})).error_code,
            "ReferencedImagesNotFoundException");
  EXPECT_EQ(call("PutImage", obj({{"repositoryName", "web"}, {"imageManifest", "not json"}})).error_code,
            "InvalidParameterException");
  EXPECT_EQ(call("PutImage", obj({{"repositoryName", "web"}, {"imageManifest", manifest}, {"imageDigest", "sha256:00"}}))
                .error_code,
            "ImageDigestDoesNotMatchException");
}

TEST_F(EcrOps, ImmutableRepositoriesRefuseToMoveATag) {
  ASSERT_EQ(call("CreateRepository", obj({{"repositoryName", "frozen"}, {"imageTagMutability", "IMMUTABLE"}})).status,
            200);
  aws_.ecr().put_image("frozen", "v1");
  const auto other = aws_.ecr().put_image("frozen", "");
  auto r = call("PutImage", obj({{"repositoryName", "frozen"},
                                 {"imageManifest", aws_.ecr().repository("frozen")->images.at(other).manifest},
                                 {"imageTag", "v1"}}));
  EXPECT_EQ(r.error_code, "ImageTagAlreadyExistsException");
}

TEST_F(EcrOps, DeleteRepositoryNeedsForceWhenImagesRemain) {
  create("web");
  aws_.ecr().put_image("web", "a");
  EXPECT_EQ(call("DeleteRepository", obj({{"repositoryName", "web"}})).error_code, "RepositoryNotEmptyException");
  EXPECT_EQ(call("DeleteRepository", obj({{"repositoryName", "web"}, {"force", true}})).status, 200);
  EXPECT_EQ(call("DeleteRepository", obj({{"repositoryName", "web"}})).error_code, "RepositoryNotFoundException");
  EXPECT_EQ(call("ListImages", obj({{"repositoryName", "web"}})).body["message"].asString(),
            "The repository with name 'web' does not exist in the registry with id '123456789012'");
}

TEST_F(EcrOps, DescribeRepositoriesPagesByName) {
  for (int i = 0; i < 7; ++i) create("repo" + std::to_string(i));
  std::size_t total = 0;
  int pages = 0;
  Json::Value in = obj({{"maxResults", 3}});
  for (;;) {
    auto r = call("DescribeRepositories", in);
    ++pages;
    total += r.body["repositories"].size();
    if (!r.body.isMember("nextToken")) break;
    in["nextToken"] = r.body["nextToken"];
  }
  EXPECT_EQ(total, 7u);
  EXPECT_EQ(pages, 3);
  Json::Value names(Json::arrayValue);
  names.append("missing");
  EXPECT_EQ(call("DescribeRepositories", obj({{"repositoryNames", names}})).error_code, "RepositoryNotFoundException");
}

TEST_F(EcrOps, LifecyclePolicyAndTagsRoundTrip) {
  create("web");
  const std::string policy =
      R"({"rules":[{"rulePriority":1,"description":"expire untagged","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]})";
  EXPECT_EQ(call("GetLifecyclePolicy", obj({{"repositoryName", "web"}})).error_code, "LifecyclePolicyNotFoundException");
  EXPECT_EQ(call("PutLifecyclePolicy", obj({{"repositoryName", "web"}, {"lifecyclePolicyText", policy}})).status, 200);
  EXPECT_EQ(call("GetLifecyclePolicy", obj({{"repositoryName", "web"}})).body["lifecyclePolicyText"].asString(), policy);
  EXPECT_EQ(call("DeleteLifecyclePolicy", obj({{"repositoryName", "web"}})).status, 200);
  EXPECT_EQ(call("GetLifecyclePolicy", obj({{"repositoryName", "web"}})).error_code, "LifecyclePolicyNotFoundException");

  const std::string arn = "arn:aws:ecr:us-east-1:123456789012:repository/web";
  Json::Value tags(Json::arrayValue);
  tags.append(obj({{"Key", "team"}, {"Value", "infra"}}));
  EXPECT_EQ(call("TagResource", obj({{"resourceArn", arn}, {"tags", tags}})).status, 200);
  auto listed = call("ListTagsForResource", obj({{"resourceArn", arn}}));
  ASSERT_EQ(listed.body["tags"].size(), 1u);
  EXPECT_EQ(listed.body["tags"][0]["Key"].asString(), "team");
  Json::Value keys(Json::arrayValue);
  keys.append("team");
  EXPECT_EQ(call("UntagResource", obj({{"resourceArn", arn}, {"tagKeys", keys}})).status, 200);
  EXPECT_EQ(call("ListTagsForResource", obj({{"resourceArn", arn}})).body["tags"].size(), 0u);
  EXPECT_EQ(call("ListTagsForResource", obj({{"resourceArn", "nonsense"}})).error_code, "InvalidParameterException");
}

TEST_F(EcrOps, StateRoundTripsThroughJson) {
  const auto a = aws_.ecr().put_image("web", "v1");
  const auto b = aws_.ecr().put_image("web", "");
  aws_.ecr().put_index("web", {a, b}, "multi");
  EcrState copy("123456789012", "us-east-1");
  ASSERT_TRUE(copy.load_json(aws_.ecr().to_json()));
  EXPECT_EQ(copy.image_count("web"), 3u);
  EXPECT_EQ(copy.tag_count("web"), 2u);
  EXPECT_DOUBLE_EQ(to_epoch_seconds(copy.repository("web")->images.at(a).pushed_at),
                   to_epoch_seconds(aws_.ecr().repository("web")->images.at(a).pushed_at));
}

}  // namespace
}  // namespace ecrs::localaws
