#include "ecrs/handler/lifecycle_ops.hpp"

#include <json/writer.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "ecrs/cleanup/image_ref.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::handler {

namespace {
// Calls the ItemDone when the item's work returns, by whichever path (a worker's exception included).
class NotifyWhenDone {
 public:
  explicit NotifyWhenDone(const ItemDone& f) : f_(&f) {}
  ~NotifyWhenDone() {
    if (*f_) (*f_)();
  }
  NotifyWhenDone(const NotifyWhenDone&) = delete;
  NotifyWhenDone& operator=(const NotifyWhenDone&) = delete;

 private:
  const ItemDone* f_;
};
}  // namespace

void run_bounded(std::size_t count, int workers, const std::function<void(std::size_t)>& fn,
                 const std::function<void(std::size_t, const Error&)>& on_error) {
  // Without on_error the first exception is carried to the calling thread and rethrown there after every worker
  // has finished, where the caller's own last-resort handler answers; an exception must never end a worker
  // thread (std::terminate, and CloudFormation never hears back).
  std::exception_ptr first;
  std::mutex first_mu;
  auto guarded = [&](std::size_t i) {
    auto fail = [&](const std::string& what) {
      if (on_error) {
        on_error(i, make_error("InternalError", "worker threw: " + what, "item " + std::to_string(i)));
        return;
      }
      std::lock_guard lock(first_mu);
      if (!first) first = std::current_exception();
    };
    try {
      fn(i);
    } catch (const std::exception& e) {
      fail(e.what());
    } catch (...) {
      fail("a non-standard exception");
    }
  };
  const std::size_t n = std::min<std::size_t>(count, static_cast<std::size_t>(std::clamp(workers, 1, kMaxLifecycleConcurrency)));
  if (n <= 1) {
    for (std::size_t i = 0; i < count; ++i) guarded(i);
  } else {
    std::atomic<std::size_t> next{0};
    std::vector<std::jthread> threads;
    threads.reserve(n);
    for (std::size_t t = 0; t < n; ++t) {
      threads.emplace_back([&] {
        for (std::size_t i = next++; i < count; i = next++) guarded(i);
      });
    }
  }  // the jthreads join here
  if (first) std::rethrow_exception(first);
}

Error deadline_error(const std::string& operation, const std::string& repository) {
  return make_error("DeadlineExceeded", "not attempted: too close to the invocation's deadline",
                    operation + " repository=" + repository);
}

bool matches_repository_pattern(std::string_view pattern, std::string_view name) {
  return cleanup::glob_match(pattern, name);  // the same `*`/`?` globs `clean --repositories` takes
}

Result<std::vector<std::string>> select_repositories(ecr::EcrClient& ecr, const RepositorySelector& selector,
                                                     int concurrency) {
  std::set<std::string> chosen(selector.names.begin(), selector.names.end());
  std::map<std::string, std::string> arns;  // name -> ARN of listed repositories that matched
  if (!selector.patterns.empty()) {
    ecr::DescribeRepositoriesRequest request;
    request.registry_id = selector.registry_id;
    request.max_results = kMaxDescribeRepositoriesResults;
    do {
      auto page = ecr.describe_repositories(request);
      if (!page) return page.error();
      for (const auto& repo : page->repositories) {
        for (const auto& pattern : selector.patterns) {
          if (matches_repository_pattern(pattern, repo.repository_name)) {
            arns[repo.repository_name] = repo.repository_arn;
            break;
          }
        }
      }
      request.next_token = page->next_token;
    } while (request.next_token);
    for (const auto& [name, arn] : arns) chosen.insert(name);
  }
  if (!selector.tag) return std::vector<std::string>(chosen.begin(), chosen.end());

  // A tag filter needs each repository's ARN: names given directly are described (100 per call).
  std::vector<std::string> unknown;
  for (const auto& name : chosen) {
    if (!arns.contains(name)) unknown.push_back(name);
  }
  for (std::size_t i = 0; i < unknown.size(); i += kMaxDescribeRepositoriesNames) {
    ecr::DescribeRepositoriesRequest request;
    request.registry_id = selector.registry_id;
    const auto end = std::min(unknown.size(), i + kMaxDescribeRepositoriesNames);
    request.repository_names.assign(unknown.begin() + static_cast<std::ptrdiff_t>(i),
                                    unknown.begin() + static_cast<std::ptrdiff_t>(end));
    auto page = ecr.describe_repositories(request);
    if (!page) return page.error();
    for (const auto& repo : page->repositories) arns[repo.repository_name] = repo.repository_arn;
  }
  std::vector<std::string> names(chosen.begin(), chosen.end());
  std::vector<char> keep(names.size(), 0);
  std::optional<Error> first_error;
  std::mutex mu;
  run_bounded(names.size(), concurrency, [&](std::size_t i) {
    auto it = arns.find(names[i]);
    if (it == arns.end()) return;
    auto tags = ecr.list_tags_for_resource(ecr::ListTagsForResourceRequest{it->second});
    if (!tags) {
      std::lock_guard lock(mu);
      if (!first_error) first_error = tags.error();
      return;
    }
    for (const auto& t : tags->tags) {
      if (t.key == selector.tag->first && t.value == selector.tag->second) keep[i] = 1;
    }
  });
  if (first_error) return *first_error;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (keep[i]) out.push_back(names[i]);
  }
  return out;
}

