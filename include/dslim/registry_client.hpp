#pragma once
// A client for one repository of one registry over the OCI distribution API
// (https://github.com/opencontainers/distribution-spec): manifests and blobs,
// pulled and pushed, with Basic or Bearer-token auth, retries and digest checks.
// Library code: it never prints; `log` and `progress` let the CLI show what
// happens. Credentials and tokens never appear in errors or in `log`.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dslim::registry {

// One line per HTTP exchange ("GET https://host/v2/…/blobs/sha256:… 200 1234 bytes"),
// retry and auth step; URLs without their query (it may carry signatures).
using LogFn = std::function<void(const std::string& line)>;
// Bytes of one blob moved so far, for progress displays.
using ProgressFn = std::function<void(const std::string& digest, uint64_t done, uint64_t total)>;

struct RegistryOptions {
  // false: any certificate is accepted and plain http is tried when https
  // fails (skopeo's --tls-verify=false). Loopback registries (localhost,
  // 127.0.0.0/8, ::1) may always fall back to plain http, as docker allows.
  bool tls_verify = true;
  // skopeo's --cert-dir: *.crt files are extra CAs; a NAME.cert with its
  // NAME.key is the client certificate.
  std::string cert_dir;
  std::string creds;  // --creds USER:PASS; empty = look in the usual files
  int attempts = 4;   // tries per operation on connection failures, timeouts, 5xx, 429
  std::chrono::milliseconds first_backoff{500};  // doubled after each failed try
  long connect_timeout_seconds = 30;
  long stall_timeout_seconds = 60;  // abort a transfer that moves no byte for this long
  LogFn log;
  ProgressFn progress;
};

struct FetchedManifest {
  std::string bytes;
  std::string media_type;  // the Content-Type the registry sent
  std::string digest;      // sha256 of `bytes`, computed here
};

struct PushedManifest {
  std::string digest;   // sha256 of the bytes sent
  std::string subject;  // the OCI-Subject header: set when the registry indexed the
                        // manifest's subject itself (it has the referrers API)
};

// Streams a blob's bytes as they arrive. It may be handed bytes of a blob
// that later turns out not to match its digest (get_blob then throws), so
// write into a temporary file and keep it only when get_blob returns.
using ChunkSink = std::function<void(std::string_view chunk)>;
// Reads up to `size` bytes of a blob from `offset` into `buf`, returning how
// many; positional so an upload can be sent again after a failure.
using BlobReader = std::function<size_t(uint64_t offset, char* buf, size_t size)>;

// Not thread-safe: use one client per thread.
class RegistryClient {
 public:
  // `registry` as in references ("docker.io", "127.0.0.1:5000"); `repository`
  // the full path ("library/alpine", "team/app").
  RegistryClient(std::string registry, std::string repository, RegistryOptions options = {});
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // GET a manifest or index by tag or "sha256:…" digest, accepting the OCI
  // and Docker v2 manifest and list types. The digest is verified when
  // `reference` is one, and against Docker-Content-Digest when sent.
  FetchedManifest get_manifest(const std::string& reference);
  // The same, nullopt when the repository has no such manifest (404).
  std::optional<FetchedManifest> find_manifest(const std::string& reference);

  // The referrers list (an image index) of the manifest `digest`, from the
  // referrers API; nullopt when the registry does not have that API (404).
  std::optional<std::string> referrers(const std::string& digest);

  // Whether the repository holds the blob (HEAD).
  bool has_blob(const std::string& digest);

  // Streams the blob into `sink`, checking its size and sha256 as it goes;
  // redirects to blob storage are followed and an interrupted transfer is
  // resumed where it stopped.
  void get_blob(const std::string& digest, uint64_t size, const ChunkSink& sink);

  // Uploads a blob (POST, then one PUT with ?digest=).
  void put_blob(const std::string& digest, uint64_t size, const BlobReader& source);

  // PUTs a manifest under a tag or its digest.
  PushedManifest put_manifest(const std::string& reference, const std::string& media_type,
                              std::string_view bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dslim::registry
