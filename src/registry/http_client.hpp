#pragma once
// One HTTP exchange at a time over a reused libcurl easy handle: TLS options
// as skopeo has them, redirects followed by hand so that Authorization never
// reaches another origin, response bodies streamed or collected.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dslim/error.hpp"
#include "dslim/registry_client.hpp"

namespace dslim::registry {

struct HttpOptions {
  bool tls_verify = true;
  std::string cert_dir;
  long connect_timeout_seconds = 30;
  long stall_timeout_seconds = 60;
  LogFn log;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // "Bearer …" or "Basic …": sent to the request's own origin only, never
  // after a redirect to another scheme, host or port.
  std::string authorization;
  std::string_view body;  // a small body (POST form, manifest)
  // A streamed body of `upload_size` bytes (PUT blob), used when set.
  BlobReader upload;
  uint64_t upload_size = 0;
  // Receives a 2xx response's body instead of HttpResponse::body, with the
  // response's status and headers so far.
  std::function<void(const struct HttpResponse& head, std::string_view chunk)> on_body;
  // false: the peer's certificate is not checked (a probe whose answer is
  // not trusted, only whether it came over TLS at all).
  bool verify_tls = true;
};

struct HttpResponse {
  long status = 0;
  std::string url;                                  // after redirects
  std::multimap<std::string, std::string> headers;  // names lowercased
  std::string body;                                 // when not streamed; capped for error bodies

  std::string header(const std::string& lowercase_name) const;  // first, or ""
  std::string all(const std::string& lowercase_name) const;     // joined with ", "
};

// A failure below HTTP (connection, TLS, timeout). `transient` ones are
// worth another try.
class TransferError : public Error {
 public:
  TransferError(const std::string& reason, bool transient, bool tls_handshake)
      : Error(reason, ErrorKind::Network), transient_(transient), tls_handshake_(tls_handshake) {}
  bool transient() const { return transient_; }
  // The peer did not speak TLS (a plain-http registry asked for https).
  bool tls_handshake() const { return tls_handshake_; }

 private:
  bool transient_;
  bool tls_handshake_;
};

class HttpClient {
 public:
  // Throws dslim::Error (Usage) when cert_dir cannot be read.
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request, following up to 10 redirects. Throws TransferError;
  // exceptions thrown by on_body or upload pass through unchanged.
  HttpResponse send(const HttpRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `ref` (absolute, or relative like a Location header) resolved against `base`.
std::string resolve_url(const std::string& base, const std::string& ref);
// `url` with `name=value` appended to its query (value URL-encoded).
std::string add_query(const std::string& url, const std::string& name, const std::string& value);
// Whether two URLs share scheme, host and port (credentials may go to both).
bool same_origin(const std::string& a, const std::string& b);
// Percent-encoding for a query or form value.
std::string url_encode(std::string_view value);
// `url` without its query, for logs and messages ("…?…" when there was one).
std::string loggable_url(const std::string& url);

}  // namespace dslim::registry
