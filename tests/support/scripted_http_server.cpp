#include "scripted_http_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <strings.h>
#include <thread>

namespace ecrs::test {
namespace {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr int kUnscriptedStatus = 599;
constexpr std::size_t kMaxRequestBody = 8 * 1024 * 1024;  // ample for any test payload
constexpr long kCertValiditySeconds = 24L * 60 * 60;

struct EvpKeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct X509ExtFree { void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); } };
struct BioFree { void operator()(BIO* p) const { BIO_free(p); } };

// A throwaway P-256 certificate for 127.0.0.1 (subjectAltName IP), so a client trusting it can verify the
// host and a client with the system bundle must reject it.
std::pair<std::unique_ptr<EVP_PKEY, EvpKeyFree>, std::unique_ptr<X509, X509Free>> make_self_signed() {
  std::unique_ptr<EVP_PKEY, EvpKeyFree> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!key || !cert) throw std::runtime_error("openssl: cannot allocate key/cert");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kCertValiditySeconds);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, X509ExtFree> san(
      X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"));
  if (!san || X509_add_ext(cert.get(), san.get(), -1) != 1) throw std::runtime_error("openssl: cannot add SAN");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("openssl: cannot sign cert");
  return {std::move(key), std::move(cert)};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

std::size_t RecordedRequest::count_header(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& h : headers)
    if (iequals(h.first, name)) ++n;
  return n;
}

struct ScriptedHttpServer::Impl {
  explicit Impl(ServerOptions opts) : options(opts) {
    if (options.tls) {
      auto [key, cert] = make_self_signed();
      SSL_CTX_use_certificate(ssl_ctx.native_handle(), cert.get());
      SSL_CTX_use_PrivateKey(ssl_ctx.native_handle(), key.get());
      std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
      PEM_write_bio_X509(bio.get(), cert.get());
      char* data = nullptr;
      long len = BIO_get_mem_data(bio.get(), &data);
      cert_pem.assign(data, static_cast<std::size_t>(len));
    }
    acceptor.open(tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    acceptor.listen();
    port = acceptor.local_endpoint().port();
  }

  ScriptedResponse next(RecordedRequest rec) {
    Handler h;
    {
      std::lock_guard l(mu);
      recorded.push_back(rec);
      if (!queue.empty()) {
        ScriptedResponse r = std::move(queue.front());
        queue.pop_front();
        return r;
      }
      h = handler;
    }
    if (h) return h(rec);
    ScriptedResponse r;
    r.status = kUnscriptedStatus;
    r.body = "unscripted request";
    return r;
  }

  void do_accept();

  ServerOptions options;
  net::ssl::context ssl_ctx{net::ssl::context::tls_server};
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::string cert_pem;
  std::thread thread;
  std::atomic<bool> stopped{false};
  std::atomic<std::size_t> connections{0};

  mutable std::mutex mu;
  std::deque<ScriptedResponse> queue;
  Handler handler;
  std::vector<RecordedRequest> recorded;
};

namespace {

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(ScriptedHttpServer::Impl* impl, Args&&... args) : impl_(impl), stream_(std::forward<Args>(args)...) {}

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      stream_.async_handshake(net::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->close();
        self->read();
      });
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxRequestBody);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->on_request();
    });
  }

  void on_request() {
    auto req = parser_->release();
    RecordedRequest rec;
    rec.method = std::string(req.method_string());
    rec.target = std::string(req.target());
    for (const auto& f : req) rec.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    rec.body = req.body();
    bool client_keep_alive = req.keep_alive();
    ScriptedResponse scripted = impl_->next(std::move(rec));

    if (scripted.raw) {
      auto data = std::make_shared<std::string>(*scripted.raw);
      net::async_write(stream_, net::buffer(*data), [self = this->shared_from_this(), data](beast::error_code, std::size_t) {
        self->close();
      });
      return;
    }
    auto res = std::make_shared<http::response<http::string_body>>();
    res->result(static_cast<unsigned>(scripted.status));
    res->version(11);
    for (const auto& [k, v] : scripted.headers) res->insert(k, v);
    res->body() = std::move(scripted.body);
    res->prepare_payload();
    bool keep = client_keep_alive && !scripted.close;
    res->keep_alive(keep);
    http::async_write(stream_, *res, [self = this->shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
      if (ec || !keep) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

  ScriptedHttpServer::Impl* impl_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

void ScriptedHttpServer::Impl::do_accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // acceptor closed: stopping
    ++connections;
    if (options.tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(this, std::move(socket), ssl_ctx)->start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(this, std::move(socket))->start();
    }
    do_accept();
  });
}

ScriptedHttpServer::ScriptedHttpServer(ServerOptions options) : impl_(std::make_shared<Impl>(options)) {
  impl_->do_accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

ScriptedHttpServer::~ScriptedHttpServer() { stop(); }

void ScriptedHttpServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t ScriptedHttpServer::port() const { return impl_->port; }

std::string ScriptedHttpServer::url(std::string_view path) const {
  return std::string(impl_->options.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(impl_->port) +
         std::string(path);
}

void ScriptedHttpServer::enqueue(ScriptedResponse response) {
  std::lock_guard l(impl_->mu);
  impl_->queue.push_back(std::move(response));
}

void ScriptedHttpServer::enqueue_json(int status, std::string body, HeaderList headers) {
  ScriptedResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  r.body = std::move(body);
  enqueue(std::move(r));
}

void ScriptedHttpServer::set_handler(Handler handler) {
  std::lock_guard l(impl_->mu);
  impl_->handler = std::move(handler);
}

std::vector<RecordedRequest> ScriptedHttpServer::requests() const {
  std::lock_guard l(impl_->mu);
  return impl_->recorded;
}

std::size_t ScriptedHttpServer::request_count() const {
  std::lock_guard l(impl_->mu);
  return impl_->recorded.size();
}

std::size_t ScriptedHttpServer::connections_accepted() const { return impl_->connections.load(); }

std::string ScriptedHttpServer::cert_pem() const { return impl_->cert_pem; }

std::uint16_t unused_local_port() {
  net::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

}  // namespace ecrs::test