Result<std::vector<lifecycle::Image>> describe_all_images(ecr::EcrClient& ecr, const std::string& repository,
                                                          const std::optional<std::string>& registry_id) {
  std::vector<lifecycle::Image> images;
  ecr::DescribeImagesRequest request;
  request.repository_name = repository;
  request.registry_id = registry_id;
  request.max_results = ecr::kMaxListImagesResults;
  do {
    auto page = ecr.describe_images(request);
    if (!page) return page.error();
    for (auto& d : page->image_details) {
      lifecycle::Image img;
      img.image_digest = std::move(d.image_digest);
      img.image_tags = std::move(d.image_tags);
      // awsJson timestamps are epoch seconds with a fraction; the evaluator works in milliseconds.
      const auto ms = static_cast<std::int64_t>(std::llround(d.image_pushed_at.value_or(0.0) * 1000.0));
      img.image_pushed_at = lifecycle::Timestamp(std::chrono::milliseconds(ms));
      images.push_back(std::move(img));
    }
    request.next_token = page->next_token;
  } while (request.next_token);
  return images;
}

std::vector<RepositoryPreviewResult> preview_repositories(ecr::EcrClient& ecr, const lifecycle::Policy& policy,
                                                          const std::vector<std::string>& repositories,
                                                          lifecycle::Timestamp now, const InUseLookup& in_use,
                                                          int concurrency) {
  std::vector<RepositoryPreviewResult> results(repositories.size());
  run_bounded(repositories.size(), concurrency, [&](std::size_t i) {
    RepositoryPreviewResult& r = results[i];
    r.repository_name = repositories[i];
    auto images = describe_all_images(ecr, r.repository_name, std::nullopt);
    if (!images) {
      r.error = images.error();
      return;
    }
    const auto evaluation = lifecycle::evaluate_policy(policy, *images, now);
    auto preview = lifecycle::make_repository_preview(r.repository_name, *images, evaluation);
    if (in_use) {
      auto digests = in_use(r.repository_name, *images);
      if (!digests) {
        r.error = digests.error();
        return;
      }
      lifecycle::mark_in_use(preview, *digests);
    }
    r.preview = std::move(preview);
  });
  return results;
}

