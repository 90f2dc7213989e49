// The typed ECR client: decoders as pure functions, then each operation against localaws over HTTP.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ecrs/common/json.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "harness.hpp"

namespace ecrs::ecr {
namespace {

using testing::Harness;

Json::Value json(std::string_view text) {
  auto v = parse_json(text);
  EXPECT_TRUE(v.has_value());
  return v ? *v : Json::Value();
}

TEST(EcrDecoders, BatchDeleteImageReturnsEveryFailureTyped) {
  auto r = decode_batch_delete_image(json(R"({
    "imageIds":[{"imageDigest":"sha256:a"}],
    "failures":[
      {"imageId":{"imageDigest":"sha256:b"},"failureCode":"ImageReferencedByManifestList","failureReason":"held"},
      {"imageId":{"imageDigest":"sha256:c"},"failureCode":"ImageNotFound","failureReason":"gone"},
      {"imageId":{"imageTag":"x"},"failureCode":"KmsError","failureReason":"kms"}]})"));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  ASSERT_EQ(r->image_ids.size(), 1u);
  EXPECT_EQ(r->image_ids[0].image_digest, "sha256:a");
  ASSERT_EQ(r->failures.size(), 3u);
  EXPECT_EQ(r->failures[0].image_id.image_digest, "sha256:b");
  EXPECT_EQ(r->failures[0].failure_code, "ImageReferencedByManifestList");
  EXPECT_EQ(r->failures[0].failure_reason, "held");
  EXPECT_EQ(r->failures[1].failure_code, "ImageNotFound");
  EXPECT_EQ(r->failures[2].image_id.image_tag, "x");
  EXPECT_EQ(r->failures[2].failure_code, "KmsError");
}

TEST(EcrDecoders, WrongTypesAreInvalidResponseNotExceptions) {
  auto a = decode_list_images(json(R"({"imageIds":{"imageDigest":"sha256:a"}})"));
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().code, "InvalidResponse");
  EXPECT_NE(a.error().message.find("imageIds"), std::string::npos);
  auto b = decode_batch_delete_image(json(R"({"failures":[1]})"));
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, "InvalidResponse");
  auto c = decode_describe_images(json(R"([1,2])"));
  ASSERT_FALSE(c.has_value());
}

TEST(EcrDecoders, ListImagesWithoutNextTokenIsTheLastPage) {
  auto r = decode_list_images(json(R"({"imageIds":[{"imageDigest":"sha256:a","imageTag":"t"},{"imageDigest":"sha256:b"}]})"));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->next_token.has_value());
  ASSERT_EQ(r->image_ids.size(), 2u);
  EXPECT_EQ(r->image_ids[0].image_tag, "t");
  EXPECT_TRUE(r->image_ids[1].image_tag.empty());
}

TEST(EcrDecoders, IndexManifestYieldsChildDigests) {
  auto r = parse_index_manifest(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
    "manifests":[{"digest":"sha256:1","mediaType":"x"},{"digest":"sha256:2"}]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (std::vector<std::string>{"sha256:1", "sha256:2"}));
  EXPECT_FALSE(parse_index_manifest(R"({"layers":[]})").has_value());
  EXPECT_FALSE(parse_index_manifest("{trunc").has_value());
}

TEST(EcrClient, ListImagesPagesWithNextToken) {
  Harness h;
  h.state().create_repository("web");
  h.seed_mixed("web", 25);
  std::set<std::string> digests;
  ListImagesRequest req;
  req.repository_name = "web";
  req.max_results = 10;
  int pages = 0;
  while (true) {
    auto page = h.client().list_images(req);
    ASSERT_TRUE(page.has_value()) << page.error().describe();
    ++pages;
    EXPECT_LE(page->image_ids.size(), 10u);
    for (const auto& id : page->image_ids) digests.insert(id.image_digest);
    if (!page->next_token) break;
    req.next_token = page->next_token;
  }
  EXPECT_EQ(digests.size(), 25u);
  EXPECT_GE(pages, 3);
  EXPECT_EQ(h.calls("ListImages"), static_cast<std::uint64_t>(pages));
}

TEST(EcrClient, MissingRepositoryErrorNamesTheCallAndRepository) {
  Harness h;
  ListImagesRequest req;
  req.repository_name = "nope";
  auto r = h.client().list_images(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "RepositoryNotFoundException");
  EXPECT_EQ(r.error().context, "ListImages repository=nope");
  EXPECT_EQ(r.error().http_status, 400);
}

