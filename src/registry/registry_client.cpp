// The distribution API for one repository: auth (anonymous, Basic, Bearer
// tokens per scope), retries with backoff, and digest checks on everything read.
#include "dslim/registry_client.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base64.hpp"
#include "dslim/digest.hpp"
#include "dslim/registry_credentials.hpp"
#include "http_client.hpp"
#include "www_authenticate.hpp"

namespace dslim::registry {
namespace {

constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr size_t kMaxManifest = 4u << 20;  // the distribution spec's limit

enum class Access { Pull, Push };

// Loopback registries may speak plain http, as docker allows.
bool is_loopback(const std::string& host_port) {
  std::string host = host_port.rfind('[', 0) == 0 ? host_port.substr(1, host_port.find(']') - 1)
                                                  : host_port.substr(0, host_port.find(':'));
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::string status_text(long status) {
  static const std::map<long, const char*> reasons = {
      {400, "Bad Request"},        {401, "Unauthorized"},
      {403, "Forbidden"},          {404, "Not Found"},
      {405, "Method Not Allowed"}, {409, "Conflict"},
      {413, "Payload Too Large"},  {416, "Range Not Satisfiable"},
      {429, "Too Many Requests"},  {500, "Internal Server Error"},
      {502, "Bad Gateway"},        {503, "Service Unavailable"},
      {504, "Gateway Timeout"}};
  auto it = reasons.find(status);
  return std::to_string(status) + (it == reasons.end() ? "" : std::string(" ") + it->second);
}

// The registry's own words from an error body ({"errors":[{"code","message"}]}).
std::string registry_message(const HttpResponse& r) {
  try {
    auto j = nlohmann::json::parse(r.body);
    const auto& e = j.at("errors").at(0);
    std::string msg = e.value("message", "");
    std::string code = e.value("code", "");
    if (msg.size() > 200) msg = msg.substr(0, 200) + "…";
    if (msg.empty()) return code.empty() ? "" : " (" + code + ")";
    return ": " + msg + (code.empty() ? "" : " (" + code + ")");
  } catch (const nlohmann::json::exception&) {
    return "";
  }
}

HttpRequest request(std::string method, std::string url, std::vector<std::string> headers = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.headers = std::move(headers);
  return r;
}

bool retry_worthy(long status) {
  return status >= 500 || status == 429;
}

void check_reference(const std::string& where, const std::string& reference) {
  if (is_sha256_digest(reference)) return;
  bool tag = !reference.empty() && reference.size() <= 128 && reference[0] != '.' &&
             reference[0] != '-' &&
             reference.find_first_not_of(
                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "0123456789_.-") == std::string::npos;
  if (!tag)
    throw Error(where + ": '" + reference + "' is neither a tag nor a sha256 digest",
                ErrorKind::Usage);
}

}  // namespace

struct RegistryClient::Impl {
  std::string registry, repository, api_host;
  std::string where;  // "127.0.0.1:5000/team/app", the start of every message
  RegistryOptions options;
  HttpClient http;
  std::string base;  // "https://HOST/v2/REPO/" once /v2/ has answered

  std::optional<Credentials> creds;    // looked up at the first challenge
  std::optional<Challenge> challenge;  // the registry's last word on how to authenticate
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Token> tokens;  // by scope

  Impl(std::string reg, std::string repo, RegistryOptions opts)
      : registry(std::move(reg)),
        repository(std::move(repo)),
        api_host(registry_api_host(registry)),
        where(registry + "/" + repository),
        options(std::move(opts)),
        http(HttpOptions{options.tls_verify, options.cert_dir, options.connect_timeout_seconds,
                         options.stall_timeout_seconds, options.log}) {}

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  // Runs one operation, again after transient failures (connection refused
  // or reset, timeouts, 5xx, 429) with doubling delays, at most `attempts` times.
  template <class F>
  auto retrying(const std::string& what, F&& f) -> decltype(f()) {
    auto delay = options.first_backoff;
    for (int attempt = 1;; ++attempt) {
      try {
        return f();
      } catch (const TransferError& e) {
        if (!e.transient()) throw Error(where + ": " + what + ": " + e.what(), ErrorKind::Network);
        if (attempt >= options.attempts)
          throw Error(where + ": " + what + ": " + e.what() + " after " + std::to_string(attempt) +
                          (attempt == 1 ? " attempt" : " attempts"),
                      ErrorKind::Network);
        log("retrying " + what + " in " + std::to_string(delay.count()) + " ms: " + e.what());
        std::this_thread::sleep_for(delay);
        delay *= 2;
      }
    }
  }

