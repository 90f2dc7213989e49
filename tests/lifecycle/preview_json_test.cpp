// The `preview --output json` document: exact text for a small case, so any change to the contract shows up here.
#include "ecrs/lifecycle/preview_json.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "ecrs/lifecycle/policy_validator.hpp"

namespace ecrs::lifecycle {
namespace {

const Timestamp kNow = std::chrono::sys_days{std::chrono::year{2025} / 6 / 1};

Image img(std::string digest, std::vector<std::string> tags, int age_days) {
  Image i;
  i.image_digest = std::move(digest);
  i.image_tags = std::move(tags);
  i.image_pushed_at = kNow - std::chrono::days(age_days);
  return i;
}

Policy policy() {
  auto p = parse_policy(R"({"rules":[
    {"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days",
     "countNumber":7},"action":{"type":"expire"}},
    {"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},
     "action":{"type":"expire"}}]})");
  EXPECT_TRUE(p.has_value());
  return p.has_value() ? p.value() : Policy{};
}

TEST(PreviewJson, ListsExpiredImagesOldestFirstWithTheirRuleAndCountsTheRest) {
  const std::vector<Image> images{img("sha256:03", {"v3"}, 3), img("sha256:01", {}, 30), img("sha256:02", {"v2", "x"}, 20),
                                  img("sha256:04", {"v4"}, 1)};
  const auto preview = make_repository_preview("team/web", images, evaluate_policy(policy(), images, kNow));
  const std::vector<RepositoryPreview> repos{preview, RepositoryPreview{"empty", {}, {}, 0}};
  EXPECT_EQ(preview_to_json(repos),
            R"({"repositories":[{"expire":[{"imageDigest":"sha256:01","imageTags":[],"inUse":false,"rulePriority":1},)"
            R"({"imageDigest":"sha256:02","imageTags":["v2","x"],"inUse":false,"rulePriority":2}],"kept":2,)"
            R"("repositoryName":"team/web","transition":[]},)"
            R"({"expire":[],"kept":0,"repositoryName":"empty","transition":[]}]})");
}

TEST(PreviewJson, FlagsInUseImagesThePolicyWouldExpire) {
  const std::vector<Image> images{img("sha256:01", {}, 30), img("sha256:02", {"v2"}, 20), img("sha256:03", {"v3"}, 3),
                                  img("sha256:04", {"v4"}, 1)};
  auto preview = make_repository_preview("web", images, evaluate_policy(policy(), images, kNow));
  EXPECT_EQ(mark_in_use(preview, {"sha256:02", "sha256:04"}), 1u);  // 04 is kept, so only 02 is worth flagging
  ASSERT_EQ(preview.expire.size(), 2u);
  EXPECT_FALSE(preview.expire[0].in_use);
  EXPECT_TRUE(preview.expire[1].in_use);
  const auto json = preview_to_json_value(std::vector<RepositoryPreview>{preview});
  EXPECT_TRUE(json["repositories"][0]["expire"][1]["inUse"].asBool());
}

TEST(PreviewJson, ReportsArchivedImagesUnderTransitionAndCountsThemAsKept) {
  auto p = parse_policy(R"({"rules":[{"rulePriority":4,"selection":{"tagStatus":"any","countType":"sinceImagePushed",
    "countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}}]})");
  ASSERT_TRUE(p.has_value());
  const std::vector<Image> images{img("sha256:old", {"v1"}, 40), img("sha256:new", {"v2"}, 10)};
  const auto preview = make_repository_preview("web", images, evaluate_policy(*p, images, kNow));
  EXPECT_TRUE(preview.expire.empty());
  ASSERT_EQ(preview.transition.size(), 1u);
  EXPECT_EQ(preview.transition[0].image_digest, "sha256:old");
  EXPECT_EQ(preview.transition[0].rule_priority, 4);
  EXPECT_EQ(preview.kept, 2u);
}

}  // namespace
}  // namespace ecrs::lifecycle
