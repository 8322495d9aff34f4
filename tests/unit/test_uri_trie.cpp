// realm/uri_trie.hpp: the three indexes, the dealer's and the broker's matching rules (reference
// §2.8, §2.9), pruning, and a randomized cross-check against a linear scan of the spec's rules.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "realm/uri_trie.hpp"

using namespace junction;

namespace {

constexpr auto exact = match_policy::exact;
constexpr auto prefix = match_policy::prefix;
constexpr auto wildcard = match_policy::wildcard;

// The value best_match found, or -1.
int best(uri_trie<int>& t, std::string_view uri) {
  const int* v = t.best_match(uri);
  return v ? *v : -1;
}

// Every (value, policy) for_each_match reported, in its order.
std::vector<std::pair<int, match_policy>> matches(uri_trie<int>& t, std::string_view uri) {
  std::vector<std::pair<int, match_policy>> out;
  t.for_each_match(uri, [&](int& v, match_policy p) { out.emplace_back(v, p); });
  return out;
}

std::vector<int> sorted_values(uri_trie<int>& t, std::string_view uri) {
  std::vector<int> out;
  for (const auto& [v, p] : matches(t, uri)) out.push_back(v);
  std::sort(out.begin(), out.end());
  return out;
}

// ---- the reference: the spec's rules applied by scanning every entry ---------------------------

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = s.find('.', start);
    out.emplace_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

bool wildcard_matches(const std::string& pattern, const std::string& uri) {
  const auto p = split(pattern), u = split(uri);
  if (p.size() != u.size()) return false;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!p[i].empty() && p[i] != u[i]) return false;
  return true;
}

// The spec's wording: "the longest portion of URI components matched before each wildcard",
// compared run by run (the run after the last wildcard included).
std::vector<std::size_t> literal_runs(const std::string& pattern) {
  std::vector<std::size_t> runs{0};
  for (const auto& c : split(pattern)) {
    if (c.empty())
      runs.push_back(0);
    else
      ++runs.back();
  }
  return runs;
}

struct reference {
  struct entry {
    std::string pattern;
    match_policy policy;
    int value;
  };
  std::vector<entry> entries;

  entry* find(const std::string& pattern, match_policy policy) {
    for (auto& e : entries)
      if (e.pattern == pattern && e.policy == policy) return &e;
    return nullptr;
  }
  bool erase(const std::string& pattern, match_policy policy) {
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      if (it->pattern == pattern && it->policy == policy) {
        entries.erase(it);
        return true;
      }
    }
    return false;
  }
  bool matches(const entry& e, const std::string& uri) const {
    switch (e.policy) {
      case match_policy::exact:
        return e.pattern == uri;
      case match_policy::prefix:
        return uri.compare(0, e.pattern.size(), e.pattern) == 0;
      case match_policy::wildcard:
        return wildcard_matches(e.pattern, uri);
    }
    return false;
  }
  int best_match(const std::string& uri) const {
    const entry* best_prefix = nullptr;
    const entry* best_wildcard = nullptr;
    for (const auto& e : entries) {
      if (!matches(e, uri)) continue;
      if (e.policy == match_policy::exact) return e.value;
      if (e.policy == match_policy::prefix) {
        if (!best_prefix || e.pattern.size() > best_prefix->pattern.size()) best_prefix = &e;
      } else if (!best_wildcard || literal_runs(e.pattern) > literal_runs(best_wildcard->pattern)) {
        best_wildcard = &e;
      }
    }
    if (best_prefix) return best_prefix->value;
    return best_wildcard ? best_wildcard->value : -1;
  }
  std::vector<int> all_matches(const std::string& uri) const {
    std::vector<int> out;
    for (const auto& e : entries)
      if (matches(e, uri)) out.push_back(e.value);
    std::sort(out.begin(), out.end());
    return out;
  }
};

