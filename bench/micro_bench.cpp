// Micro benchmarks (Google Benchmark). Not part of ctest: run build/<dir>/bench/micro_bench.
// Other layers add their cases here.
#include <benchmark/benchmark.h>

#include "ecrs/sigv4/signer.hpp"

namespace {

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
  for (auto _ : state) {
    auto r = signer.sign_headers(req, creds, params);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_SignEcrListImages);

// A fresh Signer per request: the four-HMAC key derivation every time (what caching saves).
void BM_SignEcrListImagesUncachedKey(benchmark::State& state) {
  const Request req = list_images_request();
  const Credentials creds = bench_creds();
  const SigningParams params = ecr_params();
  for (auto _ : state) {
    Signer signer;
    auto r = signer.sign_headers(req, creds, params);
    benchmark::DoNotOptimize(r);
  }
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
  for (auto _ : state) {
    auto r = signer.sign_headers(req, creds, params);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_SignEcrBatchDeleteImage100);

}  // namespace

BENCHMARK_MAIN();
