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

struct HostRow {
  const char* uri;
  const char* region;
};

TEST(ImageRef, ReadsEveryEcrRegistryHostForm) {
  const HostRow rows[] = {
      {"123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1", "us-east-1"},
      {"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/web:v1", "us-east-1"},
      {"123456789012.dkr-ecr.us-west-2.on.aws/web:v1", "us-west-2"},
      {"123456789012.dkr-ecr-fips.us-west-2.on.aws/web:v1", "us-west-2"},
      {"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/web:v1", "cn-north-1"},
      {"123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn/web:v1", "cn-north-1"},
      {"123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/web:v1", "us-gov-west-1"},
      {"123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com/web:v1", "us-gov-east-1"},
      {"123456789012.dkr-ecr.us-gov-east-1.on.aws/web:v1", "us-gov-east-1"},
      {"123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov/web:v1", "us-iso-east-1"},
      {"123456789012.DKR.ECR-FIPS.US-EAST-1.AMAZONAWS.COM/web:v1", "us-east-1"},
      {"123456789012.dkr.ecr.us-east-1.amazonaws.com:443/web:v1", "us-east-1"},
  };
  for (const auto& row : rows) {
    auto ref = parse_image_ref(row.uri);
    ASSERT_TRUE(ref) << row.uri;
    EXPECT_FALSE(ref->unresolved) << row.uri;
    EXPECT_EQ(ref->registry_id, "123456789012") << row.uri;
    EXPECT_EQ(ref->region, row.region) << row.uri;
    EXPECT_EQ(ref->repository, "web") << row.uri;
    EXPECT_EQ(ref->tag, "v1") << row.uri;
  }
  auto digest = parse_image_ref("123456789012.dkr-ecr-fips.us-east-1.on.aws/team/api@SHA256:ABC");
  ASSERT_TRUE(digest);
  EXPECT_EQ(digest->repository, "team/api");
  EXPECT_EQ(digest->digest, "sha256:abc") << "ECR lists digests in lower case";
}

TEST(ImageRef, KeepsAnEcrLikeReferenceItCannotReadAsUnresolved) {
  struct Row {
    const char* uri;
    const char* registry_id;
    const char* region;
    const char* repository;
  };
  const Row rows[] = {
      {"123456789012.dkr.ecr.mars-north-1.amazonaws.mars/web:v1", "123456789012", "mars-north-1", "web"},
      {"vpce-0a1b.dkr.ecr.us-east-1.vpce.amazonaws.com/web@sha256:abc", "", "us-east-1", "web"},
      {"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "123456789012", "us-east-1", ""},
      {"123456789012.dkr-ecr.us-east-1.on.aws/", "123456789012", "us-east-1", ""},
  };
  for (const auto& row : rows) {
    auto ref = parse_image_ref(row.uri);
    ASSERT_TRUE(ref) << row.uri << " must never be dropped";
    EXPECT_TRUE(ref->unresolved) << row.uri;
    EXPECT_EQ(ref->registry_id, row.registry_id) << row.uri;
    EXPECT_EQ(ref->region, row.region) << row.uri;
    EXPECT_EQ(ref->repository, row.repository) << row.uri;
    EXPECT_EQ(ref->text, row.uri);
  }
  for (const char* other : {"nginx", "nginx:latest", "team/app:v1", "public.ecr.aws/nginx/nginx:1",
                            "ecr-public.aws.com/nginx/nginx:1", "ghcr.io/org/app:1", "quay.io/ecr/app:1"}) {
    EXPECT_FALSE(parse_image_ref(other)) << other;
  }
}

TEST(SelectionPlanner, AnUnresolvedReferenceKeepsTheWholeRepositoryAndSaysSo) {
  RepositoryListing listing{kRepo, {image("d1", 90), image("d2", 80, {"old"}), image("d3", 70)}};
  const Rules rules{0, 0, {}};
  InUseIndex none;
  EXPECT_EQ(removed(plan_repository(listing, rules, none, kNow)).size(), 3u) << "the rules alone remove all";

  InUseIndex idx;
  idx.add({*parse_image_ref("123456789012.dkr.ecr.us-east-1.amazonaws.xyz/web:v9"), "ecs service s"});
  auto plan = plan_repository(listing, rules, idx, kNow);
  EXPECT_TRUE(plan.remove.empty());
  ASSERT_EQ(plan.keep.size(), 3u);
  for (const auto& k : plan.keep) {
    ASSERT_FALSE(k.reasons.empty());
    EXPECT_NE(k.reasons[0].find("in use by ecs service s"), std::string::npos) << k.reasons[0];
    EXPECT_NE(k.reasons[0].find("whole repository kept"), std::string::npos) << k.reasons[0];
    EXPECT_NE(k.reasons[0].find("amazonaws.xyz/web:v9"), std::string::npos) << k.reasons[0];
  }
  // No repository told: every repository of that registry and region is held; another registry is not.
  InUseIndex registry_wide;
  registry_wide.add({*parse_image_ref("123456789012.dkr-ecr.us-east-1.on.aws"), "lambda f"});
  EXPECT_TRUE(plan_repository(listing, rules, registry_wide, kNow).remove.empty());
  RepositoryListing elsewhere{{"210987654321", "us-east-1", "web"}, listing.images};
  EXPECT_EQ(removed(plan_repository(elsewhere, rules, registry_wide, kNow)).size(), 3u);
}

TEST(SelectionPlanner, FipsAndDualStackReferencesProtectTheirDigests) {
  RepositoryListing listing{kRepo, {image("d1", 90, {"prod"}), image("d2", 80), image("d3", 70)}};
  const Rules rules{0, 0, {}};
  auto plan = plan_repository(listing, rules,
                              uses({"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/web:prod",
                                    "123456789012.dkr-ecr.us-east-1.on.aws/web@d2"}),
                              kNow);
  EXPECT_EQ(removed(plan), (std::set<std::string>{"d3"}));
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
