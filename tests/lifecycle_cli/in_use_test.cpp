// Matching the cleanup in-use scan to a lifecycle preview (pure): which references belong to the registry the
// preview reads, and which digests of a listing they name.
#include <gtest/gtest.h>

#include "ecrs/handler/lifecycle_in_use.hpp"

namespace ecrs::lifecycle_cli_test {
namespace {

cleanup::InUseRef use(std::string registry, std::string region, std::string repo, std::string tag,
                      std::string digest, std::string user = "ecs:task/t") {
  return {{std::move(registry), std::move(region), std::move(repo), std::move(tag), std::move(digest)},
          std::move(user)};
}

lifecycle::Image image(std::string digest, std::vector<std::string> tags) {
  lifecycle::Image i;
  i.image_digest = std::move(digest);
  i.image_tags = std::move(tags);
  return i;
}

TEST(LifecycleInUse, KeepsOnlyReferencesIntoTheCallersRegistryInTheRegion) {
  const std::vector<cleanup::InUseRef> refs{
      use("111111111111", "us-east-1", "web", "", "sha256:a"),
      use("222222222222", "us-east-1", "web", "", "sha256:b"),  // another account's registry
      use("111111111111", "eu-west-1", "web", "", "sha256:c"),  // the same name in another region
      use("111111111111", "us-east-1", "api", "v1", ""),
  };
  const auto index = handler::index_in_use(refs, "111111111111", "us-east-1");
  ASSERT_EQ(index.by_repository.size(), 2u);
  ASSERT_EQ(index.by_repository.at("web").size(), 1u);
  EXPECT_EQ(index.by_repository.at("web")[0].ref.digest, "sha256:a");
  ASSERT_EQ(index.by_repository.at("api").size(), 1u);
  EXPECT_EQ(index.by_repository.at("api")[0].ref.tag, "v1");
}

TEST(LifecycleInUse, DigestsAreTakenAsWrittenAndTagsResolvedAgainstTheListing) {
  const std::vector<lifecycle::Image> listing{image("sha256:01", {"v1", "stable"}), image("sha256:02", {}),
                                              image("sha256:03", {"v2"})};
  const std::vector<cleanup::InUseRef> refs{
      use("1", "r", "web", "stable", ""),          // the tag's current image
      use("1", "r", "web", "v2", "sha256:02"),     // a digest wins over the tag it was pulled by
      use("1", "r", "web", "gone", ""),            // a tag that names nothing here now
  };
  EXPECT_EQ(handler::digests_in_use(refs, listing), (std::set<std::string>{"sha256:01", "sha256:02"}));
  EXPECT_TRUE(handler::digests_in_use({}, listing).empty());
}

TEST(LifecycleInUse, TheLookupAnswersPerRepositoryAndNothingForAnUnusedOne) {
  auto index = std::make_shared<handler::LifecycleInUse>(
      handler::index_in_use({use("1", "r", "web", "latest", "")}, "1", "r"));
  const auto lookup = handler::make_in_use_lookup(index);
  const std::vector<lifecycle::Image> listing{image("sha256:aa", {"latest"})};
  auto web = lookup("web", listing);
  ASSERT_TRUE(web);
  EXPECT_EQ(*web, (std::set<std::string>{"sha256:aa"}));
  auto other = lookup("other", listing);
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->empty());
}

TEST(LifecycleInUse, TheDescriptionCountsWhatWasScannedAndNamesWhatIsNotCovered) {
  handler::LifecycleInUse scan;
  scan.registry_id = "123456789012";
  scan.region = "us-east-1";
  scan.counts.clusters = 2;
  scan.counts.functions = 3;
  const std::string text = handler::describe_scan(scan);
  EXPECT_NE(text.find("123456789012/us-east-1"), std::string::npos) << text;
  EXPECT_NE(text.find("ECS 2 clusters"), std::string::npos) << text;
  EXPECT_NE(text.find("Lambda 3 image functions"), std::string::npos) << text;
  for (const char* gap : cleanup::kNotCovered) EXPECT_NE(text.find(gap), std::string::npos) << text;
}

}  // namespace
}  // namespace ecrs::lifecycle_cli_test
