#include "ecrs/handler/runtime_http_transport.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

namespace ecrs::handler {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kWhere = "Runtime API transport";

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// The time left before `deadline` as a poll() timeout; -1 (wait forever) without a deadline.
int poll_timeout(const std::optional<Clock::time_point>& deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

Error transport_error(const std::string& code, const std::string& message) {
  return make_error(code, message, kWhere);
}

std::string errno_text(int err) { return std::strerror(err); }

Result<Fd> connect_to(const aws::ParsedUrl& url, std::chrono::milliseconds connect_timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port);
  if (int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return transport_error("ConnectionError", "cannot resolve " + url.host + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
    if (!fd) {
      last = errno_text(errno);
      continue;
    }
    int rc = ::connect(fd.get(), a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd.get(), POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(connect_timeout.count()));
      if (rc == 0) {
        last = "connect timed out after " + std::to_string(connect_timeout.count()) + " ms";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      last = errno_text(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Blocking from here on: reads and writes wait in poll() with the request's deadline.
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    return fd;
  }
  return transport_error("ConnectionError", "cannot connect to " + url.host_header() + ": " + last);
}

enum class Io { ok, closed, timeout, failed };

Io wait_for(int fd, short events, const std::optional<Clock::time_point>& deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int rc = ::poll(&p, 1, poll_timeout(deadline));
    if (rc > 0) return Io::ok;
    if (rc == 0) return Io::timeout;
    if (errno != EINTR) return Io::failed;
  }
}

Io write_all(int fd, std::string_view data, const std::optional<Clock::time_point>& deadline) {
  while (!data.empty()) {
    if (Io w = wait_for(fd, POLLOUT, deadline); w != Io::ok) return w;
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errno == EPIPE || errno == ECONNRESET ? Io::closed : Io::failed;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Io::ok;
}

// Buffered reads from one connection.
class Reader {
 public:
  Reader(int fd, std::optional<Clock::time_point> deadline) : fd_(fd), deadline_(deadline) {}

  Io fill() {
    if (Io w = wait_for(fd_, POLLIN, deadline_); w != Io::ok) return w;
    char chunk[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<std::size_t>(n));
        received_ += static_cast<std::size_t>(n);
        return Io::ok;
      }
      if (n == 0) return Io::closed;
      if (errno != EINTR) return errno == ECONNRESET ? Io::closed : Io::failed;
    }
  }
  // One line without its CRLF; nullopt with `io` set when the connection ended first.
  std::optional<std::string> line(Io& io, std::size_t max) {
    for (;;) {
      if (auto pos = buf_.find("\r\n", scan_); pos != std::string::npos) {
        std::string out = buf_.substr(scan_, pos - scan_);
        scan_ = pos + 2;
        return out;
      }
      if (buf_.size() - scan_ > max) {
        io = Io::failed;
        return std::nullopt;
      }
      if ((io = fill()) != Io::ok) return std::nullopt;
    }
  }
  // Exactly n bytes appended to `out`.
  Io bytes(std::size_t n, std::string& out) {
    while (buf_.size() - scan_ < n) {
      if (Io r = fill(); r != Io::ok) return r;
    }
    out.append(buf_, scan_, n);
    scan_ += n;
    return Io::ok;
  }
  // Everything until the peer closes.
  Io rest(std::string& out, std::size_t max) {
    for (;;) {
      out.append(buf_, scan_, std::string::npos);
      buf_.clear();
      scan_ = 0;
      if (out.size() > max) return Io::failed;
      Io r = fill();
      if (r == Io::closed) return Io::ok;
      if (r != Io::ok) return r;
    }
  }
  std::size_t received() const { return received_; }

 private:
  int fd_;
  std::optional<Clock::time_point> deadline_;
  std::string buf_;
  std::size_t scan_ = 0;
  std::size_t received_ = 0;
};

constexpr std::size_t kMaxHeaderLine = 64 * 1024;

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::size_t> parse_size(std::string_view s, int base) {
  std::size_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || ptr == s.data()) return std::nullopt;
  return v;
}

bool has_token(const std::string& value, std::string_view token) {
  std::string lower(value);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find(token) != std::string::npos;
}

struct Exchange {
  Result<aws::HttpResponse> result;
  bool reusable = false;   // the connection may carry the next request
  bool nothing_read = false;  // the peer closed before sending a byte (a stale keep-alive connection)
};

Error io_error(Io io, const std::string& what, std::chrono::milliseconds total) {
  if (io == Io::timeout) {
    return transport_error("Timeout", what + ": no answer within " + std::to_string(total.count()) + " ms");
  }
  return transport_error("TransportError", what + (io == Io::closed ? ": the peer closed the connection"
                                                                    : ": " + errno_text(errno)));
}

Exchange exchange(int fd, const aws::HttpRequest& req, const aws::ParsedUrl& url, const aws::RequestOptions& opts,
                  std::size_t max_body, std::function<void()>& after_write) {
  std::optional<Clock::time_point> deadline;
  if (opts.total_timeout.count() > 0) deadline = Clock::now() + opts.total_timeout;
  const std::string what = req.method + " " + url.path;
  std::string head = req.method + " " + url.path + (url.query.empty() ? "" : "?" + url.query) + " HTTP/1.1\r\n";
  head += "Host: " + url.host_header() + "\r\n";
  bool has_length = false;
  for (const auto& [k, v] : req.headers) {
    if (aws::iequals(k, "Host")) continue;
    has_length = has_length || aws::iequals(k, "Content-Length");
    head += k + ": " + v + "\r\n";
  }
  if (!has_length && (!req.body.empty() || req.method == "POST" || req.method == "PUT")) {
    head += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  }
  head += "\r\n";
  head += req.body;  // one write: the Runtime API's bodies are small, and a dead connection fails as a whole
  Exchange out{transport_error("TransportError", what + ": not sent")};
  if (Io w = write_all(fd, head, deadline); w != Io::ok) {
    out.result = io_error(w, what, opts.total_timeout);
    out.nothing_read = w == Io::closed;
    return out;
  }
  if (after_write) std::exchange(after_write, {})();

  Reader in(fd, deadline);
  Io io = Io::ok;
  aws::HttpResponse resp;
  std::optional<std::string> status_line;
  // 1xx interim responses (100 Continue) precede the real one.
  for (;;) {
    status_line = in.line(io, kMaxHeaderLine);
    if (!status_line) {
      out.result = io_error(io, what, opts.total_timeout);
      out.nothing_read = io == Io::closed && in.received() == 0;
      return out;
    }
    if (status_line->rfind("HTTP/1.", 0) != 0 || status_line->size() < 12) {
      out.result = transport_error("TransportError", what + ": malformed status line");
      return out;
    }
    auto status = parse_size(std::string_view(*status_line).substr(9, 3), 10);
    if (!status) {
      out.result = transport_error("TransportError", what + ": malformed status line");
      return out;
    }
    resp.status = static_cast<int>(*status);
    resp.headers.clear();
    for (;;) {
      auto line = in.line(io, kMaxHeaderLine);
      if (!line) {
        out.result = io_error(io == Io::ok ? Io::failed : io, what + " (headers)", opts.total_timeout);
        return out;
      }
      if (line->empty()) break;
      auto colon = line->find(':');
      if (colon == std::string::npos) {
        out.result = transport_error("TransportError", what + ": malformed header line");
        return out;
      }
      resp.headers.emplace_back(trim(std::string_view(*line).substr(0, colon)),
                                trim(std::string_view(*line).substr(colon + 1)));
    }
    if (resp.status >= 200 || resp.status < 100) break;
  }

  const bool http10 = status_line->rfind("HTTP/1.0", 0) == 0;
  const std::string connection = resp.header("Connection");
  bool keep = !(http10 || has_token(connection, "close"));
  const bool no_body = req.method == "HEAD" || resp.status == 204 || resp.status == 304;
  if (!no_body && has_token(resp.header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      auto size_line = in.line(io, kMaxHeaderLine);
      auto size = size_line ? parse_size(std::string_view(*size_line).substr(0, size_line->find(';')), 16)
                            : std::nullopt;
      if (!size) {
        out.result = size_line ? transport_error("TransportError", what + ": malformed chunk size")
                               : io_error(io, what + " (body)", opts.total_timeout);
        return out;
      }
      if (resp.body.size() + *size > max_body) {
        out.result = transport_error("TransportError", what + ": response body above " +
                                                           std::to_string(max_body) + " bytes");
        return out;
      }
      if (*size == 0) {
        // Trailers, then the empty line.
        while (auto trailer = in.line(io, kMaxHeaderLine)) {
          if (trailer->empty()) break;
        }
        if (io != Io::ok) keep = false;
        break;
      }
      std::string crlf;
      if ((io = in.bytes(*size, resp.body)) != Io::ok || (io = in.bytes(2, crlf)) != Io::ok) {
        out.result = io_error(io, what + " (body)", opts.total_timeout);
        return out;
      }
    }
  } else if (auto length_text = aws::find_header(resp.headers, "Content-Length"); !no_body && length_text) {
    auto length = parse_size(*length_text, 10);
    if (!length) {
      out.result = transport_error("TransportError", what + ": malformed Content-Length");
      return out;
    }
    if (*length > max_body) {
      out.result = transport_error("TransportError", what + ": response body of " + *length_text +
                                                         " bytes is above " + std::to_string(max_body));
      return out;
    }
    if (io = in.bytes(*length, resp.body); io != Io::ok) {
      out.result = io_error(io, what + " (body)", opts.total_timeout);
      return out;
    }
  } else if (!no_body) {
    keep = false;
    if (io = in.rest(resp.body, max_body); io != Io::ok) {
      out.result = io == Io::failed && resp.body.size() > max_body
                       ? transport_error("TransportError", what + ": response body above " +
                                                               std::to_string(max_body) + " bytes")
                       : io_error(io, what + " (body)", opts.total_timeout);
      return out;
    }
  }
  out.result = std::move(resp);
  out.reusable = keep;
  return out;
}

}  // namespace