  const Credentials& credentials() {
    if (!creds) creds = find_credentials(registry, options.creds);
    return *creds;
  }

  // Who we were when refused, for 401/403 messages.
  std::string tried() const {
    if (!creds) return "anonymously";
    return creds->empty() ? "anonymously, " + creds->source : "with " + creds->source;
  }

  [[noreturn]] void fail(const std::string& what, const HttpResponse& r) const {
    std::string msg = where + ": " + what + ": " + status_text(r.status);
    if (r.status == 401 || r.status == 403) msg += " " + tried();
    throw Error(msg + registry_message(r), ErrorKind::Network);
  }

  void remember_challenge(const HttpResponse& r) {
    std::optional<Challenge> basic;
    for (auto& c : parse_www_authenticate(r.all("www-authenticate"))) {
      if (c.scheme == "bearer") {
        challenge = std::move(c);
        return;
      }
      if (c.scheme == "basic") basic = std::move(c);
    }
    if (basic) challenge = std::move(basic);
  }

  // GET /v2/ decides the scheme and learns the auth challenge. https first;
  // plain http only when the peer does not speak TLS and http is allowed.
  // Where http is allowed, whether the peer speaks TLS is asked first
  // without checking its certificate: a checked handshake loads the CA
  // store (~40 ms) even for a registry that turns out to be plain http. That
  // answer decides the scheme only; the challenge comes from a checked GET.
  void ensure_base() {
    if (!base.empty()) return;
    std::string url = "https://" + api_host + "/v2/";
    auto plain_http = [&](const TransferError& e) {
      bool may_http = is_loopback(api_host) || !options.tls_verify;
      if (!may_http || e.transient() || (options.tls_verify && !e.tls_handshake())) return false;
      url = "http://" + api_host + "/v2/";
      log(api_host + " does not speak TLS (" + e.what() + "); using plain http");
      return true;
    };
    bool probed = false;  // the scheme is settled: http, or TLS spoken
    if (is_loopback(api_host) || !options.tls_verify) {
      HttpRequest probe = request("GET", url);
      probe.verify_tls = false;
      try {
        http.send(probe);
      } catch (const TransferError& e) {
        if (!plain_http(e)) throw;
      }
      probed = true;
    }
    HttpResponse r;
    try {
      r = http.send(request("GET", url));
    } catch (const TransferError& e) {
      if (probed || !plain_http(e)) throw;
      r = http.send(request("GET", url));
    }
    if (retry_worthy(r.status)) throw TransferError(status_text(r.status), true, false);
    if (r.status == 401) remember_challenge(r);
    base = url + repository + "/";
  }

  std::string api(const std::string& path) {
    ensure_base();
    return base + path;
  }

  std::string scope(Access access) const {
    return "repository:" + repository + (access == Access::Push ? ":pull,push" : ":pull");
  }

  std::string fetch_token(const std::string& scope) {
    std::string realm = challenge->param("realm");
    if (realm.empty())
      throw Error(where + ": the registry asks for a Bearer token but names no realm",
                  ErrorKind::Network);
    std::string service = challenge->param("service");
    const Credentials& c = credentials();
    HttpRequest q;
    std::string form;
    if (!c.identity_token.empty()) {
      // An identity token is an OAuth2 refresh token: POST it (docker's flow).
      form = "grant_type=refresh_token&client_id=dslim&service=" + url_encode(service) +
             "&scope=" + url_encode(scope) + "&refresh_token=" + url_encode(c.identity_token);
      q = request("POST", realm, {"Content-Type: application/x-www-form-urlencoded"});
      q.body = form;
    } else {
      q.url = service.empty() ? realm : add_query(realm, "service", service);
      q.url = add_query(q.url, "scope", scope);
      if (!c.username.empty())
        q.authorization = "Basic " + base64_encode(c.username + ":" + c.password);
    }
    log("token for " + scope + " from " + loggable_url(realm) + " " + tried());
    HttpResponse r = http.send(q);
    if (retry_worthy(r.status)) throw TransferError(status_text(r.status), true, false);
    if (r.status != 200) fail("token for " + scope + " from " + loggable_url(realm), r);
    Token t;
    long seconds = 60;
    try {
      auto j = nlohmann::json::parse(r.body);
      t.value = j.value("token", j.value("access_token", ""));
      if (j.contains("expires_in")) seconds = j.at("expires_in").get<long>();
    } catch (const nlohmann::json::exception&) {
    }
    if (t.value.empty())
      throw Error(where + ": the token service " + loggable_url(realm) + " sent no token",
                  ErrorKind::Network);
    // Renewed a little early so a request never carries a token that expires on the way.
    t.expires = std::chrono::steady_clock::now() + std::chrono::milliseconds(seconds * 900);
    tokens[scope] = t;
    return t.value;
  }

