#pragma once
// Registry credentials, found where docker, podman and skopeo users keep them:
// --creds USER:PASS, then $REGISTRY_AUTH_FILE alone when it is set, else
// ${XDG_RUNTIME_DIR}/containers/auth.json, ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json
// and ${DOCKER_CONFIG:-~/.docker}/config.json. In each file: `credHelpers`
// for the registry, then `auths` (base64 "user:pass" `auth`, `identitytoken`),
// then `credsStore`; helpers are run as `docker-credential-NAME get`.
#include <string>

namespace dslim::registry {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // an OAuth2 refresh token ("identitytoken", or a helper's "<token>")
  // Where they came from, for messages; never the values:
  // "credentials from /root/.docker/config.json for 127.0.0.1:5000", or, when
  // nothing was found, "no credentials (none for HOST in FILES)".
  std::string source;

  bool empty() const { return username.empty() && identity_token.empty(); }
};

// The host the API lives on: Docker Hub's "docker.io" is served by
// "registry-1.docker.io"; every other registry by its own name.
std::string registry_api_host(const std::string& registry);

// The key docker and podman file a registry's credentials under: Docker Hub's
// is "https://index.docker.io/v1/"; others use their host[:port].
std::string credentials_key(const std::string& registry);

// Credentials for `registry` ("docker.io", "127.0.0.1:5000"). `creds_flag`
// is --creds ("USER:PASS", wins over every file) or empty. Returns empty
// credentials (with `source` saying where it looked) when none are found.
// Throws dslim::Error naming the file or helper when one is unreadable or
// fails, and ErrorKind::Usage for a malformed --creds.
Credentials find_credentials(const std::string& registry, const std::string& creds_flag);

}  // namespace dslim::registry
