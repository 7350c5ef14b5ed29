// The symbol and version checks over a resolved closure. It runs on every
// `deps` and `binary`, over ffmpeg's 215 objects and 100k symbols, so the
// lookup is one pass over the definitions against a table of what is needed,
// keyed by the GNU hashes .gnu.hash already holds (no name is hashed twice,
// most are never compared).
#include "dslim/symbol_check.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "dslim/error.hpp"
#include "resolve/node_bytes.hpp"

namespace dslim::resolve {

GraphSymbols::GraphSymbols()
    : arena_(std::make_unique<HugePageArena>()),
      wanted_(arena_.get()),
      slots_(arena_.get()),
      filter_(kFilterWords, arena_.get()),
      pool_(arena_.get()),
      imports_(arena_.get()) {}

void GraphSymbols::read(const Graph& graph, const rootfs::RootFs& fs) {
  for (size_t i = objects_.size(); i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    ObjectSymbols& object = objects_.emplace_back(arena_.get());
    with_node_bytes(
        node, fs, [&](uint64_t size, const elf::ReadAt& read_at, const std::string& name) {
          const elf::SymbolTable& table = object.table;
          object.table.read(node.info, size, read_at, name);
          // The pooled name of each version index this object needs.
          std::vector<uint32_t> version_at;
          for (const auto& need : table.versions().needs()) {
            for (const auto& v : need.versions) {
              if (version_at.size() <= v.index)
                version_at.resize(v.index + 1, Wanted::kUnversioned);
              auto it = versions_.find(v.name);
              if (it == versions_.end()) it = versions_.emplace(v.name, pool(v.name)).first;
              version_at[v.index] = it->second;
            }
          }
          imports_.clear();
          for (size_t s = 0; s < table.size(); ++s) {
            const elf::Symbol symbol = table.symbol(s);
            const uint8_t b = symbol.binding();
            if (symbol.defined || (b != elf::kStbGlobal && b != elf::kStbWeak)) continue;
            const std::string_view text = table.name(symbol);
            if (text.empty()) continue;
            const uint16_t index = symbol.version();
            const uint32_t version =
                index < version_at.size() ? version_at[index] : Wanted::kUnversioned;
            imports_.push_back({intern(text, version), symbol.versym, b == elf::kStbWeak});
          }
          // Copied at its size: grown by doubling, it would touch twice the memory.
          object.imports.assign(imports_.begin(), imports_.end());
        });
  }
}

uint32_t GraphSymbols::pool(std::string_view text) {
  const auto at = static_cast<uint32_t>(pool_.size());
  pool_.append(text);
  pool_.push_back('\0');
  return at;
}

uint32_t GraphSymbols::intern(std::string_view name, uint32_t version) {
  const uint32_t hash31 = elf::gnu_hash(name) >> 1;
  if (!slots_.empty()) {
    for (uint32_t w = slots_[hash31 & (slots_.size() - 1)]; w != kEnd; w = wanted_[w].next) {
      const Wanted& x = wanted_[w];
      if (x.hash31 == hash31 && x.version == version && named(x, name)) return w;
    }
  }
  // Kept under 3/4 full.
  if (4 * (wanted_.size() + 1) > 3 * slots_.size())
    rehash(std::max<size_t>(1024, 2 * slots_.size()));
  const auto w = static_cast<uint32_t>(wanted_.size());
  filter_[(hash31 >> 6) & (kFilterWords - 1)] |= uint64_t{1} << (hash31 & 63);
  uint32_t& head = slots_[hash31 & (slots_.size() - 1)];
  wanted_.push_back({hash31, pool(name), version, head});
  head = w;
  return w;
}

void GraphSymbols::rehash(size_t slots) {
  slots_.assign(slots, kEnd);
  for (uint32_t w = 0; w < wanted_.size(); ++w) {
    uint32_t& head = slots_[wanted_[w].hash31 & (slots - 1)];
    wanted_[w].next = head;
    head = w;
  }
}

namespace {

std::string_view base_name(std::string_view path) {
  return path.substr(path.rfind('/') + 1);
}

// The objects one program runs with: its closure, and for a dlopen'ed one
// the first entry program's too.
struct Scope {
  size_t program;
  bool entry;                 // an entry program (its own unmet symbols are errors)
  std::vector<bool> members;  // by node
  std::vector<size_t> nodes;
};

class Checker {
 public:
  Checker(const Graph& graph, const GraphSymbols& symbols)
      : graph_(graph), symbols_(symbols), musl_(graph.loader == LoaderKind::Musl) {}

