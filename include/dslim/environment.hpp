#pragma once
// An image's Env as layers of K=V lists (the source's, dslim's default PATH,
// presets', the user's --env): a later value of a key replaces the earlier
// one, in its place, as `docker run -e` and a Dockerfile's ENV do.
#include <string>
#include <vector>

namespace dslim::slim {

// `base` with each entry of `over` replacing the entry of the same key, or
// appended when the key is new. An entry without '=' is its own key.
std::vector<std::string> merge_env(std::vector<std::string> base,
                                   const std::vector<std::string>& over);

}  // namespace dslim::slim