TEST(EcrClient, RegistryIdIsPassedThrough) {
  Harness h;
  h.state().create_repository("web");
  h.state().put_image("web", "a");
  ListImagesRequest req;
  req.repository_name = "web";
  req.registry_id = h.server().options().account_id;
  auto own = h.client().list_images(req);
  ASSERT_TRUE(own.has_value()) << own.error().describe();
  EXPECT_EQ(own->image_ids.size(), 1u);
  // Another account's registry holds no such repository here: the id reached the server.
  req.registry_id = "999999999999";
  auto other = h.client().list_images(req);
  EXPECT_FALSE(other.has_value());
}

TEST(EcrClient, DescribeImagesAndBatchGetImageFindIndexChildren) {
  Harness h;
  h.state().create_repository("multi");
  const std::string amd = h.state().put_image("multi", "");
  const std::string arm = h.state().put_image("multi", "");
  const std::string index = h.state().put_index("multi", {amd, arm}, "latest");
  DescribeImagesRequest req;
  req.repository_name = "multi";
  req.image_ids = {ImageId{index, ""}, ImageId{amd, ""}};
  auto d = h.client().describe_images(req);
  ASSERT_TRUE(d.has_value()) << d.error().describe();
  ASSERT_EQ(d->image_details.size(), 2u);
  for (const auto& det : d->image_details) {
    if (det.image_digest == index) {
      EXPECT_TRUE(is_index_media_type(det.image_manifest_media_type)) << det.image_manifest_media_type;
      EXPECT_EQ(det.image_tags, std::vector<std::string>{"latest"});
    } else {
      EXPECT_FALSE(is_index_media_type(det.image_manifest_media_type));
    }
  }
  auto children = h.client().index_children("multi", std::nullopt, {index});
  ASSERT_TRUE(children.has_value()) << children.error().describe();
  ASSERT_EQ(children->size(), 1u);
  EXPECT_EQ((*children)[0].first, index);
  auto kids = (*children)[0].second;
  std::sort(kids.begin(), kids.end());
  std::vector<std::string> want{amd, arm};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(kids, want);
}

TEST(EcrClient, BatchDeleteImageReportsReferencedChildAsFailure) {
  Harness h;
  h.state().create_repository("multi");
  const std::string child = h.state().put_image("multi", "");
  const std::string index = h.state().put_index("multi", {child}, "latest");
  BatchDeleteImageRequest req;
  req.repository_name = "multi";
  req.image_ids = {ImageId{child, ""}, ImageId{"sha256:" + std::string(64, 'a'), ""}};
  auto r = h.client().batch_delete_image(req);
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_TRUE(r->image_ids.empty());
  ASSERT_EQ(r->failures.size(), 2u);
  std::set<std::string> codes;
  for (const auto& f : r->failures) codes.insert(f.failure_code);
  EXPECT_EQ(codes, (std::set<std::string>{"ImageReferencedByManifestList", "ImageNotFound"}));
  EXPECT_EQ(h.state().image_count("multi"), 2u);
  (void)index;
}

TEST(EcrClient, DescribeRepositoriesAndDeleteRepository) {
  Harness h;
  h.state().create_repository("web");
  DescribeRepositoriesRequest req;
  req.repository_names = {"web"};
  auto d = h.client().describe_repositories(req);
  ASSERT_TRUE(d.has_value()) << d.error().describe();
  ASSERT_EQ(d->repositories.size(), 1u);
  EXPECT_EQ(d->repositories[0].repository_name, "web");
  EXPECT_EQ(d->repositories[0].registry_id, h.server().options().account_id);
  EXPECT_NE(d->repositories[0].repository_arn.find(":repository/web"), std::string::npos);
  DeleteRepositoryRequest del_req;
  del_req.repository_name = "web";
  del_req.force = true;
  auto del = h.client().delete_repository(del_req);
  ASSERT_TRUE(del.has_value()) << del.error().describe();
  EXPECT_FALSE(h.state().has_repository("web"));
  auto again = h.client().describe_repositories(req);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, "RepositoryNotFoundException");
  EXPECT_EQ(again.error().context, "DescribeRepositories repository=web");
}

}  // namespace
}  // namespace ecrs::ecr