  std::vector<SymbolProblem> run() {
    std::vector<Scope> scopes = make_scopes();
    std::vector<bool> used(graph_.nodes.size());
    for (const auto& scope : scopes)
      for (size_t n : scope.nodes) used[n] = true;
    std::vector<size_t> all;
    for (size_t n = 0; n < used.size(); ++n)
      if (used[n]) all.push_back(n);

    match_definitions(all);
    std::set<std::string> lacking;  // objects with a library not found
    for (const auto& missing : graph_.missing) lacking.insert(missing.needed_by);
    for (const auto& scope : scopes) {
      if (!musl_)
        for (size_t o : scope.nodes) check_versions(o, scope);
      // With a library missing, its symbols would be reported missing too:
      // the library is the problem to report.
      if (std::any_of(scope.nodes.begin(), scope.nodes.end(),
                      [&](size_t n) { return lacking.contains(graph_.nodes[n].path); }))
        continue;
      for (size_t o : scope.nodes) check_imports(o, scope);
    }
    std::sort(problems_.begin(), problems_.end(),
              [](const SymbolProblem& a, const SymbolProblem& b) {
                return std::tie(b.error, a.object, a.symbol, a.version) <
                       std::tie(a.error, b.object, b.symbol, b.version);
              });
    return std::move(problems_);
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  std::vector<Scope> make_scopes() const {
    size_t first_entry = kNone;
    for (size_t p : graph_.programs) {
      if (graph_.nodes[p].role == Role::Entry) {
        first_entry = p;
        break;
      }
    }
    std::vector<Scope> scopes;
    for (size_t p : graph_.programs) {
      Scope scope{
          p, graph_.nodes[p].role == Role::Entry, std::vector<bool>(graph_.nodes.size()), {}};
      std::vector<size_t> todo{p};
      if (!scope.entry && first_entry != kNone) todo.push_back(first_entry);
      while (!todo.empty()) {
        const size_t n = todo.back();
        todo.pop_back();
        if (scope.members[n]) continue;
        scope.members[n] = true;
        for (size_t d : graph_.nodes[n].deps) todo.push_back(d);
      }
      for (size_t n = 0; n < graph_.nodes.size(); ++n)
        if (scope.members[n]) scope.nodes.push_back(n);
      scopes.push_back(std::move(scope));
    }
    return scopes;
  }

  // The object in `scope` the loader matched to the file name `file`
  // (by its SONAME, the name it was asked for, or its file name), the
  // requester's own dependencies first.
  size_t provider(const std::string& file, size_t requester, const Scope& scope) const {
    auto matches = [&](size_t n) {
      const Node& node = graph_.nodes[n];
      return node.info.soname == file || node.name == file || base_name(node.path) == file;
    };
    for (size_t d : graph_.nodes[requester].deps)
      if (matches(d)) return d;
    for (size_t n : scope.nodes)
      if (matches(n)) return n;
    return kNone;
  }

  std::string where(size_t n) const {
    return graph_.nodes[n].real_path.empty() ? graph_.nodes[n].path : graph_.nodes[n].real_path;
  }

  // Which objects define each wanted symbol: one pass over every object's
  // definitions, each looked up by the hash .gnu.hash holds for it.
  void match_definitions(const std::vector<size_t>& objects) {
    if (symbols_.wanted().empty()) return;
    for (size_t d : objects) {
      const elf::SymbolTable& table = symbols_.of(d).table;
      const elf::Versions& versions = table.versions();
      for (size_t i = 0; i < table.size(); ++i) {
        // Most definitions are hashed in .gnu.hash: filtered on that first.
        uint32_t hash31 = 0;
        if (table.hashed(i)) {
          hash31 = table.hash31(i);
          if (!symbols_.may_want(hash31)) continue;
        }
        const elf::Symbol s = table.symbol(i);
        if (!s.exported()) continue;
        if (!table.hashed(i)) {
          hash31 = table.hash31(i);
          if (!symbols_.may_want(hash31)) continue;
        }
        std::string_view name;  // read only when a hash matches
        symbols_.for_each_wanted(hash31, [&](uint32_t w) {
          const Wanted& wanted = symbols_.wanted()[w];
          if (name.empty()) name = table.name(s);
          if (!symbols_.named(wanted, name)) return;
          const std::string_view version = musl_ ? std::string_view() : symbols_.version(wanted);
          bool meets;
          if (version.empty()) {
            // glibc and musl alike: a hidden (non-default) version serves
            // no unversioned reference.
            meets = !s.hidden();
          } else if (s.version() <= elf::kVerNdxGlobal) {
            // glibc accepts an unversioned definition (or an object without
            // DT_VERSYM) for a versioned reference.
            meets = true;
          } else {
            meets = versions.name(s.versym) == version;
          }
          if (meets) definers_.emplace_back(w, static_cast<uint32_t>(d));
        });
      }
    }
    std::sort(definers_.begin(), definers_.end());
    // Where each wanted symbol's definers start.
    first_definer_.assign(symbols_.wanted().size() + 1, 0);
    for (const auto& [w, d] : definers_) ++first_definer_[w + 1];
    for (size_t w = 1; w < first_definer_.size(); ++w) first_definer_[w] += first_definer_[w - 1];
  }

  bool met(uint32_t w, const Scope& scope) const {
    if (first_definer_.empty()) return false;
    for (uint32_t i = first_definer_[w]; i < first_definer_[w + 1]; ++i)
      if (scope.members[definers_[i].second]) return true;
    return false;
  }

  // A weak undefined symbol is never an error: it is null when absent.
  void check_imports(size_t o, const Scope& scope) {
    for (const auto& import : symbols_.of(o).imports) {
      if (!import.weak && !met(import.wanted, scope)) report_missing(o, import, scope);
    }
  }

  void check_versions(size_t o, const Scope& scope) {
    const elf::Versions& versions = symbols_.of(o).versions();
    for (const auto& need : versions.needs()) {
      const size_t p = provider(need.file, o, scope);
      if (p == kNone) continue;  // a missing library, reported by the resolver
      const elf::Versions& provided = symbols_.of(p).versions();
      if (provided.defs().empty()) {
        if (std::all_of(need.versions.begin(), need.versions.end(),
                        [](const auto& v) { return (v.flags & elf::kVerFlgWeak) != 0; }))
          continue;
        SymbolProblem problem = base(SymbolIssue::NoVersionInfo, o, p, need.file);
        problem.error = false;
        add(std::move(problem));
        continue;
      }
      for (const auto& v : need.versions) {
        if ((v.flags & elf::kVerFlgWeak) || provided.defines(v.name)) continue;
        missing_versions_.emplace(o, v.name);
        SymbolProblem problem = base(SymbolIssue::MissingVersion, o, p, need.file);
        problem.version = v.name;
        problem.symbol = first_import_of(o, v.index);
        add(std::move(problem));
      }
    }
  }

  // The first import needing version `index`, to name in the message (the
  // loader names none).
  std::string first_import_of(size_t o, uint16_t index) const {
    for (const auto& import : symbols_.of(o).imports)
      if ((import.versym & 0x7fff) == index) return std::string(symbols_.name(import));
    return {};
  }

  void report_missing(size_t o, const Import& import, const Scope& scope) {
    const Wanted& wanted = symbols_.wanted()[import.wanted];
    SymbolProblem problem;
    problem.issue = SymbolIssue::MissingSymbol;
    problem.object = graph_.nodes[o].path;
    problem.symbol = std::string(symbols_.name(wanted));
    if (!musl_) problem.version = std::string(symbols_.version(wanted));
    // A version the library lacks is reported once, not for each of its symbols.
    if (!problem.version.empty() && missing_versions_.contains({o, problem.version})) return;
    problem.error = (scope.entry && o == scope.program) || musl_;
    if (!problem.version.empty()) {
      // Name the library the version comes from, as the versions check does.
      for (const auto& need : symbols_.of(o).versions().needs()) {
        for (const auto& v : need.versions) {
          if (v.name != problem.version) continue;
          problem.library = need.file;
          if (size_t p = provider(need.file, o, scope); p != kNone) {
            problem.provider = where(p);
            problem.provider_versions = symbols_.of(p).versions().defined();
          }
        }
      }
    } else {
      for (size_t n : scope.nodes) {
        if (n != o) problem.searched.push_back(graph_.nodes[n].path);
      }
    }
    add(std::move(problem));
  }

  SymbolProblem base(SymbolIssue issue, size_t o, size_t p, const std::string& file) const {
    SymbolProblem problem;
    problem.issue = issue;
    problem.object = graph_.nodes[o].path;
    problem.library = file;
    problem.provider = where(p);
    problem.provider_versions = symbols_.of(p).versions().defined();
    return problem;
  }

  // Each problem once, though several programs' scopes share the object; an
  // error wins over the same problem as a warning.
  void add(SymbolProblem problem) {
    auto key = std::make_tuple(static_cast<int>(problem.issue), problem.object, problem.symbol,
                               problem.version, problem.library);
    auto [it, fresh] = seen_.emplace(std::move(key), problems_.size());
    if (fresh)
      problems_.push_back(std::move(problem));
    else
      problems_[it->second].error |= problem.error;
  }

  const Graph& graph_;
  const GraphSymbols& symbols_;
  bool musl_;
  // (wanted, object defining it), sorted; and by wanted, its first there.
  std::pmr::vector<std::pair<uint32_t, uint32_t>> definers_{symbols_.memory()};
  std::pmr::vector<uint32_t> first_definer_{symbols_.memory()};
  std::vector<SymbolProblem> problems_;
  std::set<std::pair<size_t, std::string>> missing_versions_;  // (object, version)
  std::map<std::tuple<int, std::string, std::string, std::string, std::string>, size_t> seen_;
};

}  // namespace

std::vector<SymbolProblem> check_symbols(const Graph& graph, const GraphSymbols& symbols) {
  if (symbols.size() < graph.nodes.size())
    throw Error("internal: symbol tables were not read for every object of the closure");
  return Checker(graph, symbols).run();
}

}  // namespace dslim::resolve
