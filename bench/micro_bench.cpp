// Micro benchmarks (Google Benchmark). Not part of ctest: run build/<dir>/bench/micro_bench (scripts/bench does).
// Each case reports "allocs/op" from the counting operator new below.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "ecrs/common/json.hpp"
#include "ecrs/ecr/deletion_planner.hpp"
#include "ecrs/sigv4/signer.hpp"
#if ECRS_BENCH_HAVE_ECR_CLIENT
#include "ecrs/ecr/ecr_client.hpp"
#endif

// Heap allocations per operation are as telling as time for a handler meant to stay small: this binary replaces
// the global operator new with a counting one (a relaxed atomic; the benchmarks run single-threaded).
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// noinline: once inlined, GCC 12 pairs the inner malloc/free with new/delete and flags -Wmismatched-new-delete.
[[gnu::noinline]] void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { ::operator delete(p); }

namespace {

// Counts allocations over the timed loop; call once after it.
class AllocationCounter {
 public:
  AllocationCounter() : start_(g_allocations.load(std::memory_order_relaxed)) {}
  void report(benchmark::State& state) const {
    const auto n = g_allocations.load(std::memory_order_relaxed) - start_;
    state.counters["allocs/op"] =
        benchmark::Counter(static_cast<double>(n), benchmark::Counter::kAvgIterations);
  }

 private:
  std::uint64_t start_;
};

using namespace ecrs;
using namespace ecrs::sigv4;

Credentials bench_creds() {
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  c.session_token = Secret("FQoGZXIvYXdzEXAMPLETOKEN");
  return c;
}

constexpr std::string_view kListImagesBody = R"({"repositoryName":"my-repo","maxResults":1000})";

Request list_images_request() {
  Request r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"Host", "api.ecr.us-east-1.amazonaws.com"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.ListImages"},
               {"User-Agent", "ecr-sweeper/0.1"}};
  r.body = kListImagesBody;
  return r;
}

SigningParams ecr_params() {
  SigningParams p;
  p.region = "us-east-1";
  p.service = "ecr";
  p.time = *parse_amz_date("20240101T000000Z");
  return p;
}

// The steady state of the executor: one Signer, the day's signing key cached.
void BM_SignEcrListImages(benchmark::State& state) {
  Signer signer;
  const Request req = list_images_request();
  const Credentials creds = bench_creds();
  const SigningParams params = ecr_params();
  AllocationCounter allocs;
  for (auto _ : state) {
    auto r = signer.sign_headers(req, creds, params);
    benchmark::DoNotOptimize(r);
  }
  allocs.report(state);
}
BENCHMARK(BM_SignEcrListImages);

// A fresh Signer per request: the four-HMAC key derivation every time (what caching saves).
void BM_SignEcrListImagesUncachedKey(benchmark::State& state) {
  const Request req = list_images_request();
  const Credentials creds = bench_creds();
  const SigningParams params = ecr_params();
  AllocationCounter allocs;
  for (auto _ : state) {
    Signer signer;
    auto r = signer.sign_headers(req, creds, params);
    benchmark::DoNotOptimize(r);
  }
  allocs.report(state);
}
BENCHMARK(BM_SignEcrListImagesUncachedKey);

// BatchDeleteImage with 100 ids (ECR's per-call limit) has the largest body we sign; hashing dominates.
void BM_SignEcrBatchDeleteImage100(benchmark::State& state) {
  constexpr int kBatchDeleteImageMaxIds = 100;  // ECR API reference, BatchDeleteImage imageIds
  std::string body = R"({"repositoryName":"my-repo","imageIds":[)";
  for (int i = 0; i < kBatchDeleteImageMaxIds; ++i) {
    if (i) body += ',';
    body += R"({"imageDigest":"sha256:)" + sha256_hex(std::to_string(i)) + "\"}";
  }
  body += "]}";
  Request req = list_images_request();
  req.headers[2].second = "AmazonEC2ContainerRegistry_V20150921.BatchDeleteImage";
  req.body = body;
  Signer signer;
  const Credentials creds = bench_creds();
  const SigningParams params = ecr_params();
  AllocationCounter allocs;
  for (auto _ : state) {
    auto r = signer.sign_headers(req, creds, params);
    benchmark::DoNotOptimize(r);
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_SignEcrBatchDeleteImage100);

// ListImages pages hold at most 1000 ids (botocore ECR model, ListImagesRequest maxResults "max": 1000).
constexpr int kListImagesMaxResults = 1000;
// Images per repository: 100,000 by default (ECR service quotas), the largest repository we must plan.
constexpr int kMaxImagesPerRepository = 100000;

std::string fake_digest(int i) { return "sha256:" + sha256_hex("image-" + std::to_string(i)); }

// A full ListImages page as ECR sends it: one entry per (digest, tag), untagged images without imageTag,
// plus a nextToken. Two thirds of the entries carry a tag, as in a CI repository.
std::string list_images_page() {
  Json::Value page;
  Json::Value& ids = page["imageIds"];
  for (int i = 0; i < kListImagesMaxResults; ++i) {
    Json::Value id;
    id["imageDigest"] = fake_digest(i);
    if (i % 3 != 0) id["imageTag"] = "build-" + std::to_string(i);
    ids.append(id);
  }
  page["nextToken"] = std::string(344, 'A');  // ECR tokens are opaque base64 of a few hundred bytes
  return to_compact_json(page);
}