struct RuntimeHttpTransport::Impl {
  std::size_t max_body;
  std::function<void()> after_write;  // once, on the sending thread
  std::mutex mu;
  std::vector<std::pair<std::string, Fd>> idle;  // origin -> connection
  std::atomic<std::size_t> opened{0};

  std::optional<Fd> take_idle(const std::string& origin) {
    std::lock_guard lock(mu);
    for (auto it = idle.begin(); it != idle.end(); ++it) {
      if (it->first == origin) {
        Fd fd = std::move(it->second);
        idle.erase(it);
        return fd;
      }
    }
    return std::nullopt;
  }
  void give_back(const std::string& origin, Fd fd) {
    std::lock_guard lock(mu);
    idle.emplace_back(origin, std::move(fd));
  }
};

RuntimeHttpTransport::RuntimeHttpTransport(std::size_t max_response_bytes) : impl_(std::make_unique<Impl>()) {
  impl_->max_body = max_response_bytes;
}

RuntimeHttpTransport::~RuntimeHttpTransport() = default;

std::size_t RuntimeHttpTransport::connections_opened() const { return impl_->opened.load(); }

void RuntimeHttpTransport::after_next_write(std::function<void()> f) { impl_->after_write = std::move(f); }

Result<aws::HttpResponse> RuntimeHttpTransport::send(const aws::HttpRequest& request,
                                                     const aws::RequestOptions& options) {
  auto url = aws::parse_url(request.url);
  if (!url) return url.error();
  if (url->scheme != "http") {
    return transport_error("InvalidUrl", "the Runtime API transport speaks plain http only, not " + url->scheme);
  }
  const std::string origin = url->origin();
  // A kept-alive connection the server has since closed fails before any response byte: retry that once on a
  // fresh connection (what libcurl does), never a request the server may have started to answer.
  if (auto fd = impl_->take_idle(origin)) {
    Exchange ex = exchange(fd->get(), request, *url, options, impl_->max_body, impl_->after_write);
    if (ex.result || !ex.nothing_read) {
      if (ex.result && ex.reusable) impl_->give_back(origin, std::move(*fd));
      return std::move(ex.result);
    }
  }
  auto fd = connect_to(*url, options.connect_timeout);
  if (!fd) return fd.error();
  impl_->opened.fetch_add(1);
  Exchange ex = exchange(fd->get(), request, *url, options, impl_->max_body, impl_->after_write);
  if (ex.result && ex.reusable) impl_->give_back(origin, std::move(*fd));
  return std::move(ex.result);
}

}  // namespace ecrs::handler