  std::string authorization(Access access) {
    if (!challenge) return "";
    if (challenge->scheme == "basic") {
      const Credentials& c = credentials();
      return c.username.empty() ? "" : "Basic " + base64_encode(c.username + ":" + c.password);
    }
    if (challenge->scheme != "bearer") return "";
    auto now = std::chrono::steady_clock::now();
    // A pull,push token serves pulls as well.
    for (Access a : {Access::Push, access}) {
      auto it = tokens.find(scope(a));
      if (it != tokens.end() && now < it->second.expires) return "Bearer " + it->second.value;
    }
    return "Bearer " + fetch_token(scope(access));
  }

  // One request with auth: anonymous until the registry asks, then what its
  // challenge asks for; a 401 is answered once with fresh auth.
  HttpResponse exchange(Access access, HttpRequest req) {
    ensure_base();
    // Uploads may be sent elsewhere (Location); credentials stay with the registry.
    bool ours = same_origin(req.url, base);
    if (ours) req.authorization = authorization(access);
    HttpResponse r = http.send(req);
    if (r.status == 401 && ours) {
      remember_challenge(r);
      tokens.erase(scope(access));
      tokens.erase(scope(Access::Push));
      std::string again = authorization(access);
      if (!again.empty() && again != req.authorization) {
        req.authorization = std::move(again);
        r = http.send(req);
      }
    }
    if (retry_worthy(r.status)) throw TransferError(status_text(r.status), true, false);
    return r;
  }

  void check_sent_digest(const HttpResponse& r, const std::string& what,
                         const std::string& digest) const {
    std::string sent = r.header("docker-content-digest");
    if (is_sha256_digest(sent) && sent != digest)
      throw Error(where + ": " + what + ": the registry says " + sent + " but the content is " +
                      digest + "; refused",
                  ErrorKind::Input);
  }