Result<std::vector<RemoteExpiry>> remote_preview(ecr::LifecycleClient& client, const std::string& repository,
                                                 const std::string& policy_text, Sleeper& sleeper,
                                                 const RemotePreviewOptions& options) {
  auto started = client.start_lifecycle_policy_preview({repository, std::nullopt, policy_text});
  if (!started) return started.error();
  for (int poll = 0;; ++poll) {
    std::vector<RemoteExpiry> out;
    ecr::GetLifecyclePolicyPreviewRequest request;
    request.repository_name = repository;
    request.max_results = ecr::kMaxLifecyclePreviewResults;
    ecr::LifecyclePolicyPreviewStatus status = ecr::LifecyclePolicyPreviewStatus::unknown;
    do {
      auto page = client.get_lifecycle_policy_preview(request);
      if (!page) return page.error();
      status = page->status;
      if (status != ecr::LifecyclePolicyPreviewStatus::complete) break;
      for (const auto& r : page->preview_results) {
        // action.type is EXPIRE or TRANSITION (shape ImageActionType); only expiries are compared.
        if (r.action_type.empty() || r.action_type == "EXPIRE") out.push_back({r.image_digest, r.applied_rule_priority});
      }
      request.next_token = page->next_token;
    } while (request.next_token);
    if (status == ecr::LifecyclePolicyPreviewStatus::complete) return out;
    if (status != ecr::LifecyclePolicyPreviewStatus::in_progress) {
      return make_error("LifecyclePolicyPreviewFailed",
                        "ECR's lifecycle policy preview ended with status " + std::string(ecr::to_string(status)),
                        "GetLifecyclePolicyPreview repository=" + repository);
    }
    if (poll + 1 >= options.max_polls) {
      return make_error("LifecyclePolicyPreviewTimeout",
                        "ECR's lifecycle policy preview was still IN_PROGRESS after " + std::to_string(options.max_polls) +
                            " polls",
                        "GetLifecyclePolicyPreview repository=" + repository);
    }
    sleeper.sleep_for(options.poll_interval);
  }
}

std::vector<PreviewDifference> diff_previews(const lifecycle::RepositoryPreview& local,
                                             const std::vector<RemoteExpiry>& remote) {
  std::map<std::string, PreviewDifference> by_digest;
  for (const auto& e : local.expire) by_digest[e.image_digest].local_rule = e.rule_priority;
  for (const auto& r : remote) {
    auto& d = by_digest[r.image_digest];
    // ECR may omit appliedRulePriority; an expiry without a rule still counts as an expiry.
    d.remote_rule = r.rule_priority.value_or(0);
  }
  std::vector<PreviewDifference> out;
  for (auto& [digest, d] : by_digest) {
    d.image_digest = digest;
    const bool both = d.local_rule && d.remote_rule;
    if (both && (*d.remote_rule == 0 || *d.local_rule == *d.remote_rule)) continue;
    out.push_back(d);
  }
  return out;
}

std::optional<std::string> normalize_policy_text(std::string_view text) {
  auto doc = parse_json(text);
  if (!doc) return std::nullopt;
  return to_compact_json(*doc);  // jsoncpp keeps object members in a std::map: keys come out sorted
}

std::string pretty_policy(std::string_view text) {
  auto doc = parse_json(text);
  if (!doc) return std::string(text);
  Json::StreamWriterBuilder b;
  b["indentation"] = "  ";
  return Json::writeString(b, *doc);
}

namespace {
std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  while (!s.empty()) {
    const auto nl = s.find('\n');
    lines.push_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return lines;
}
}  // namespace

std::string diff_lines(std::string_view before, std::string_view after) {
  const auto a = split_lines(before);
  const auto b = split_lines(after);
  // LCS table; policies are at most 30720 characters (kMaxPolicyTextChars), a few hundred lines pretty-printed.
  std::vector<std::vector<std::uint32_t>> lcs(a.size() + 1, std::vector<std::uint32_t>(b.size() + 1, 0));
  for (std::size_t i = a.size(); i-- > 0;) {
    for (std::size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::ostringstream out;
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out << "  " << a[i++] << '\n';
      ++j;
    } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out << "- " << a[i++] << '\n';  // removals first, as diff -u prints a changed line
    } else {
      out << "+ " << b[j++] << '\n';
    }
  }
  return out.str();
}

std::string_view to_string(PolicyChange c) {
  switch (c) {
    case PolicyChange::create: return "create";
    case PolicyChange::update: return "update";
    case PolicyChange::unchanged: break;
  }
  return "unchanged";
}

