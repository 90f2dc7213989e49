// Pure selection planner: tables of listings in, decisions out; and a property test over random worlds that
// nothing in use (directly, by tag, via an index) is ever planned for deletion.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "ecrs/cleanup/image_ref.hpp"
#include "ecrs/cleanup/selection_planner.hpp"

namespace ecrs::cleanup {
namespace {

constexpr double kNow = 1'700'000'000.0;
const RepositoryKey kRepo{"123456789012", "us-east-1", "web"};
const std::string kUri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web";

ecr::ImageDetail image(const std::string& digest, double age_days, std::vector<std::string> tags = {},
                       std::int64_t size = 1000) {
  ecr::ImageDetail d;
  d.image_digest = digest;
  d.image_tags = std::move(tags);
  d.image_pushed_at = kNow - age_days * kSecondsPerDay;
  d.image_size_in_bytes = size;
  d.image_manifest_media_type = "application/vnd.docker.distribution.manifest.v2+json";
  return d;
}

std::set<std::string> removed(const RepositoryPlan& p) {
  std::set<std::string> out;
  for (const auto& d : p.remove) out.insert(d.image_digest);
  return out;
}

InUseIndex uses(std::vector<std::string> uris) {
  InUseIndex idx;
  for (const auto& u : uris) idx.add({*parse_image_ref(u), "test"});
  return idx;
}

TEST(ImageRef, ParsesTagDigestAndBoth) {
  auto a = parse_image_ref(kUri + ":v1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->registry_id, "123456789012");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->repository, "web");
  EXPECT_EQ(a->tag, "v1");
  auto b = parse_image_ref("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api@sha256:abc");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->repository, "team/api");
  EXPECT_EQ(b->digest, "sha256:abc");
  EXPECT_EQ(b->tag, "");
  auto c = parse_image_ref(kUri);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tag, "latest");
  EXPECT_FALSE(parse_image_ref("nginx:latest"));
  EXPECT_FALSE(parse_image_ref("public.ecr.aws/nginx/nginx:1"));
}

TEST(Glob, MatchesStarsAndQuestionMarks) {
  EXPECT_TRUE(glob_match("release-*", "release-1.2"));
  EXPECT_FALSE(glob_match("release-*", "prerelease-1"));
  EXPECT_TRUE(glob_match("v?", "v1"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("latest", "latest2"));
}

struct Row {
  const char* name;
  Rules rules;
  std::vector<ecr::ImageDetail> images;
  std::vector<std::string> in_use;
  std::set<std::string> expect_removed;
};

TEST(SelectionPlanner, TableOfRules) {
  Rules keep2_days10;
  keep2_days10.keep_count = 2;
  keep2_days10.keep_days = 10;
  keep2_days10.keep_tag_patterns = {"latest", "release-*"};
  const std::vector<Row> rows = {
      {"newest N count digests, age keeps young ones", keep2_days10,
       {image("d1", 1), image("d2", 5), image("d3", 20), image("d4", 40)}, {}, {"d3", "d4"}},
      {"age rule keeps beyond N", keep2_days10,
       {image("d1", 1), image("d2", 2), image("d3", 3), image("d4", 40)}, {}, {"d4"}},
      {"tag patterns keep", keep2_days10,
       {image("d1", 1), image("d2", 2), image("d3", 50, {"release-7"}), image("d4", 60, {"latest"}),
        image("d5", 70, {"feature-x"})},
       {}, {"d5"}},
      {"in use by tag keeps the digest the tag names", keep2_days10,
       {image("d1", 1), image("d2", 2), image("d3", 50, {"v3"}), image("d4", 60, {"v4"})}, {kUri + ":v3"}, {"d4"}},
      {"in use by digest keeps that digest even untagged", keep2_days10,
       {image("d1", 1), image("d2", 2), image("d3", 50), image("d4", 60)}, {kUri + "@d4"}, {"d3"}},
      {"a moved tag: the task's resolved digest still protects the old image", keep2_days10,
       {image("d1", 1, {"prod"}), image("d2", 2), image("d3", 50)}, {kUri + ":prod", kUri + ":prod@d3"}, {}},
      {"keep_count 0 and keep_days 0 leave only use and tags", Rules{0, 0, {}},
       {image("d1", 1), image("d2", 2)}, {kUri + "@d2"}, {"d1"}},
      {"references to other repositories protect nothing here", keep2_days10,
       {image("d1", 1), image("d2", 2), image("d3", 50)},
       {"123456789012.dkr.ecr.us-east-1.amazonaws.com/other@d3", "210987654321.dkr.ecr.us-east-1.amazonaws.com/web@d3"},
       {"d3"}},
  };
  for (const auto& row : rows) {
    const auto plan = plan_repository({kRepo, row.images}, row.rules, uses(row.in_use), kNow);
    EXPECT_EQ(removed(plan), row.expect_removed) << row.name;
    EXPECT_EQ(plan.remove.size() + plan.keep.size(), row.images.size()) << row.name;
  }
}

TEST(SelectionPlanner, InUseIndexKeepsItsChildrenAndRemovedIndexGoesBeforeChildren) {
  Rules r{0, 10, {}};
  auto used_index = image("i1", 50, {"multi"});
  used_index.image_manifest_media_type = ecr::kOciImageIndexMediaType;
  used_index.child_digests = {"c1", "c2"};
  auto old_index = image("i2", 60);
  old_index.image_manifest_media_type = ecr::kOciImageIndexMediaType;
  old_index.child_digests = {"c3"};
  const auto plan = plan_repository({kRepo, {used_index, old_index, image("c1", 50), image("c2", 50), image("c3", 60)}},
                                    r, uses({kUri + ":multi"}), kNow);
  EXPECT_EQ(removed(plan), (std::set<std::string>{"i2", "c3"}));
  ASSERT_EQ(plan.remove.size(), 2u);
  EXPECT_EQ(plan.remove[0].image_digest, "i2");  // index first, then its child
  EXPECT_LT(plan.remove_phase[0], plan.remove_phase[1]);
}

TEST(SelectionPlanner, UntaggedGoFirstAndBytesAreSummed) {
  Rules r{0, 10, {}};
  const auto plan = plan_repository({kRepo, {image("t", 90, {"old"}, 5), image("u", 20, {}, 7)}}, r, InUseIndex{}, kNow);
  ASSERT_EQ(plan.remove.size(), 2u);
  EXPECT_EQ(plan.remove[0].image_digest, "u");
  EXPECT_EQ(plan.bytes_reclaimed, 12);
}

TEST(SelectionPlanner, KeepReasonsNameTheUser) {
  InUseIndex idx;
  idx.add({*parse_image_ref(kUri + "@d1"), "lambda api:3 (alias live)"});
  const auto plan = plan_repository({kRepo, {image("d1", 90)}}, Rules{0, 0, {}}, idx, kNow);
  ASSERT_EQ(plan.keep.size(), 1u);
  EXPECT_NE(plan.keep[0].reasons.at(0).find("lambda api:3 (alias live)"), std::string::npos);
}

TEST(SelectRepository, OptInByTagsOrNameAndOverrides) {
  Rules base;
  EXPECT_FALSE(select_repository("web", {}, {}, base).selected);
  EXPECT_TRUE(select_repository("web", {{"ecr-sweeper:enabled", "true"}}, {}, base).selected);
  EXPECT_TRUE(select_repository("web", {{"BoxCleanerEnabled", "TRUE"}}, {}, base).selected);
  EXPECT_FALSE(select_repository("web", {{"BoxCleanerEnabled", "false"}}, {}, base).selected);
  EXPECT_TRUE(select_repository("team/web", {}, {"team/*"}, base).selected);
  auto s = select_repository("web", {{"BoxCleanerEnabled", "true"}, {"BoxCleanerKeepDays", "7"}}, {}, base);
  EXPECT_EQ(s.rules.keep_days, 7);
  auto bad = select_repository("web", {{"ecr-sweeper:keep-days", "-3"}}, {}, base);
  EXPECT_EQ(bad.rules.keep_days, base.keep_days);
}

// Property: over random worlds (images, indexes, tags, references by tag and by digest), no digest that is
// referenced, named by a referenced tag, or a child of a referenced index is ever in `remove`; and every image is
// either removed or kept.
TEST(SelectionPlanner, NothingInUseIsEverRemovedInRandomWorlds) {
  std::mt19937 rng(20240601);
  constexpr int kWorlds = 300;
  for (int w = 0; w < kWorlds; ++w) {
    const int n = 1 + static_cast<int>(rng() % 60);
    std::vector<ecr::ImageDetail> images;
    std::vector<std::string> digests;
    for (int i = 0; i < n; ++i) {
      const std::string d = "sha256:" + std::to_string(w) + "-" + std::to_string(i);
      std::vector<std::string> tags;
      if (rng() % 2) tags.push_back("t" + std::to_string(i));
      images.push_back(image(d, static_cast<double>(rng() % 120), tags));
      digests.push_back(d);
    }
    for (auto& img : images) {  // some indexes over earlier images
      if (rng() % 8 == 0 && digests.size() > 2) {
        img.image_manifest_media_type = ecr::kDockerManifestListMediaType;
        img.child_digests = {digests[rng() % digests.size()], digests[rng() % digests.size()]};
      }
    }
    std::vector<std::string> refs;
    std::set<std::string> protected_digests;
    for (int k = 0; k < 5; ++k) {
      const auto& img = images[rng() % images.size()];
      if (!img.image_tags.empty() && rng() % 2) {
        refs.push_back(kUri + ":" + img.image_tags[0]);
      } else {
        refs.push_back(kUri + "@" + img.image_digest);
      }
      protected_digests.insert(img.image_digest);
      for (const auto& c : img.child_digests) protected_digests.insert(c);
    }
    Rules rules{static_cast<int>(rng() % 10), static_cast<int>(rng() % 60), {}};
    const auto plan = plan_repository({kRepo, images}, rules, uses(refs), kNow);
    for (const auto& d : plan.remove) {
      ASSERT_EQ(protected_digests.count(d.image_digest), 0u) << "world " << w << " removed in-use " << d.image_digest;
    }
    ASSERT_EQ(plan.remove.size() + plan.keep.size(), images.size()) << "world " << w;
  }
}

}  // namespace
}  // namespace ecrs::cleanup
