// HTTP over libcurl for the registry client.
#include "http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "ca_certs.hpp"

namespace dslim::registry {
namespace {

// Bodies we keep in memory: manifests (the spec's limit is 4 MiB) and error
// documents. Anything larger must be streamed through on_body.
constexpr size_t kMaxCollectedBody = 8u << 20;

// The shim (curl_shim.cpp) initialises libcurl once, under a static's
// guard, when it loads it; not std::call_once, which cannot pass on the
// exception a missing libcurl raises.
void global_init() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == s.npos ? "" : std::string(s.substr(b, e - b + 1));
}

// A CURLU handle freed on scope exit.
struct Url {
  CURLU* u = curl_url();
  ~Url() { curl_url_cleanup(u); }
  bool set(CURLUPart part, const std::string& value, unsigned flags = 0) {
    return curl_url_set(u, part, value.c_str(), flags) == CURLUE_OK;
  }
  std::string get(CURLUPart part, unsigned flags = 0) const {
    char* out = nullptr;
    if (curl_url_get(u, part, &out, flags) != CURLUE_OK) return "";
    std::string s = out;
    curl_free(out);
    return s;
  }
};

std::string origin(const std::string& url) {
  Url u;
  if (!u.set(CURLUPART_URL, url)) return url;
  return u.get(CURLUPART_SCHEME) + "://" + lower(u.get(CURLUPART_HOST)) + ":" +
         u.get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  if (!in) throw Error("cannot read " + p.string(), ErrorKind::Usage);
  return s.str();
}

TransferError transfer_error(CURLcode code, long os_errno, const char* errbuf) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(code);
  auto sys = [&](const char* otherwise) {
    return os_errno ? std::string(std::strerror(static_cast<int>(os_errno))) : otherwise;
  };
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return {os_errno == ECONNREFUSED ? "connection refused" : "cannot connect: " + sys("failed"),
              true, false};
    case CURLE_OPERATION_TIMEDOUT:
      return {"timed out (" + detail + ")", true, false};
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      return {os_errno == ECONNRESET ? "connection reset" : "connection broken (" + detail + ")",
              true, false};
    case CURLE_PARTIAL_FILE:
      return {"connection closed mid-transfer", true, false};
    case CURLE_GOT_NOTHING:
      return {"connection closed with no response", true, false};
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return {"HTTP/2 stream failed (" + detail + ")", true, false};
    case CURLE_PEER_FAILED_VERIFICATION:
      return {"TLS certificate not trusted (" + detail +
                  "); give the registry's CA with --cert-dir, or use --tls-verify=false",
              false, false};
    case CURLE_SSL_CACERT_BADFILE:
      return {"no CA certificates to check the registry with (looked at " + ca_search_text() +
                  "); set SSL_CERT_FILE, give the registry's CA with --cert-dir, or use "
                  "--tls-verify=false",
              false, false};
    case CURLE_SSL_CONNECT_ERROR:
      return {"TLS handshake failed (" + detail + ")", false, true};
    case CURLE_COULDNT_RESOLVE_HOST:
      return {"cannot resolve the host name", false, false};
    default:
      return {detail, false, false};
  }
}

}  // namespace

std::string HttpResponse::header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? "" : it->second;
}

std::string HttpResponse::all(const std::string& lowercase_name) const {
  std::string out;
  auto [b, e] = headers.equal_range(lowercase_name);
  for (auto it = b; it != e; ++it) out += (out.empty() ? "" : ", ") + it->second;
  return out;
}

std::string resolve_url(const std::string& base, const std::string& ref) {
  Url u;
  if (!u.set(CURLUPART_URL, base) || !u.set(CURLUPART_URL, ref))
    throw Error("cannot resolve URL '" + loggable_url(ref) + "' against " + loggable_url(base),
                ErrorKind::Network);
  return u.get(CURLUPART_URL);
}

std::string add_query(const std::string& url, const std::string& name, const std::string& value) {
  Url u;
  if (!u.set(CURLUPART_URL, url) ||
      !u.set(CURLUPART_QUERY, name + "=" + value, CURLU_APPENDQUERY | CURLU_URLENCODE))
    throw Error("cannot add " + name + " to URL " + loggable_url(url), ErrorKind::Network);
  return u.get(CURLUPART_URL);
}

bool same_origin(const std::string& a, const std::string& b) {
  return origin(a) == origin(b);
}

std::string url_encode(std::string_view value) {
  char* e = curl_easy_escape(nullptr, value.data(), static_cast<int>(value.size()));
  if (!e) throw Error("out of memory encoding a URL", ErrorKind::Network);
  std::string out = e;
  curl_free(e);
  return out;
}

std::string loggable_url(const std::string& url) {
  size_t q = url.find('?');
  return q == std::string::npos ? url : url.substr(0, q) + "?…";
}

struct HttpClient::Impl {
  HttpOptions options;
  CURL* curl = nullptr;
  std::string ca_pem;  // the cert_dir's *.crt files, concatenated
  CaLocations ca;      // the system's, which the cert_dir's add to
  std::string client_cert, client_key;

  // Per-exchange state the callbacks reach through their userdata.
  struct Exchange {
    CURL* curl;
    const HttpRequest* request;
    HttpResponse response;
    uint64_t received = 0;
    uint64_t sent = 0;
    std::exception_ptr error;  // thrown by on_body/upload; rethrown after curl returns
  };