// Components from a tiny alphabet in which one is a character prefix of another ("a" / "ab"),
// so that exact, prefix and wildcard matches all happen often.
struct generator {
  std::mt19937 rng;
  explicit generator(unsigned seed) : rng(seed) {}
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  }

  std::string uri() {
    static const char* const alphabet[] = {"a", "ab", "b", "ba"};
    std::string s;
    const std::size_t n = 1 + below(5);
    for (std::size_t i = 0; i < n; ++i) {
      if (i) s += '.';
      s += alphabet[below(4)];
    }
    return s;
  }
  std::pair<std::string, match_policy> pattern() {
    switch (below(3)) {
      case 0:
        return {uri(), exact};
      case 1: {  // a character prefix of a URI: may end with '.' or inside a component
        const std::string u = uri();
        return {u.substr(0, 1 + below(u.size())), prefix};
      }
      default: {
        std::string p;
        const auto parts = split(uri());
        for (std::size_t i = 0; i < parts.size(); ++i) {
          if (i) p += '.';
          if (below(5) >= 2) p += parts[i];  // 2 in 5 components become wildcards
        }
        return {p, wildcard};
      }
    }
  }
};

void cross_check(uri_trie<int>& t, const reference& ref, generator& gen, int uris) {
  REQUIRE(t.size() == ref.entries.size());
  for (int i = 0; i < uris; ++i) {
    const std::string u = gen.uri();
    CAPTURE(u);
    CHECK(best(t, u) == ref.best_match(u));
    CHECK(sorted_values(t, u) == ref.all_matches(u));
    // Each reported policy is the entry's own; wildcard matches come most specific first.
    std::vector<std::vector<std::size_t>> wildcard_runs;
    for (const auto& [v, p] : matches(t, u)) {
      const auto it = std::find_if(ref.entries.begin(), ref.entries.end(),
                                   [&](const reference::entry& e) { return e.value == v; });
      REQUIRE(it != ref.entries.end());
      CHECK(it->policy == p);
      if (p == wildcard) wildcard_runs.push_back(literal_runs(it->pattern));
    }
    CHECK(std::is_sorted(wildcard_runs.rbegin(), wildcard_runs.rend()));
  }
}

}  // namespace

TEST_CASE("uri_trie: exact insert, find, erase") {
  uri_trie<int> t;
  CHECK(t.empty());
  const auto [v, inserted] = t.insert("com.example.add", exact, 1);
  CHECK(inserted);
  REQUIRE(v != nullptr);
  CHECK(*v == 1);
  CHECK(t.size() == 1);
  CHECK(t.find("com.example.add", exact) == v);
  CHECK(t.find("com.example.add", prefix) == nullptr);
  CHECK(t.find("com.example.ad", exact) == nullptr);
  CHECK(best(t, "com.example.add") == 1);
  CHECK(best(t, "com.example.add2") == -1);  // exact is not prefix
  CHECK(best(t, "com.example") == -1);
  const uri_trie<int>& ct = t;
  CHECK(ct.find("com.example.add", exact) == v);

  CHECK(t.erase("com.example.add", exact));
  CHECK_FALSE(t.erase("com.example.add", exact));
  CHECK(t.find("com.example.add", exact) == nullptr);
  CHECK(best(t, "com.example.add") == -1);
  CHECK(t.empty());
  CHECK(t.node_count() == 0);
}

TEST_CASE("uri_trie: prefix and wildcard insert, find, erase address the pattern itself") {
  uri_trie<int> t;
  CHECK(t.insert("com.app.", prefix, 1).second);
  CHECK(t.insert("com.app", prefix, 2).second);
  CHECK(t.insert("com..x", wildcard, 3).second);
  CHECK(t.insert("com.app.x", wildcard, 4).second);  // no empty component: still a wildcard entry
  CHECK(t.size() == 4);
  CHECK(*t.find("com.app.", prefix) == 1);
  CHECK(*t.find("com.app", prefix) == 2);
  CHECK(t.find("com.ap", prefix) == nullptr);     // inside an edge of the radix trie
  CHECK(t.find("com.app.x", prefix) == nullptr);  // matches, but is not stored
  CHECK(*t.find("com..x", wildcard) == 3);
  CHECK(*t.find("com.app.x", wildcard) == 4);
  CHECK(t.find("com.app.x", exact) == nullptr);
  CHECK(t.find("com..", wildcard) == nullptr);
  CHECK(t.find("com.", wildcard) == nullptr);
  CHECK(t.find("com", wildcard) == nullptr);

  CHECK_FALSE(t.erase("com.ap", prefix));
  CHECK_FALSE(t.erase("com.", wildcard));
  CHECK_FALSE(t.erase("com..x", prefix));
  CHECK(t.size() == 4);
  CHECK(t.erase("com.app", prefix));
  CHECK(*t.find("com.app.", prefix) == 1);
  CHECK(t.erase("com..x", wildcard));
  CHECK(*t.find("com.app.x", wildcard) == 4);
  CHECK(t.size() == 2);
}