// Text to JSON tree (jsoncpp), the part every response pays.
void BM_ParseListImagesPage1000(benchmark::State& state) {
  const std::string body = list_images_page();
  AllocationCounter allocs;
  for (auto _ : state) {
    auto v = parse_json(body, "ListImages");
    benchmark::DoNotOptimize(v);
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_ParseListImagesPage1000);

#if ECRS_BENCH_HAVE_ECR_CLIENT
// Text to typed ListImagesResponse: parse plus the model-checking decoder the client runs.
void BM_ParseAndDecodeListImagesPage1000(benchmark::State& state) {
  const std::string body = list_images_page();
  AllocationCounter allocs;
  for (auto _ : state) {
    auto v = parse_json(body, "ListImages");
    auto r = ecr::decode_list_images(*v);
    benchmark::DoNotOptimize(r);
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_ParseAndDecodeListImagesPage1000);

// A full DescribeImages page as localaws and ECR send it (~390 bytes an entry): what the executor lists with.
std::string describe_images_page() {
  Json::Value page;
  Json::Value& details = page["imageDetails"];
  for (int i = 0; i < kListImagesMaxResults; ++i) {
    Json::Value d;
    d["registryId"] = "123456789012";
    d["repositoryName"] = "bench/images";
    d["imageDigest"] = fake_digest(i);
    if (i % 3 != 0) d["imageTags"].append("build-" + std::to_string(i));
    d["imageSizeInBytes"] = static_cast<Json::Int64>(1024 * (1 + i % 97) + 1469);
    d["imagePushedAt"] = 1.7e9 + i;
    d["imageManifestMediaType"] = "application/vnd.docker.distribution.manifest.v2+json";
    d["artifactMediaType"] = "application/vnd.docker.container.image.v1+json";
    details.append(d);
  }
  page["nextToken"] = std::string(344, 'A');
  return to_compact_json(page);
}

// Before: jsoncpp's tree, then the typed decoder (what describe_images does).
void BM_TreeDecodeDescribeImagesPage1000(benchmark::State& state) {
  const std::string body = describe_images_page();
  AllocationCounter allocs;
  for (auto _ : state) {
    auto v = parse_json(body, "DescribeImages");
    auto r = ecr::decode_describe_images(*v);
    benchmark::DoNotOptimize(r);
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_TreeDecodeDescribeImagesPage1000);

// After: the token scan the next request waits for, then the streaming decode (the executor keeps a digest each).
void BM_FindNextTokenDescribeImagesPage1000(benchmark::State& state) {
  const std::string body = describe_images_page();
  AllocationCounter allocs;
  for (auto _ : state) {
    auto t = ecr::find_next_token(body);
    benchmark::DoNotOptimize(t);
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_FindNextTokenDescribeImagesPage1000);

// What a listing chain runs before sending the next page's request: the token read from the page's end.
void BM_TrailingNextTokenDescribeImagesPage1000(benchmark::State& state) {
  const std::string body = describe_images_page();
  if (!ecr::trailing_next_token(body)) state.SkipWithError("the page's nextToken is not read from its end");
  AllocationCounter allocs;
  for (auto _ : state) {
    auto t = ecr::trailing_next_token(body);
    benchmark::DoNotOptimize(t);
  }
  allocs.report(state);
}
BENCHMARK(BM_TrailingNextTokenDescribeImagesPage1000);

void BM_StreamDecodeDescribeImagesPage1000(benchmark::State& state) {
  const std::string body = describe_images_page();
  std::vector<std::string> digests;
  AllocationCounter allocs;
  for (auto _ : state) {
    digests.clear();
    auto r = ecr::decode_describe_images(body, [&](ecr::ImageDetail& d) { digests.push_back(std::move(d.image_digest)); });
    benchmark::DoNotOptimize(r);
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_StreamDecodeDescribeImagesPage1000);
#endif

// Planning a full repository: 100k digests listed as ListImages entries (a tagged image appears once per tag),
// 1% of them image indexes over two children each, so the planner orders two waves.
void BM_PlanDeletion100k(benchmark::State& state) {
  std::vector<ecr::ImageId> listing;
  ecr::ImageRelations relations;
  listing.reserve(kMaxImagesPerRepository + kMaxImagesPerRepository / 2);
  constexpr int kIndexEvery = 100;  // 1% indexes
  for (int i = 0; i < kMaxImagesPerRepository; ++i) {
    const std::string digest = fake_digest(i);
    listing.push_back({digest, i % 2 ? "v" + std::to_string(i) : std::string()});
    if (i % 4 == 1) listing.push_back({digest, "latest-" + std::to_string(i)});  // a second tag
    if (i % kIndexEvery == 0 && i + 2 < kMaxImagesPerRepository) {
      relations.index_children[digest] = {fake_digest(i + 1), fake_digest(i + 2)};
    }
  }
  AllocationCounter allocs;
  for (auto _ : state) {
    auto plan = ecr::plan_deletion(listing, relations);
    benchmark::DoNotOptimize(plan);
  }
  allocs.report(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kMaxImagesPerRepository);
}
BENCHMARK(BM_PlanDeletion100k)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
