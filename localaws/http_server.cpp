#include "http_server.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace ecrs::localaws {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// A connection idle this long between requests is closed, as AWS front ends close idle keep-alive connections.
constexpr std::chrono::seconds kIdleTimeout{60};
constexpr std::chrono::seconds kStopGrace{5};

bool bodyless(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

HttpRequest to_request(http::request<http::string_body>&& msg) {
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  const auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? std::string() : req.target.substr(q + 1);
  for (const auto& field : msg) {
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(msg.body());
  return req;
}

// What beast's response serializer writes after prepare_payload() and keep_alive(), written by hand: the
// serializer's buffer sequences cost more than the rest of a small call under ASan (the sanitizer build runs
// unoptimised), and every test pays it on every call. Status line with the reason phrase, the handler's headers
// in order, Content-Length unless the status forbids a body (1xx, 204, 304: RFC 9110 §8.6), and Connection only
// where the version's default differs (HTTP/1.1 persists unless "close"; HTTP/1.0 closes unless "keep-alive").
std::string response_head(const HttpResponse& res, unsigned version, bool keep_alive) {
  const auto status = static_cast<http::status>(res.status);
  std::string head;
  head.reserve(128 + res.headers.size() * 64);
  head += "HTTP/";
  head += std::to_string(version / 10);
  head += '.';
  head += std::to_string(version % 10);
  head += ' ';
  head += std::to_string(res.status);
  head += ' ';
  const auto reason = http::obsolete_reason(status);
  head.append(reason.data(), reason.size());
  head += "\r\n";
  for (const auto& [name, value] : res.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  if (!bodyless(res.status)) {
    head += "Content-Length: ";
    head += std::to_string(res.body.size());
    head += "\r\n";
  }
  if (version >= 11 && !keep_alive) head += "Connection: close\r\n";
  if (version < 11 && keep_alive) head += "Connection: keep-alive\r\n";
  head += "\r\n";
  return head;
}

}  // namespace

class Session;

struct HttpServer::Impl {
  RequestHandler handler;
  int threads;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> workers;
  std::atomic<bool> stopping{false};
  bool started = false;
  int running = 0;  // worker threads still inside ioc.run(), guarded by mu
  std::condition_variable idle;
  std::uint16_t port = 0;
  mutable std::mutex mu;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;

  Impl(RequestHandler h, int n) : handler(std::move(h)), threads(n < 1 ? 1 : n), ioc(threads) {}
  void do_accept();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  void close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(HttpServer::kMaxBodyBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      HttpResponse too_large;
      too_large.status = 413;
      too_large.headers.emplace_back("Content-Type", "text/plain");
      too_large.body = "request body too large";
      keep_alive_ = false;
      write(std::move(too_large));
      return;
    }
    if (ec) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    if (server_.stopping.load()) return;
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    stream_.expires_never();  // a deferred response (long poll) may take as long as it needs
    auto responded = std::make_shared<std::atomic<bool>>(false);
    Responder respond = [self = shared_from_this(), responded](HttpResponse res) {
      if (responded->exchange(true)) return;  // the contract is exactly once; ignore a second answer
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
    };
    server_.handler(to_request(std::move(msg)), std::move(respond));
  }

  void write(HttpResponse res) {
    struct Outgoing {
      std::string head;
      std::string body;
    };
    const bool keep_alive = keep_alive_ && !server_.stopping.load();
    auto out = std::make_shared<Outgoing>();
    out->head = response_head(res, version_, keep_alive);
    if (!bodyless(res.status)) out->body = std::move(res.body);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(out->head), asio::buffer(out->body)};
    asio::async_write(stream_, buffers, [self = shared_from_this(), out, keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->read();
    });
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

void HttpServer::Impl::do_accept() {
  acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec || stopping.load()) return;  // the acceptor was closed: stop accepting
    auto session = std::make_shared<Session>(std::move(socket), *this);
    {
      std::lock_guard lock(mu);
      // Forget connections that have gone away so the set stays the size of the live ones.
      for (auto it = sessions.begin(); it != sessions.end();) it = it->expired() ? sessions.erase(it) : std::next(it);
      sessions.insert(session);
    }
    session->start();
    do_accept();
  });
}

HttpServer::HttpServer(RequestHandler handler, int threads)
    : impl_(std::make_unique<Impl>(std::move(handler), threads)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start(const std::string& host, std::uint16_t port) {
  if (impl_->started) throw std::runtime_error("localaws: server already started");
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("localaws: bad bind address " + host + ": " + ec.message());
  tcp::endpoint endpoint{address, port};
  auto& acc = impl_->acceptor.emplace(asio::make_strand(impl_->ioc));
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl_->acceptor.reset();
    throw std::runtime_error("localaws: cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  impl_->port = acc.local_endpoint().port();
  impl_->started = true;
  impl_->do_accept();
  for (int i = 0; i < impl_->threads; ++i) {
    {
      std::lock_guard lock(impl_->mu);
      ++impl_->running;
    }
    impl_->workers.emplace_back([this] {
      impl_->ioc.run();
      std::lock_guard lock(impl_->mu);
      --impl_->running;
      impl_->idle.notify_all();
    });
  }
}

void HttpServer::stop() {
  if (!impl_->started || impl_->stopping.exchange(true)) return;
  asio::post(impl_->acceptor->get_executor(), [this] {
    beast::error_code ignored;
    impl_->acceptor->close(ignored);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& weak : impl_->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    impl_->sessions.clear();
  }
  for (auto& s : live) s->close();
  live.clear();
  // The closes above complete every pending read and write, so the io_context runs out of work and the threads
  // return; a deferred responder holds no work. If something still runs after the grace period (a handler
  // stuck in a hook), stop the loop anyway rather than hang the caller.
  {
    std::unique_lock lock(impl_->mu);
    impl_->idle.wait_for(lock, kStopGrace, [this] { return impl_->running == 0; });
  }
  impl_->ioc.stop();
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();
}

std::uint16_t HttpServer::port() const { return impl_->port; }

std::size_t HttpServer::open_connections() const {
  std::lock_guard lock(impl_->mu);
  std::size_t n = 0;
  for (const auto& weak : impl_->sessions) n += weak.expired() ? 0 : 1;
  return n;
}

void HttpServer::respond_at(std::chrono::steady_clock::time_point at, Responder respond, HttpResponse response) {
  auto timer = std::make_shared<asio::steady_timer>(impl_->ioc, at);
  timer->async_wait([timer, respond = std::move(respond), response = std::move(response)](
                        beast::error_code) mutable { respond(std::move(response)); });
}

}  // namespace ecrs::localaws

namespace ecrs::localaws {

void HttpServer::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(impl_->ioc, delay);
  timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
    if (!ec) fn();
  });
}

}  // namespace ecrs::localaws