TEST_CASE("uri_trie: inserting an existing key returns inserted=false and the old value") {
  uri_trie<std::string> t;
  for (const auto policy : {exact, prefix, wildcard}) {
    CAPTURE(to_string(policy));
    const auto first = t.insert("com.a.b", policy, "old");
    CHECK(first.second);
    const auto again = t.insert("com.a.b", policy, "new");
    CHECK_FALSE(again.second);
    CHECK(again.first == first.first);
    CHECK(*again.first == "old");
  }
  // The same pattern under three policies is three entries.
  CHECK(t.size() == 3);
}

TEST_CASE("uri_trie: prefix matching is by characters (spec §2.8 example)") {
  uri_trie<int> t;
  t.insert("com.myapp.myobject1", prefix, 1);
  CHECK(best(t, "com.myapp.myobject1-mysubobject1") == 1);
  CHECK(best(t, "com.myapp.myobject1") == 1);  // a prefix equal to the URI matches
  CHECK(best(t, "com.myapp.myobject1.x") == 1);
  CHECK(best(t, "com.myapp.myobject") == -1);
  CHECK(best(t, "com.myapp.myobject2") == -1);
  CHECK(best(t, "org.myapp.myobject1") == -1);

  t.insert("com.other.", prefix, 2);  // ends with '.': needs a further component
  CHECK(best(t, "com.other.x") == 2);
  CHECK(best(t, "com.other") == -1);
  CHECK(best(t, "com.otherwise") == -1);
}