  // GET a manifest; a 404 is nullopt when `missing_ok`, else an error
  // carrying the registry's own words.
  std::optional<FetchedManifest> manifest(const std::string& reference, bool missing_ok) {
    check_reference(where, reference);
    std::string what = "GET manifest " + reference;
    HttpResponse r = retrying(what, [&] {
      return exchange(Access::Pull,
                      request("GET", api("manifests/" + reference), {kManifestAccept}));
    });
    if (r.status == 404 && missing_ok) return std::nullopt;
    if (r.status != 200) fail(what, r);
    if (r.body.size() > kMaxManifest)
      throw Error(where + ": " + what + ": larger than 4 MiB; refused", ErrorKind::Input);
    FetchedManifest out;
    out.digest = sha256_digest(r.body);
    if (is_sha256_digest(reference) && out.digest != reference)
      throw Error(where + ": " + what + ": the content is " + out.digest + "; refused",
                  ErrorKind::Input);
    check_sent_digest(r, what, out.digest);
    std::string type = r.header("content-type");
    out.media_type = type.substr(0, type.find(';'));
    out.bytes = std::move(r.body);
    return out;
  }
};

RegistryClient::RegistryClient(std::string registry, std::string repository,
                               RegistryOptions options)
    : impl_(
          std::make_unique<Impl>(std::move(registry), std::move(repository), std::move(options))) {}

RegistryClient::~RegistryClient() = default;

FetchedManifest RegistryClient::get_manifest(const std::string& reference) {
  return *impl_->manifest(reference, false);
}

std::optional<FetchedManifest> RegistryClient::find_manifest(const std::string& reference) {
  return impl_->manifest(reference, true);
}

std::optional<std::string> RegistryClient::referrers(const std::string& digest) {
  Impl& m = *impl_;
  digest_hex(digest, m.where + ": GET referrers");
  std::string what = "GET referrers " + digest;
  HttpResponse r = m.retrying(what, [&] {
    return m.exchange(Access::Pull, request("GET", m.api("referrers/" + digest),
                                            {"Accept: application/vnd.oci.image.index.v1+json"}));
  });
  // 404: the registry has no referrers API (the spec's signal for the tag fallback).
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) m.fail(what, r);
  if (r.body.size() > kMaxManifest)
    throw Error(m.where + ": " + what + ": larger than 4 MiB; refused", ErrorKind::Input);
  return std::move(r.body);
}

bool RegistryClient::has_blob(const std::string& digest) {
  Impl& m = *impl_;
  digest_hex(digest, m.where + ": HEAD blob");
  std::string what = "HEAD blob " + digest;
  HttpResponse r = m.retrying(
      what, [&] { return m.exchange(Access::Pull, request("HEAD", m.api("blobs/" + digest))); });
  if (r.status == 404) return false;
  if (r.status != 200) m.fail(what, r);
  return true;
}

void RegistryClient::get_blob(const std::string& digest, uint64_t size, const ChunkSink& sink) {
  Impl& m = *impl_;
  digest_hex(digest, m.where + ": GET blob");
  std::string what = "GET blob " + digest;
  Sha256 hash;
  uint64_t done = 0;
  m.retrying(what, [&] {
    HttpRequest q = request("GET", m.api("blobs/" + digest));
    const uint64_t resume_at = done;
    // An interrupted transfer goes on from where it stopped; a server that
    // ignores Range sends it all again, and what we have is skipped.
    if (resume_at > 0) q.headers.push_back("Range: bytes=" + std::to_string(resume_at) + "-");
    bool first = true;
    uint64_t skip = 0;
    q.on_body = [&](const HttpResponse& head, std::string_view chunk) {
      if (first) {
        first = false;
        if (head.status == 206 &&
            head.header("content-range").rfind("bytes " + std::to_string(resume_at) + "-", 0) != 0)
          throw Error(m.where + ": " + what + ": resumed at the wrong offset (" +
                          head.header("content-range") + ")",
                      ErrorKind::Network);
        if (head.status != 206) skip = resume_at;
      }
      size_t drop = static_cast<size_t>(std::min<uint64_t>(skip, chunk.size()));
      chunk.remove_prefix(drop);
      skip -= drop;
      if (done + chunk.size() > size)
        throw Error(m.where + ": blob " + digest + " is larger than its " + std::to_string(size) +
                        " bytes; refused",
                    ErrorKind::Input);
      hash.update(chunk);
      sink(chunk);
      done += chunk.size();
      if (m.options.progress) m.options.progress(digest, done, size);
    };
    HttpResponse r = m.exchange(Access::Pull, std::move(q));
    if (r.status != 200 && r.status != 206) m.fail(what, r);
    return 0;
  });
  if (done != size)
    throw Error(m.where + ": blob " + digest + " is " + std::to_string(done) + " bytes, not " +
                    std::to_string(size) + "; refused",
                ErrorKind::Input);
  if (std::string got = hash.finish(); got != digest)
    throw Error(m.where + ": blob " + digest + " has content " + got + "; refused",
                ErrorKind::Input);
}

void RegistryClient::put_blob(const std::string& digest, uint64_t size, const BlobReader& source) {
  Impl& m = *impl_;
  digest_hex(digest, m.where + ": push blob");
  std::string what = "push blob " + digest;
  m.retrying(what, [&] {
    HttpResponse start = m.exchange(Access::Push, request("POST", m.api("blobs/uploads/")));
    if (start.status != 202) m.fail("POST upload for blob " + digest, start);
    std::string location = start.header("location");
    if (location.empty())
      throw Error(m.where + ": POST upload for blob " + digest + ": no Location in the answer",
                  ErrorKind::Network);
    HttpRequest put = request("PUT", add_query(resolve_url(start.url, location), "digest", digest),
                              {"Content-Type: application/octet-stream"});
    put.upload = [&](uint64_t offset, char* buf, size_t n) {
      size_t got = source(offset, buf, n);
      if (m.options.progress) m.options.progress(digest, offset + got, size);
      return got;
    };
    put.upload_size = size;
    HttpResponse r = m.exchange(Access::Push, std::move(put));
    if (r.status != 201) m.fail("PUT blob " + digest, r);
    m.check_sent_digest(r, "PUT blob " + digest, digest);
    return 0;
  });
}

PushedManifest RegistryClient::put_manifest(const std::string& reference,
                                            const std::string& media_type, std::string_view bytes) {
  Impl& m = *impl_;
  check_reference(m.where, reference);
  PushedManifest out;
  out.digest = sha256_digest(bytes);
  std::string what = "PUT manifest " + reference;
  if (is_sha256_digest(reference) && reference != out.digest)
    throw Error(m.where + ": " + what + ": the content is " + out.digest, ErrorKind::Input);
  HttpResponse r = m.retrying(what, [&] {
    HttpRequest put =
        request("PUT", m.api("manifests/" + reference), {"Content-Type: " + media_type});
    put.body = bytes;
    return m.exchange(Access::Push, std::move(put));
  });
  if (r.status != 201) m.fail(what, r);
  m.check_sent_digest(r, what, out.digest);
  out.subject = r.header("oci-subject");
  return out;
}

}  // namespace dslim::registry
