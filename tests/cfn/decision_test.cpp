#include "ecrs/cfn/decision.hpp"

#include <gtest/gtest.h>

#include "ecrs/cfn/physical_id.hpp"
#include "event_fixture.hpp"

namespace ecrs::cfn {
namespace {

using testing::make_event;
using testing::props;

const std::string kWebId = "ecr-sweeper:default:web";

struct Row {
  const char* name;  // the "Resource contract" case it covers
  Json::Value event;
  std::optional<std::string> env_default;
  Action action;
  std::string physical_id = {};
  std::string repository = {};  // empty: no properties in the decision
  bool replacement = false;
  bool dry_run = false;
  const char* reason_has = "";
};

TEST(CustomResource, DecisionTableFollowsTheResourceContract) {
  const std::vector<Row> rows = {
      // Create: validate, touch no image, stable id from registry + repository.
      {"Create validates and derives the id", make_event("Create", props({{"RepositoryName", "web"}})), std::nullopt,
       Action::check_repository, kWebId, "web"},
      {"Create with another account's registry",
       make_event("Create", props({{"RepositoryName", "team/web"}, {"RegistryId", "210987654321"}})), std::nullopt,
       Action::check_repository, "ecr-sweeper:210987654321:team/web", "team/web"},
      {"Create falls back to ECR_REPOSITORY_NAME", make_event("Create"), "web", Action::check_repository, kWebId, "web"},
      {"Create in dry run still only checks", make_event("Create", props({{"RepositoryName", "web"}, {"DryRun", "true"}})),
       std::nullopt, Action::check_repository, kWebId, "web", false, true},
      {"Create without a name fails with the marker id", make_event("Create"), std::nullopt, Action::fail,
       "ecr-sweeper:CREATE_FAILED:RepoCleaner", "", false, false, "RepositoryName is required"},
      {"Create with a bad name fails saying why", make_event("Create", props({{"RepositoryName", "Web"}})), std::nullopt,
       Action::fail, "ecr-sweeper:CREATE_FAILED:RepoCleaner", "", false, false, "(names are lowercase)"},
      {"Create with a wrong DryRun fails naming it", make_event("Create", props({{"RepositoryName", "web"}, {"DryRun", "maybe"}})),
       std::nullopt, Action::fail, "ecr-sweeper:CREATE_FAILED:RepoCleaner", "", false, false, "DryRun"},
      {"Create with a misspelt property fails", make_event("Create", props({{"RepoName", "web"}})), "web", Action::fail,
       "ecr-sweeper:CREATE_FAILED:RepoCleaner", "", false, false, "unknown property 'RepoName'"},

      // Update: same id when unchanged, new id when the repository changes, never empty.
      {"Update with the same repository keeps the id",
       make_event("Update", props({{"RepositoryName", "web"}}), kWebId, props({{"RepositoryName", "web"}})), std::nullopt,
       Action::check_repository, kWebId, "web"},
      {"Update of DryRun only keeps the id",
       make_event("Update", props({{"RepositoryName", "web"}, {"DryRun", "true"}}), kWebId, props({{"RepositoryName", "web"}})),
       std::nullopt, Action::check_repository, kWebId, "web", false, true},
      {"Update changing the repository replaces",
       make_event("Update", props({{"RepositoryName", "api"}}), kWebId, props({{"RepositoryName", "web"}})), std::nullopt,
       Action::check_repository, "ecr-sweeper:default:api", "api", true},
      {"Update between two explicit registries replaces",
       make_event("Update", props({{"RepositoryName", "web"}, {"RegistryId", "222222222222"}}),
                  "ecr-sweeper:111111111111:web", props({{"RepositoryName", "web"}, {"RegistryId", "111111111111"}})),
       std::nullopt, Action::check_repository, "ecr-sweeper:222222222222:web", "web", true},
      {"Update naming the default registry explicitly keeps the id (may be the same repository)",
       make_event("Update", props({{"RepositoryName", "web"}, {"RegistryId", "123456789012"}}), kWebId,
                  props({{"RepositoryName", "web"}})),
       std::nullopt, Action::check_repository, kWebId, "web"},
      {"Update from env fallback to the same explicit name keeps the id",
       make_event("Update", props({{"RepositoryName", "web"}}), kWebId, Json::Value(Json::objectValue)), "web",
       Action::check_repository, kWebId, "web"},
      {"Update with unreadable old properties compares against our id",
       make_event("Update", props({{"RepositoryName", "web"}}), kWebId, props({{"RepositoryName", "BAD"}})), std::nullopt,
       Action::check_repository, kWebId, "web"},
      {"Update with a bad new name fails and keeps the old id",
       make_event("Update", props({{"RepositoryName", "x"}}), kWebId, props({{"RepositoryName", "web"}})), std::nullopt,
       Action::fail, kWebId, "", false, false, "is 1 characters long"},

      // Delete: empty the named repository, echo the id; nothing to do after a failed Create or without a name.
      {"Delete empties the repository in the properties", make_event("Delete", props({{"RepositoryName", "web"}}), kWebId),
       std::nullopt, Action::empty_repository, kWebId, "web"},
      {"Delete of the old id after replacement empties the old repository",
       make_event("Delete", props({{"RepositoryName", "web"}}), kWebId), "api", Action::empty_repository, kWebId, "web"},
      {"Delete in dry run plans only", make_event("Delete", props({{"RepositoryName", "web"}, {"DryRun", "true"}}), kWebId),
       std::nullopt, Action::empty_repository, kWebId, "web", false, true},
      {"Delete with an id CloudFormation made up still empties",
       make_event("Delete", props({{"RepositoryName", "web"}}), "RepoCleaner-1A2B3C"), std::nullopt,
       Action::empty_repository, "RepoCleaner-1A2B3C", "web"},
      {"Delete tolerates old, unknown properties",
       make_event("Delete", props({{"RepositoryName", "web"}, {"Legacy", "1"}}), kWebId), std::nullopt,
       Action::empty_repository, kWebId, "web"},
      {"Delete of the CREATE_FAILED marker does nothing",
       make_event("Delete", props({{"RepositoryName", "web"}}), "ecr-sweeper:CREATE_FAILED:RepoCleaner"), std::nullopt,
       Action::succeed, "ecr-sweeper:CREATE_FAILED:RepoCleaner", "", false, false, "Create of this resource failed"},
      {"Delete without a name does nothing", make_event("Delete", {}, "ecr-sweeper:CREATE_FAILED:RepoCleaner"),
       std::nullopt, Action::succeed, "ecr-sweeper:CREATE_FAILED:RepoCleaner"},
      {"Delete without a name or env does nothing", make_event("Delete", {}, kWebId), std::nullopt, Action::succeed,
       kWebId, "", false, false, "RepositoryName is missing on Delete"},
      {"Delete without a name empties the env repository Create used", make_event("Delete", {}, kWebId), "web",
       Action::empty_repository, kWebId, "web"},
      {"Delete without a name ignores an env that changed since Create", make_event("Delete", {}, kWebId), "other",
       Action::succeed, kWebId, "", false, false, "nothing deleted"},
      {"Delete with a name Create could never accept does nothing",
       make_event("Delete", props({{"RepositoryName", "NOT VALID"}}), kWebId), std::nullopt, Action::succeed, kWebId, "",
       false, false, "nothing deleted"},
      {"Delete with a bad DryRun deletes nothing",
       make_event("Delete", props({{"RepositoryName", "web"}, {"DryRun", "perhaps"}}), kWebId), std::nullopt,
       Action::succeed, kWebId, "", false, false, "DryRun"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto request = parse_request(row.event);
    ASSERT_TRUE(request) << request.error().describe();
    Decision d = decide(*request, row.env_default);
    EXPECT_EQ(d.action, row.action) << to_string(d.action) << ": " << d.reason;
    EXPECT_EQ(d.physical_resource_id, row.physical_id);
    EXPECT_FALSE(d.physical_resource_id.empty());
    EXPECT_EQ(d.replacement, row.replacement);
    if (row.repository.empty()) {
      EXPECT_FALSE(d.properties.has_value());
    } else {
      ASSERT_TRUE(d.properties.has_value());
      EXPECT_EQ(d.properties->repository_name, row.repository);
      EXPECT_EQ(d.properties->dry_run, row.dry_run);
    }
    EXPECT_NE(d.reason.find(row.reason_has), std::string::npos) << d.reason;
    EXPECT_EQ(d.reason.find(testing::kSignature), std::string::npos);
  }
}

TEST(CustomResource, UpdateNeverEmptiesWhateverChanges) {
  for (const char* repo : {"web", "api", "team/api"}) {
    for (const char* dry : {"true", "false"}) {
      auto r = parse_request(make_event("Update", props({{"RepositoryName", repo}, {"DryRun", dry}}), kWebId,
                                        props({{"RepositoryName", "web"}})));
      ASSERT_TRUE(r);
      EXPECT_NE(decide(*r, std::nullopt).action, Action::empty_repository) << repo << " " << dry;
    }
  }
}

}  // namespace
}  // namespace ecrs::cfn