std::vector<ApplyItem> plan_apply(ecr::LifecycleClient& client, const std::string& policy_text,
                                  const std::vector<std::string>& repositories,
                                  const std::optional<std::string>& registry_id, int concurrency,
                                  const OutOfTime& out_of_time, const ItemDone& on_done) {
  const auto wanted = normalize_policy_text(policy_text);
  std::vector<ApplyItem> items(repositories.size());
  for (std::size_t i = 0; i < items.size(); ++i) items[i].repository_name = repositories[i];
  run_bounded(repositories.size(), concurrency, [&](std::size_t i) {
    ApplyItem& item = items[i];
    const NotifyWhenDone done(on_done);
    if (out_of_time && out_of_time()) {
      item.error = deadline_error("GetLifecyclePolicy", item.repository_name);
      return;
    }
    auto current = client.get_lifecycle_policy({item.repository_name, registry_id});
    if (!current) {
      if (ecr::is_lifecycle_policy_not_found(current.error())) {
        item.change = PolicyChange::create;
      } else {
        item.error = current.error();
      }
      return;
    }
    item.current_text = current->lifecycle_policy_text;
    item.change = (wanted && normalize_policy_text(current->lifecycle_policy_text) == wanted) ? PolicyChange::unchanged
                                                                                            : PolicyChange::update;
  }, [&](std::size_t i, const Error& e) { items[i].error = e; });
  return items;
}

void execute_apply(ecr::LifecycleClient& client, const std::string& policy_text, std::vector<ApplyItem>& items,
                   const std::optional<std::string>& registry_id, int concurrency, const OutOfTime& out_of_time,
                   const ItemDone& on_done) {
  run_bounded(items.size(), concurrency, [&](std::size_t i) {
    ApplyItem& item = items[i];
    if (item.error || item.change == PolicyChange::unchanged) return;
    const NotifyWhenDone done(on_done);
    if (out_of_time && out_of_time()) {
      item.error = deadline_error("PutLifecyclePolicy", item.repository_name);
      return;
    }
    auto put = client.put_lifecycle_policy({item.repository_name, registry_id, policy_text});
    if (!put) {
      item.error = put.error();
      return;
    }
    item.applied = true;
  }, [&](std::size_t i, const Error& e) { items[i].error = e; });
}

PolicyRemoval remove_our_policies(ecr::LifecycleClient& client, const std::vector<std::string>& repositories,
                                  const std::optional<std::string>& registry_id, const std::string& ours,
                                  int concurrency, const OutOfTime& out_of_time) {
  enum class Outcome { removed, left_alone, failed };
  struct Item {
    Outcome outcome = Outcome::failed;
    std::string why;
    std::optional<Error> error;
  };
  const auto ours_normalized = normalize_policy_text(ours);
  std::vector<Item> items(repositories.size());
  auto gone = [](const Error& e) {
    return ecr::is_lifecycle_policy_not_found(e) || e.code == ecr::kRepositoryNotFoundException;
  };
  run_bounded(repositories.size(), concurrency, [&](std::size_t i) {
    Item& item = items[i];
    if (out_of_time && out_of_time()) {
      item.error = deadline_error("DeleteLifecyclePolicy", repositories[i]);
      return;
    }
    auto current = client.get_lifecycle_policy({repositories[i], registry_id});
    if (!current) {
      if (gone(current.error())) {
        item.outcome = Outcome::removed;
      } else {
        item.error = current.error();
      }
      return;
    }
    if (!ours_normalized || normalize_policy_text(current->lifecycle_policy_text) != ours_normalized) {
      item.outcome = Outcome::left_alone;
      item.why = "its lifecycle policy is not the one this resource applied";
      return;
    }
    auto r = client.delete_lifecycle_policy({repositories[i], registry_id});
    if (!r && !gone(r.error())) {
      item.error = r.error();
      return;
    }
    item.outcome = Outcome::removed;
  }, [&](std::size_t i, const Error& e) { items[i].error = e; });
  PolicyRemoval out;
  for (std::size_t i = 0; i < repositories.size(); ++i) {
    if (items[i].error) {
      out.errors.emplace_back(repositories[i], *items[i].error);
    } else if (items[i].outcome == Outcome::left_alone) {
      out.left_alone.emplace_back(repositories[i], items[i].why);
    } else {
      out.removed.push_back(repositories[i]);
    }
  }
  return out;
}

}  // namespace ecrs::handler