  static size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* x = static_cast<Exchange*>(user);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {
      x->response.headers.clear();  // a new response (after 100 Continue)
    } else if (size_t colon = line.find(':'); colon != line.npos) {
      x->response.headers.emplace(lower(std::string(line.substr(0, colon))),
                                  trim(line.substr(colon + 1)));
    }
    return size * n;
  }

  static size_t on_write(char* data, size_t size, size_t n, void* user) {
    auto* x = static_cast<Exchange*>(user);
    size_t len = size * n;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->response.status);
    long status = x->response.status;
    try {
      x->received += len;
      if (status >= 200 && status < 300 && x->request->on_body) {
        x->request->on_body(x->response, std::string_view(data, len));
      } else {
        if (x->response.body.size() + len > kMaxCollectedBody)
          throw Error("response body larger than " + std::to_string(kMaxCollectedBody >> 20) +
                      " MiB");
        x->response.body.append(data, len);
      }
    } catch (...) {
      x->error = std::current_exception();
      return CURL_WRITEFUNC_ERROR;
    }
    return len;
  }

  static size_t on_read(char* buf, size_t size, size_t n, void* user) {
    auto* x = static_cast<Exchange*>(user);
    const HttpRequest& r = *x->request;
    try {
      uint64_t total = r.upload ? r.upload_size : r.body.size();
      size_t want = static_cast<size_t>(std::min<uint64_t>(size * n, total - x->sent));
      if (want == 0) return 0;
      size_t got = 0;
      if (r.upload) {
        got = r.upload(x->sent, buf, want);
        if (got == 0) throw Error("upload source ended at byte " + std::to_string(x->sent));
      } else {
        std::memcpy(buf, r.body.data() + x->sent, want);
        got = want;
      }
      x->sent += got;
      return got;
    } catch (...) {
      x->error = std::current_exception();
      return CURL_READFUNC_ABORT;
    }
  }

  HttpResponse perform(const std::string& method, const std::string& url, bool with_auth,
                       bool send_body, const HttpRequest& req) {
    curl_easy_reset(curl);  // keeps the connection cache
    Exchange x{curl, &req, {}, 0, 0, nullptr};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "dslim");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_seconds);
    if (!options.tls_verify || !req.verify_tls) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!ca.file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca.file.c_str());
    if (!ca.dir.empty()) curl_easy_setopt(curl, CURLOPT_CAPATH, ca.dir.c_str());
    if (!ca_pem.empty()) {
      curl_blob blob{ca_pem.data(), ca_pem.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (!client_cert.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, client_cert.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEY, client_key.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Impl::on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);

    bool has_body = send_body && (req.upload || !req.body.empty());
    if (method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, &Impl::on_read);
      curl_easy_setopt(curl, CURLOPT_READDATA, &x);
      curl_off_t size = static_cast<curl_off_t>(req.upload ? req.upload_size : req.body.size());
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, size);
    } else if (method == "POST" || method == "PUT") {
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else if (method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    }

    curl_slist* headers = nullptr;
    for (const auto& h : req.headers) headers = curl_slist_append(headers, h.c_str());
    // Registries answer at once; 100-continue would only add a round trip.
    headers = curl_slist_append(headers, "Expect:");
    if (with_auth && !req.authorization.empty())
      headers = curl_slist_append(headers, ("Authorization: " + req.authorization).c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (x.error) std::rethrow_exception(x.error);
    if (rc != CURLE_OK) {
      long os_errno = 0;
      curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
      if (options.log)
        options.log(method + " " + loggable_url(url) + " failed after " +
                    std::to_string(x.received) + " bytes: " + curl_easy_strerror(rc));
      throw transfer_error(rc, os_errno, errbuf);
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x.response.status);
    x.response.url = url;
    if (options.log)
      options.log(method + " " + loggable_url(url) + " " + std::to_string(x.response.status) + " " +
                  std::to_string(x.received) + " bytes" +
                  (x.sent ? " (sent " + std::to_string(x.sent) + ")" : ""));
    return std::move(x.response);
  }
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->options = std::move(options);
  impl_->ca = system_ca_locations();
  if (const std::string& dir = impl_->options.cert_dir; !dir.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw Error("--cert-dir " + dir + " is not a directory", ErrorKind::Usage);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (f.extension() == ".crt") {
        impl_->ca_pem += read_text(f) + "\n";
      } else if (f.extension() == ".cert" && impl_->client_cert.empty()) {
        fs::path key = fs::path(f).replace_extension(".key");
        if (!fs::exists(key, ec))
          throw Error("--cert-dir " + dir + ": client certificate " + f.filename().string() +
                          " has no " + key.filename().string(),
                      ErrorKind::Usage);
        impl_->client_cert = f.string();
        impl_->client_key = key.string();
      }
    }
  }
  impl_->curl = curl_easy_init();
  if (!impl_->curl) throw Error("cannot initialise libcurl", ErrorKind::Network);
}

HttpClient::~HttpClient() {
  curl_easy_cleanup(impl_->curl);
}

HttpResponse HttpClient::send(const HttpRequest& request) {
  std::string url = request.url;
  std::string method = request.method;
  const std::string first_url = url;
  bool send_body = true;
  for (int hop = 0;; ++hop) {
    HttpResponse r = impl_->perform(method, url, same_origin(url, first_url), send_body, request);
    std::string location = r.header("location");
    if (!is_redirect(r.status) || location.empty()) return r;
    if (hop == 10) throw TransferError("more than 10 redirects", false, false);
    url = resolve_url(url, location);
    if (r.status == 303 && method != "HEAD") {
      method = "GET";
      send_body = false;
    }
  }
}

}  // namespace dslim::registry