TEST_CASE("uri_trie: the longest matching prefix wins") {
  uri_trie<int> t;
  t.insert("com", prefix, 1);
  t.insert("com.app.", prefix, 3);
  t.insert("com.app", prefix, 2);
  t.insert("com.app.x.y", prefix, 4);
  t.insert("com.apple", prefix, 5);
  CHECK(best(t, "com.app.x") == 3);
  CHECK(best(t, "com.app.x.y.z") == 4);
  CHECK(best(t, "com.app.x.z") == 3);
  CHECK(best(t, "com.apps") == 2);
  CHECK(best(t, "com.apple.pie") == 5);
  CHECK(best(t, "com.ap") == 1);
  CHECK(best(t, "co") == -1);
  CHECK(sorted_values(t, "com.app.x.y") == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("uri_trie: a wildcard matches one component; component counts must be equal") {
  uri_trie<int> t;
  t.insert("com.myapp..myprocedure1", wildcard, 1);
  CHECK(best(t, "com.myapp.x.myprocedure1") == 1);
  CHECK(best(t, "com.myapp.y.myprocedure1") == 1);
  CHECK(best(t, "com.myapp.x.myprocedure1.y") == -1);
  CHECK(best(t, "com.myapp.myprocedure1") == -1);
  CHECK(best(t, "com.myapp.x.y.myprocedure1") == -1);
  CHECK(best(t, "com.myapp.x.myprocedure2") == -1);
  CHECK(best(t, "com.myapp.x.myprocedure") == -1);  // components, not characters
}

TEST_CASE("uri_trie: wildcard precedence, spec §2.8 examples") {
  uri_trie<int> t;
  t.insert("a1.b2..d4.e5", wildcard, 1);
  t.insert("a1.b2.c33..e5", wildcard, 2);
  CHECK(best(t, "a1.b2.c33.d4.e5") == 2);
  CHECK(best(t, "a1.b2.c99.d4.e5") == 1);  // only the first matches

  uri_trie<int> u;
  u.insert("a1.b2..d4..f6.g7", wildcard, 1);
  u.insert("a1.b2..d4.e5..g7", wildcard, 2);
  CHECK(best(u, "a1.b2.c88.d4.e5.f6.g7") == 2);
  CHECK(best(u, "a1.b2.c88.d4.e9.f6.g7") == 1);

  // Insertion order does not matter.
  uri_trie<int> v;
  v.insert("a1.b2.c33..e5", wildcard, 2);
  v.insert("a1.b2..d4.e5", wildcard, 1);
  CHECK(best(v, "a1.b2.c33.d4.e5") == 2);

  // The run after the last wildcard counts too.
  uri_trie<int> w;
  w.insert("a..c.", wildcard, 1);
  w.insert("a..c.d", wildcard, 2);
  w.insert("...d", wildcard, 3);
  CHECK(best(w, "a.b.c.d") == 2);
  CHECK(best(w, "a.b.c.e") == 1);
  CHECK(best(w, "x.b.c.d") == 3);
  // Backtracking: the literal branch a.b matches nothing of this length, the wildcard one does.
  w.insert("a.b.c.d.e", wildcard, 4);
  w.insert("a..c.d.f", wildcard, 5);
  CHECK(best(w, "a.b.c.d.f") == 5);
}

TEST_CASE("uri_trie: exact beats prefix beats wildcard") {
  uri_trie<int> t;
  t.insert("com.app.add", wildcard, 3);
  CHECK(best(t, "com.app.add") == 3);
  t.insert("com.app.", prefix, 2);
  CHECK(best(t, "com.app.add") == 2);
  t.insert("com.app.add", exact, 1);
  CHECK(best(t, "com.app.add") == 1);
  // A short prefix still beats a literal-only wildcard.
  t.insert("c", prefix, 4);
  t.insert("com.app.sub", wildcard, 5);
  CHECK(best(t, "com.app.sub") == 2);
  t.erase("com.app.", prefix);
  CHECK(best(t, "com.app.sub") == 4);
  t.erase("c", prefix);
  CHECK(best(t, "com.app.sub") == 5);
}

TEST_CASE("uri_trie: for_each_match reports every match once, with its policy") {
  uri_trie<int> t;
  t.insert("com.app.add", exact, 1);
  t.insert("com", prefix, 2);
  t.insert("com.app.", prefix, 3);
  t.insert("com.app.add", prefix, 4);
  t.insert("com.app.add", wildcard, 5);
  t.insert("com..add", wildcard, 6);
  t.insert("..", wildcard, 7);
  t.insert("com.app.", wildcard, 8);
  // Not matching:
  t.insert("com.app.ad", exact, 10);
  t.insert("com.app.add.", prefix, 11);
  t.insert("com..", prefix, 12);
  t.insert("com.app", wildcard, 13);
  t.insert("com.app.add.", wildcard, 14);
  t.insert("org..add", wildcard, 15);

  const auto m = matches(t, "com.app.add");
  const std::vector<std::pair<int, match_policy>> want{{1, exact},    {2, prefix},   {3, prefix},
                                                       {4, prefix},   {5, wildcard}, {8, wildcard},
                                                       {6, wildcard}, {7, wildcard}};
  CHECK(m == want);  // exact, prefixes shortest first, wildcards most specific first
  CHECK(sorted_values(t, "org.app.add") == std::vector<int>{7, 15});
  CHECK(matches(t, "net.x").empty());
}

TEST_CASE("uri_trie: erase keeps the others matching and prunes every emptied node") {
  uri_trie<int> t;
  const std::vector<std::pair<std::string, match_policy>> keys{
      {"com.app.add", exact},   {"com.app.sub", exact}, {"com.app.", prefix},
      {"com.app.a", prefix},    {"com.apple", prefix},  {"com.app.add.x", prefix},
      {"com..add", wildcard},   {"com.app.", wildcard}, {"..", wildcard},
      {"com.app.add", wildcard}};
  int n = 0;
  for (const auto& [p, policy] : keys) t.insert(p, policy, ++n);
  CHECK(t.size() == keys.size());
  const std::size_t full = t.node_count();

  CHECK(t.erase("com.app.", prefix));
  CHECK(best(t, "com.app.b") == 8);
  CHECK(best(t, "com.app.add") == 1);
  CHECK(best(t, "com.app.ax") == 4);
  CHECK(best(t, "com.apples") == 5);
  CHECK(t.erase("com.app.add", exact));
  CHECK(best(t, "com.app.add") == 4);
  CHECK(t.erase("com.app.a", prefix));
  CHECK(best(t, "com.app.add") == 10);
  CHECK(t.erase("com.app.add", wildcard));
  CHECK(best(t, "com.app.add") == 8);
  CHECK(best(t, "com.x.add") == 7);
  CHECK(sorted_values(t, "com.app.add.x") == std::vector<int>{6});
  CHECK(t.node_count() < full);

  for (const auto& [p, policy] : keys) t.erase(p, policy);
  CHECK(t.size() == 0);
  CHECK(t.empty());
  CHECK(t.node_count() == 0);
  for (const auto& [p, policy] : keys) {
    CHECK(t.best_match(p) == nullptr);
    CHECK(matches(t, p).empty());
  }
  // Usable again after being emptied.
  t.insert("com.app.", prefix, 42);
  CHECK(best(t, "com.app.x") == 42);
}

TEST_CASE("uri_trie: the prefix trie merges a pass-through node left by an erase") {
  uri_trie<int> t;
  t.insert("com.app.a", prefix, 1);
  t.insert("com.app.b", prefix, 2);
  CHECK(t.node_count() == 3);  // "com.app." → {"a", "b"}
  t.insert("com.app.", prefix, 3);
  CHECK(t.node_count() == 3);  // the split node now holds a value
  t.insert("com.ap", prefix, 4);
  CHECK(t.node_count() == 4);  // "com.ap" → "p." → {"a", "b"}
  CHECK(t.erase("com.app.", prefix));
  CHECK(t.erase("com.ap", prefix));
  CHECK(t.node_count() == 3);
  CHECK(t.erase("com.app.a", prefix));
  CHECK(t.node_count() == 1);  // "com.app." folded into "b"
  CHECK(best(t, "com.app.b") == 2);
  CHECK(best(t, "com.app.") == -1);
  CHECK(*t.find("com.app.b", prefix) == 2);
}

TEST_CASE("uri_trie: several empty components, leading, trailing and consecutive") {
  uri_trie<int> t;
  t.insert(".b.c", wildcard, 1);
  t.insert("a.b.", wildcard, 2);
  t.insert("a...d", wildcard, 3);
  t.insert("..", wildcard, 4);
  t.insert(".", wildcard, 5);
  t.insert("...", wildcard, 6);
  CHECK(best(t, "x.b.c") == 1);
  CHECK(best(t, "a.b.c") == 2);  // a literal first component beats a leading wildcard
  CHECK(best(t, "a.b.x") == 2);
  CHECK(best(t, "a.x.y.d") == 3);
  CHECK(best(t, "x.y.z") == 4);
  CHECK(best(t, "x.y") == 5);
  CHECK(best(t, "w.x.y.z") == 6);
  CHECK(best(t, "x") == -1);
  CHECK(best(t, "v.w.x.y.z") == -1);
  CHECK(sorted_values(t, "a.b.c") == std::vector<int>{1, 2, 4});
  CHECK(*t.find("a...d", wildcard) == 3);
  CHECK(t.find("a..d", wildcard) == nullptr);
  CHECK(t.erase("..", wildcard));
  CHECK(best(t, "x.y.z") == -1);
  CHECK(best(t, "x.y") == 5);  // its prefix node "." survives
  CHECK(best(t, "w.x.y.z") == 6);
}

TEST_CASE("uri_trie: values stay at their address while other entries come and go") {
  uri_trie<int> t;
  int* e = t.insert("com.app.add", exact, 1).first;
  int* p = t.insert("com.app.add", prefix, 2).first;
  int* w = t.insert("com..add", wildcard, 3).first;
  for (int i = 0; i < 2000; ++i) {  // rehashes, radix splits above p, new wildcard siblings
    const std::string s = std::to_string(i);
    t.insert("com.app.add" + s, exact, i);
    t.insert("com.app.ad" + s, prefix, i);
    t.insert("com.app.a", prefix, i);
    t.insert("com." + s + ".add", wildcard, i);
  }
  for (int i = 0; i < 2000; ++i) {  // and merges and prunes
    const std::string s = std::to_string(i);
    t.erase("com.app.add" + s, exact);
    t.erase("com.app.ad" + s, prefix);
    t.erase("com.app.a", prefix);
    t.erase("com." + s + ".add", wildcard);
  }
  CHECK(t.find("com.app.add", exact) == e);
  CHECK(t.find("com.app.add", prefix) == p);
  CHECK(t.find("com..add", wildcard) == w);
  CHECK(*e == 1);
  CHECK(*p == 2);
  CHECK(*w == 3);
  CHECK(t.size() == 3);
}

TEST_CASE("uri_trie: for_each lists every entry with its pattern and policy") {
  uri_trie<int> t;
  const std::vector<std::tuple<std::string, match_policy, int>> want_unsorted{
      {"com.app.add", exact, 1}, {"com.app", prefix, 2}, {"com.app.", prefix, 3},
      {"com.apple", prefix, 4},  {".b.c", wildcard, 5},  {"a.b.", wildcard, 6},
      {"..", wildcard, 7},       {"a.b", wildcard, 8},   {".", wildcard, 9}};
  for (const auto& [p, policy, v] : want_unsorted) t.insert(p, policy, v);
  std::vector<std::tuple<std::string, match_policy, int>> got;
  t.for_each([&](std::string_view p, match_policy policy, int& v) {
    got.emplace_back(std::string(p), policy, v);
  });
  auto want = want_unsorted;
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  CHECK(got == want);
}

TEST_CASE("uri_trie: the const overloads see the same entries") {
  uri_trie<int> t;
  t.insert("com.app.add", exact, 1);
  t.insert("com.app.", prefix, 2);
  t.insert("com..add", wildcard, 3);
  const uri_trie<int>& ct = t;
  REQUIRE(ct.best_match("com.app.add") != nullptr);
  CHECK(*ct.best_match("com.app.add") == 1);
  CHECK(*ct.best_match("com.x.add") == 3);
  CHECK(ct.best_match("org.x") == nullptr);
  std::vector<std::pair<int, match_policy>> seen;
  ct.for_each_match("com.app.add", [&](const int& v, match_policy p) { seen.emplace_back(v, p); });
  CHECK(seen == matches(t, "com.app.add"));
  int listed = 0;
  ct.for_each([&](std::string_view, match_policy, const int&) { ++listed; });
  CHECK(listed == 3);
}

TEST_CASE("uri_trie: randomized cross-check against a linear scan of the spec's rules") {
  for (const unsigned seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    generator gen(seed);
    uri_trie<int> t;
    reference ref;
    int next = 0;
    int duplicates = 0;
    for (int i = 0; i < 3000; ++i) {
      const auto [p, policy] = gen.pattern();
      const bool fresh = ref.find(p, policy) == nullptr;
      const auto [v, inserted] = t.insert(p, policy, next);
      REQUIRE(inserted == fresh);
      if (fresh) {
        ref.entries.push_back({p, policy, next});
      } else {
        ++duplicates;
        CHECK(*v == ref.find(p, policy)->value);
      }
      ++next;
    }
    CHECK(duplicates > 0);  // the alphabet is small enough for keys to repeat
    cross_check(t, ref, gen, 2000);

    // Every entry is listed once by for_each.
    std::vector<int> listed;
    t.for_each([&](std::string_view p, match_policy policy, int& v) {
      const auto* e = ref.find(std::string(p), policy);
      REQUIRE(e != nullptr);
      CHECK(e->value == v);
      listed.push_back(v);
    });
    std::sort(listed.begin(), listed.end());
    CHECK(std::adjacent_find(listed.begin(), listed.end()) == listed.end());
    CHECK(listed.size() == ref.entries.size());

    // Erase about half (and some absent keys), then check again.
    for (int i = 0; i < 3000; ++i) {
      const auto [p, policy] = gen.pattern();
      CHECK(t.erase(p, policy) == ref.erase(p, policy));
    }
    cross_check(t, ref, gen, 2000);

    // Erase the rest: nothing matches and nothing is left allocated.
    for (const auto& e : ref.entries) CHECK(t.erase(e.pattern, e.policy));
    ref.entries.clear();
    CHECK(t.empty());
    CHECK(t.node_count() == 0);
    cross_check(t, ref, gen, 200);
  }
}
