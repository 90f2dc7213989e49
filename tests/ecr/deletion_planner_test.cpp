#include "ecrs/ecr/deletion_planner.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace ecrs::ecr {
namespace {

// sha256:<64 hex>, distinct per n, as ECR lists them.
std::string digest(std::size_t n, char prefix = '0') {
  char hex[65];
  std::snprintf(hex, sizeof hex, "%c%063zx", prefix, n);
  return std::string("sha256:") + hex;
}

std::vector<ImageId> untagged(std::size_t count, char prefix = '0') {
  std::vector<ImageId> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back({digest(i, prefix), {}});
  return out;
}

std::vector<std::vector<std::size_t>> shape(const DeletionPlan& plan) {
  std::vector<std::vector<std::size_t>> out;
  for (const auto& w : plan.waves) {
    out.emplace_back();
    for (const auto& b : w.batches) out.back().push_back(b.image_ids.size());
  }
  return out;
}

// Invariants every plan must hold, whatever the input.
void expect_well_formed(const DeletionPlan& plan) {
  std::set<std::string> seen;
  std::size_t ids = 0;
  for (const auto& w : plan.waves) {
    EXPECT_FALSE(w.batches.empty());
    for (const auto& b : w.batches) {
      EXPECT_GE(b.image_ids.size(), 1u);
      EXPECT_LE(b.image_ids.size(), kMaxBatchDeleteIds);
      for (const auto& id : b.image_ids) {
        EXPECT_FALSE(id.image_digest.empty());
        EXPECT_TRUE(id.image_tag.empty()) << "deleting by tag only untags: " << id.image_tag;
        EXPECT_TRUE(seen.insert(id.image_digest).second) << "digest planned twice: " << id.image_digest;
        ++ids;
      }
    }
  }
  EXPECT_EQ(ids, plan.image_count());
}

struct CountRow {
  const char* name;
  std::size_t digests;
  std::vector<std::size_t> batches;
};

TEST(DeletionPlanner, ChunksDigestsIntoBatchesOfAtMostOneHundred) {
  const std::vector<CountRow> rows = {
      {"empty repository", 0, {}},
      {"one image", 1, {1}},
      {"exactly one batch", 100, {100}},
      {"one over a batch", 101, {100, 1}},
      {"two and a half batches", 250, {100, 100, 50}},
      {"one ListImages page", 1000, {100, 100, 100, 100, 100, 100, 100, 100, 100, 100}},
      {"one over a page", 1001, {100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 1}},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto listing = untagged(row.digests);
    auto plan = plan_deletion(listing);
    expect_well_formed(plan);
    EXPECT_EQ(plan.image_count(), row.digests);
    if (row.batches.empty()) {
      EXPECT_TRUE(plan.waves.empty());
      EXPECT_TRUE(plan.empty());
    } else {
      EXPECT_EQ(shape(plan), std::vector<std::vector<std::size_t>>{row.batches});
    }
    EXPECT_TRUE(plan.invalid.empty());
  }
}

TEST(DeletionPlanner, SplitsTwoHundredFiftyDigestsIntoThreeBatchesInListingOrder) {
  auto listing = untagged(250);
  auto plan = plan_deletion(listing);
  ASSERT_EQ(plan.batch_count(), 3u);
  EXPECT_EQ(plan.waves[0].batches[0].image_ids.front().image_digest, digest(0));
  EXPECT_EQ(plan.waves[0].batches[1].image_ids.front().image_digest, digest(100));
  EXPECT_EQ(plan.waves[0].batches[2].image_ids.back().image_digest, digest(249));
}

TEST(DeletionPlanner, SmallerBatchSizeIsHonouredAndClampedToTheModelMaximum) {
  auto listing = untagged(250);
  EXPECT_EQ(shape(plan_deletion(listing, {}, 60)), (std::vector<std::vector<std::size_t>>{{60, 60, 60, 60, 10}}));
  EXPECT_EQ(shape(plan_deletion(listing, {}, 500)), (std::vector<std::vector<std::size_t>>{{100, 100, 50}}));
  EXPECT_EQ(plan_deletion(listing, {}, 0).batch_count(), 250u);
}

TEST(DeletionPlanner, ThreeTagsOfOneDigestBecomeOneIdWithoutTag) {
  std::vector<ImageId> listing = {{digest(7), "latest"}, {digest(7), "v1"}, {digest(7), "stable"}};
  auto plan = plan_deletion(listing);
  expect_well_formed(plan);
  ASSERT_EQ(plan.image_count(), 1u);
  EXPECT_EQ(plan.waves[0].batches[0].image_ids[0], (ImageId{digest(7), ""}));
  EXPECT_EQ(plan.images[0].image_tags, (std::vector<std::string>{"latest", "v1", "stable"}));
  EXPECT_EQ(plan.tag_count(), 3u);
}

TEST(DeletionPlanner, MixedTaggedAndUntaggedCountDigestsNotEntries) {
  // 2,345 digests, every third with three tags, the rest untagged: the e2e case's listing.
  std::vector<ImageId> listing;
  for (std::size_t i = 0; i < 2345; ++i) {
    if (i % 3 == 0) {
      for (const char* t : {"a", "b", "c"}) listing.push_back({digest(i), std::string(t) + std::to_string(i)});
    } else {
      listing.push_back({digest(i), {}});
    }
  }
  auto plan = plan_deletion(listing);
  expect_well_formed(plan);
  EXPECT_EQ(plan.image_count(), 2345u);
  EXPECT_EQ(plan.batch_count(), 24u);  // ceil(2345 / 100)
  EXPECT_EQ(plan.tag_count(), 782u * 3);
}

TEST(DeletionPlanner, DuplicatesAcrossPagesAreDeletedOnce) {
  // A re-list (or a page boundary moving under concurrent pushes) repeats entries.
  auto page1 = untagged(1000);
  auto page2 = untagged(150);  // digests 0..149 again
  page2.push_back({digest(5), "late-tag"});
  std::vector<ImageId> listing = page1;
  listing.insert(listing.end(), page2.begin(), page2.end());
  auto plan = plan_deletion(listing);
  expect_well_formed(plan);
  EXPECT_EQ(plan.image_count(), 1000u);
  EXPECT_EQ(plan.batch_count(), 10u);
  EXPECT_EQ(plan.images[5].image_tags, std::vector<std::string>{"late-tag"});
}

TEST(DeletionPlanner, EntriesWithoutUsableDigestAreErrorRowsNotDropped) {
  struct Row {
    const char* name;
    ImageId id;
    const char* reason_has;
  };
  const std::vector<Row> rows = {
      {"tag only", {"", "latest"}, "for tag 'latest'"},
      {"neither", {"", ""}, "no imageDigest"},
      {"no algorithm", {"abcdef", ""}, "not an OCI digest"},
      {"empty encoded", {"sha256:", ""}, "not an OCI digest"},
      {"upper-case algorithm", {"SHA256:abc", ""}, "not an OCI digest"},
      {"space in encoded", {"sha256:ab cd", ""}, "not an OCI digest"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    std::vector<ImageId> listing = {{digest(1), ""}, row.id};
    auto plan = plan_deletion(listing);
    expect_well_formed(plan);
    EXPECT_EQ(plan.image_count(), 1u);
    ASSERT_EQ(plan.invalid.size(), 1u);
    EXPECT_EQ(plan.invalid[0].image_id, row.id);
    EXPECT_NE(plan.invalid[0].reason.find(row.reason_has), std::string::npos) << plan.invalid[0].reason;
  }
  std::vector<ImageId> other_algorithm = {{"sha512:" + std::string(128, 'a'), ""}, {"blake3.x+y:AZaz09=_-", ""}};
  EXPECT_EQ(plan_deletion(other_algorithm).image_count(), 2u);
}

TEST(DeletionPlanner, ThirtyIndexesGoInAWaveBeforeTheirNinetyChildren) {
  // A buildx push per index: an index tagged, its three platform children untagged (ecr-api.md §3). Children
  // are listed first to prove order comes from relations, not from the listing.
  std::vector<ImageId> listing;
  ImageRelations rel;
  for (std::size_t i = 0; i < 30; ++i) {
    auto& children = rel.index_children[digest(i, 'i')];
    for (std::size_t c = 0; c < 3; ++c) {
      children.push_back(digest(i * 3 + c, 'c'));
      listing.push_back({digest(i * 3 + c, 'c'), {}});
    }
  }
  for (std::size_t i = 0; i < 30; ++i) listing.push_back({digest(i, 'i'), "v" + std::to_string(i)});

  auto plan = plan_deletion(listing, rel);
  expect_well_formed(plan);
  EXPECT_EQ(shape(plan), (std::vector<std::vector<std::size_t>>{{30}, {90}}));
  for (const auto& id : plan.waves[0].batches[0].image_ids) EXPECT_EQ(id.image_digest[7], 'i');
  for (const auto& id : plan.waves[1].batches[0].image_ids) EXPECT_EQ(id.image_digest[7], 'c');
  EXPECT_EQ(plan.images.front().role, ImageRole::index);
  EXPECT_EQ(plan.images.back().role, ImageRole::image);
  EXPECT_EQ(plan.images.back().wave, 1u);
}

TEST(DeletionPlanner, ReferrersGoBeforeSubjectsAndIndexesBeforeChildren) {
  // signature -> index -> child, plus an attestation on the child: three waves.
  const std::string sig = digest(1, 's'), att = digest(2, 's'), index = digest(1, 'i'), child = digest(1, 'c');
  const std::string plain = digest(9, 'p');
  std::vector<ImageId> listing = {{child, ""}, {plain, "x"}, {index, "latest"}, {att, ""}, {sig, ""}};
  ImageRelations rel;
  rel.index_children[index] = {child};
  rel.subject_of[sig] = index;
  rel.subject_of[att] = child;

  auto plan = plan_deletion(listing, rel);
  expect_well_formed(plan);
  ASSERT_EQ(plan.waves.size(), 3u);
  auto wave_of = [&](const std::string& d) {
    for (const auto& i : plan.images) {
      if (i.image_digest == d) return i.wave;
    }
    ADD_FAILURE() << "not planned: " << d;
    return std::size_t{99};
  };
  EXPECT_EQ(wave_of(sig), 0u);
  EXPECT_EQ(wave_of(plain), 0u);
  EXPECT_EQ(wave_of(index), 1u);
  EXPECT_LT(wave_of(att), wave_of(child));
  EXPECT_EQ(wave_of(child), 2u);
}

TEST(DeletionPlanner, RelationsFromDetailsMarkIndexesAndReferrers) {
  std::vector<ImageDetail> details(4);
  details[0].image_digest = digest(1, 'c');
  details[1].image_digest = digest(1, 'i');
  details[1].image_tags = {"latest", "v1"};
  details[1].image_manifest_media_type = kOciImageIndexMediaType;
  details[1].child_digests = {digest(1, 'c'), digest(404, 'c')};  // a child not in the listing is ignored
  details[2].image_digest = digest(1, 's');
  details[2].artifact_media_type = "application/vnd.dev.cosign.artifact.sig.v1+json";
  details[2].subject_manifest_digest = digest(1, 'i');
  details[3].image_digest = digest(2, 'p');

  auto plan = plan_deletion(details);
  expect_well_formed(plan);
  EXPECT_EQ(shape(plan), (std::vector<std::vector<std::size_t>>{{2}, {1}, {1}}));
  EXPECT_EQ(plan.images[0].role, ImageRole::referrer);
  EXPECT_EQ(plan.images[2].image_digest, digest(1, 'i'));
  EXPECT_EQ(plan.images[2].image_tags, (std::vector<std::string>{"latest", "v1"}));
  EXPECT_EQ(plan.images[3].image_digest, digest(1, 'c'));
}

TEST(DeletionPlanner, IndexWithUnreadChildrenGoesBeforeEveryPlainImage) {
  // An index whose manifest was not read (media type only): its children are unknown, so all plain images wait,
  // as CDK's tagged-before-untagged fix does per page (gh:aws/aws-cdk#24822).
  std::vector<ImageDetail> details(3);
  details[0].image_digest = digest(1, 'c');
  details[1].image_digest = digest(1, 'i');
  details[1].image_manifest_media_type = kDockerManifestListMediaType;
  details[2].image_digest = digest(2, 'c');
  auto plan = plan_deletion(details);
  expect_well_formed(plan);
  EXPECT_EQ(shape(plan), (std::vector<std::vector<std::size_t>>{{1}, {2}}));
  EXPECT_EQ(plan.waves[0].batches[0].image_ids[0].image_digest, digest(1, 'i'));
}

TEST(DeletionPlanner, ReferenceCycleFromAMalformedListingEndsInALastWaveAndIsReported) {
  std::vector<ImageId> listing = {{digest(1), ""}, {digest(2), ""}, {digest(3), ""}};
  ImageRelations rel;
  rel.index_children[digest(1)] = {digest(2)};
  rel.index_children[digest(2)] = {digest(1)};
  auto plan = plan_deletion(listing, rel);
  expect_well_formed(plan);
  EXPECT_EQ(plan.image_count(), 3u);
  EXPECT_EQ(plan.cycle_digests, (std::vector<std::string>{digest(1), digest(2)}));
  EXPECT_EQ(shape(plan), (std::vector<std::vector<std::size_t>>{{1}, {2}}));
}

TEST(DeletionPlanner, SelfReferenceIsIgnored) {
  std::vector<ImageId> listing = {{digest(1), ""}};
  ImageRelations rel;
  rel.index_children[digest(1)] = {digest(1)};
  rel.subject_of[digest(1)] = digest(1);
  auto plan = plan_deletion(listing, rel);
  EXPECT_EQ(shape(plan), (std::vector<std::vector<std::size_t>>{{1}}));
  EXPECT_TRUE(plan.cycle_digests.empty());
}

TEST(DeletionPlanner, ManyIndexesWithSharedChildrenStayWithinBatchLimitPerWave) {
  // 250 indexes all naming the same 150 children: two waves, each chunked independently.
  std::vector<ImageId> listing;
  ImageRelations rel;
  std::vector<std::string> children;
  for (std::size_t c = 0; c < 150; ++c) {
    children.push_back(digest(c, 'c'));
    listing.push_back({children.back(), {}});
  }
  for (std::size_t i = 0; i < 250; ++i) {
    rel.index_children[digest(i, 'i')] = children;
    listing.push_back({digest(i, 'i'), {}});
  }
  auto plan = plan_deletion(listing, rel);
  expect_well_formed(plan);
  EXPECT_EQ(shape(plan), (std::vector<std::vector<std::size_t>>{{100, 100, 50}, {100, 50}}));
}

TEST(DeleteFailure, CodesMapToWhatTheExecutorDoesNext) {
  struct Row {
    const char* code;
    DeleteFailureDisposition want;
  };
  // Every value of ImageFailureCode in botocore 1.43's ECR model, plus an unknown one.
  const std::vector<Row> rows = {
      {"ImageNotFound", DeleteFailureDisposition::already_gone},
      {"ImageReferencedByManifestList", DeleteFailureDisposition::retry_next_pass},
      {"UpstreamTooManyRequests", DeleteFailureDisposition::retry},
      {"UpstreamUnavailable", DeleteFailureDisposition::retry},
      {"InvalidImageDigest", DeleteFailureDisposition::permanent},
      {"InvalidImageTag", DeleteFailureDisposition::permanent},
      {"ImageTagDoesNotMatchDigest", DeleteFailureDisposition::permanent},
      {"MissingDigestAndTag", DeleteFailureDisposition::permanent},
      {"KmsError", DeleteFailureDisposition::permanent},
      {"UpstreamAccessDenied", DeleteFailureDisposition::permanent},
      {"ImageInaccessible", DeleteFailureDisposition::permanent},
      {"SomethingNewer", DeleteFailureDisposition::permanent},
      {"", DeleteFailureDisposition::permanent},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(classify_delete_failure(row.code), row.want) << row.code << " -> " << to_string(classify_delete_failure(row.code));
  }
}

TEST(DeletionPlanner, OneHundredThousandImagesPlanQuickly) {
  // The ECR per-repository image quota (100,000 per the amazonaws.cn quotas page); a bound, not a benchmark.
  auto listing = untagged(100000);
  auto plan = plan_deletion(listing);
  EXPECT_EQ(plan.batch_count(), 1000u);
  EXPECT_EQ(plan.image_count(), 100000u);
}

}  // namespace
}  // namespace ecrs::ecr
