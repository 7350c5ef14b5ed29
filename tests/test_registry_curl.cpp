// The libcurl shim (src/registry/curl_shim.cpp): libcurl is not loaded until
// the first call, and every forwarded function behaves as libcurl's own.
// file:// URLs only: no network.
#include <curl/curl.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "support/temp_dir.hpp"

namespace {

bool curl_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream all;
  all << maps.rdbuf();
  return all.str().find("libcurl") != std::string::npos;
}

size_t append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

TEST_CASE("libcurl is loaded on first use and forwarded to", "[registry]") {
  // Nothing has called libcurl yet in this process.
  CHECK_FALSE(curl_mapped());
  REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
  CHECK(curl_mapped());
  CHECK(std::string(curl_version()).starts_with("libcurl/"));

  dslim::test::TempDir dir;
  const auto file = dir.path() / "blob";
  std::ofstream(file) << "0123456789";
  CURL* curl = curl_easy_init();
  REQUIRE(curl != nullptr);
  std::string body;
  // One option of each argument type: pointer, long, function, curl_off_t.
  const std::string url = "file://" + file.string();
  CHECK(curl_easy_setopt(curl, CURLOPT_URL, url.c_str()) == CURLE_OK);
  CHECK(curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK);
  CHECK(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append) == CURLE_OK);
  CHECK(curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body) == CURLE_OK);
  CHECK(curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, curl_off_t{4}) == CURLE_OK);
  curl_slist* headers = curl_slist_append(nullptr, "Accept: x/y");
  CHECK(curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK);
  REQUIRE(curl_easy_perform(curl) == CURLE_OK);
  CHECK(body == "456789");
  curl_off_t size = 0;
  CHECK(curl_easy_getinfo(curl, CURLINFO_SIZE_DOWNLOAD_T, &size) == CURLE_OK);
  CHECK(size == 6);
  CHECK(curl_easy_setopt(curl, static_cast<CURLoption>(99999), 0L) == CURLE_UNKNOWN_OPTION);
  CHECK(std::string(curl_easy_strerror(CURLE_OK)) == "No error");

  char* escaped = curl_easy_escape(curl, "a b", 0);
  CHECK(std::string(escaped) == "a%20b");
  curl_free(escaped);

  curl_easy_reset(curl);
  body.clear();
  curl_easy_setopt(curl, CURLOPT_URL, "file:///nonexistent/dslim");
  CHECK(curl_easy_perform(curl) == CURLE_FILE_COULDNT_READ_FILE);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);

  CURLU* u = curl_url();
  REQUIRE(curl_url_set(u, CURLUPART_URL, "https://registry.example/v2/x", 0) == CURLUE_OK);
  char* host = nullptr;
  REQUIRE(curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK);
  CHECK(std::string(host) == "registry.example");
  curl_free(host);
  curl_url_cleanup(u);
}
