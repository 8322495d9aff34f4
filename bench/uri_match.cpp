// bench-uri-match — how the cost of matching a URI grows with the number of stored patterns:
// realm/uri_trie.hpp against a linear scan (docs/PERFORMANCE.md "URI matching"). No network.
//
// For N in {10 … 100,000} registrations (80 % exact, 10 % prefix, 10 % wildcard), times
// best_match (the dealer's rule) and for_each_match (the broker's) over a fixed, shuffled set of
// 4096 URIs that hit and miss in realistic proportion — "spread": consecutive lookups touch
// unrelated parts of the trie, so at large N most of them miss the CPU caches — and over the
// first 64 of them — "hot": the working set stays in cache, which leaves the work proper. For
// contrast, the same over a Nexus-style matcher (exact patterns in a hash map, prefix and wildcard
// patterns in lists scanned on every lookup). Before timing, both matchers must agree on every
// URI of the set (exit 1 otherwise). Figures are the median of --reps repetitions, in ns per
// lookup. Exit status: 0 ok, 1 the matchers disagree, 2 bad flags.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "realm/uri_trie.hpp"

using junction::match_policy;
using junction::uri_trie;

namespace {

const char* usage_text = R"(usage: bench-uri-match [flags]
  --quick          tiny runs (a smoke test, figures meaningless)
  --json           one JSON line per N instead of a markdown table
  --reps R         repetitions per figure, the median is reported (default 5; --quick 3)
  --lookups M      lookups per repetition (default 400000; --quick 2000)
  --linear-max N   time the linear scan up to N patterns (default 10000)
  -h, --help
)";

using value_t = std::uint64_t;  // a registration id, as in the dealer

struct pattern {
  std::string uri;
  match_policy policy;
  value_t value;
};

// ---- the contrast: what Nexus does (router/dealer.go, wamp/identifier.go) ---------------------

// For two wildcard patterns that match the same URI: is a more specific than b (a literal where
// b has a wildcard, at the first position where they differ)?
bool more_specific(std::string_view a, std::string_view b) noexcept {
  for (;;) {
    const std::size_t ad = a.find('.'), bd = b.find('.');
    const bool aw = a.substr(0, ad).empty(), bw = b.substr(0, bd).empty();
    if (aw != bw) return bw;
    if (ad == std::string_view::npos || bd == std::string_view::npos) return false;
    a.remove_prefix(ad + 1);
    b.remove_prefix(bd + 1);
  }
}

// The patterns must outlive it (its exact keys are views into them).
class linear_matcher {
 public:
  void insert(const pattern& p) {
    if (p.policy == match_policy::exact)
      exact_.emplace(p.uri, p.value);
    else
      (p.policy == match_policy::prefix ? prefix_ : wildcard_).push_back(p);
  }
  const value_t* best_match(std::string_view uri) const {
    if (const auto it = exact_.find(uri); it != exact_.end()) return &it->second;
    const pattern* best = nullptr;
    for (const auto& p : prefix_)
      if (uri.substr(0, p.uri.size()) == p.uri && (!best || p.uri.size() > best->uri.size()))
        best = &p;
    if (best) return &best->value;
    for (const auto& p : wildcard_)
      if (junction::wildcard_matches(p.uri, uri) && (!best || more_specific(p.uri, best->uri))) best = &p;
    return best ? &best->value : nullptr;
  }
  template <class F>
  void for_each_match(std::string_view uri, F&& fn) const {
    if (const auto it = exact_.find(uri); it != exact_.end()) fn(it->second);
    for (const auto& p : prefix_)
      if (uri.substr(0, p.uri.size()) == p.uri) fn(p.value);
    for (const auto& p : wildcard_)
      if (junction::wildcard_matches(p.uri, uri)) fn(p.value);
  }

 private:
  std::unordered_map<std::string_view, value_t> exact_;  // like Go's map[string]: no key copy
  std::vector<pattern> prefix_, wildcard_;
};

// ---- the workload ------------------------------------------------------------------------------

struct workload {
  std::vector<pattern> patterns;
  std::vector<std::string>
      uris;  // shuffled: 70 % exact hits, 10 % prefix, 10 % wildcard, 10 % miss
  std::size_t exact = 0, prefix = 0, wildcard = 0;
};

// Services with 16 methods each register exactly; some register a subtree by prefix
// (`com.example.svc7.admin.`, or a whole service, `com.example.svc6.`, which overlaps its exact
// procedures: for_each_match then finds two) or a wildcard (`com.example.svc7..get`: any
// object's getter; `com..svc7.events`: the service in any region, a wildcard early in the URI).
workload make_workload(std::size_t n, std::mt19937_64& rng) {
  workload w;
  w.prefix = std::max<std::size_t>(1, n / 10);
  w.wildcard = std::max<std::size_t>(2, n / 10);
  w.exact = n - w.prefix - w.wildcard;
  const auto num = [](std::size_t i) { return std::to_string(i); };
  value_t next = 1;
  for (std::size_t i = 0; i < w.exact; ++i)
    w.patterns.push_back(
        {"com.example.svc" + num(i / 16) + ".method" + num(i % 16), match_policy::exact, next++});
  for (std::size_t i = 0; i < w.prefix; ++i)
    w.patterns.push_back(
        {"com.example.svc" + num(i) + (i % 2 ? ".admin." : "."), match_policy::prefix, next++});
  for (std::size_t i = 0; i < w.wildcard; ++i)
    w.patterns.push_back(
        {i % 2 ? "com..svc" + num(i / 2) + ".events" : "com.example.svc" + num(i / 2) + "..get",
         match_policy::wildcard, next++});

  const auto below = [&](std::size_t k) {
    return std::uniform_int_distribution<std::size_t>(0, k - 1)(rng);
  };
  static const char* const regions[] = {"eu", "us", "example", "asia"};
  constexpr std::size_t uri_count = 4096;
  for (std::size_t i = 0; i < uri_count; ++i) {
    const std::size_t kind = below(10);
    if (kind < 7) {
      w.uris.push_back(w.patterns[below(w.exact)].uri);
    } else if (kind == 7) {
      w.uris.push_back("com.example.svc" + num(below(w.prefix)) + ".admin.reset" + num(below(8)));
    } else if (kind == 8) {
      const std::size_t s = below((w.wildcard + 1) / 2);
      w.uris.push_back(below(2)
                           ? "com." + std::string(regions[below(4)]) + ".svc" + num(s) + ".events"
                           : "com.example.svc" + num(s) + ".obj" + num(below(100)) + ".get");
    } else {  // misses: an unknown method, service or domain
      const std::size_t s = below(w.exact / 16 + 1);
      switch (below(3)) {
        case 0:
          w.uris.push_back("com.example.svc" + num(s) + ".method" + num(16 + below(16)));
          break;
        case 1:
          w.uris.push_back("com.example.svc" + num(s + 1000000) + ".method1");
          break;
        default:
          w.uris.push_back("org.other.svc" + num(s) + ".method1");
          break;
      }
    }
  }
  std::shuffle(w.uris.begin(), w.uris.end(), rng);
  return w;
}

// ---- timing ------------------------------------------------------------------------------------

volatile std::uint64_t sink;

// Bytes handed out by malloc and not yet freed; 0 where that is unknown (not glibc).
std::size_t heap_in_use() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  return mallinfo2().uordblks;
#else
  return 0;
#endif
}  // keeps the compiler from dropping the lookups

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// Median over reps of (time of `lookups` calls of op(uri)) / lookups, in ns.
template <class Op>
double time_per_lookup(const std::vector<std::string>& uris, std::size_t lookups, int reps, Op op) {
  std::vector<double> ns;
  for (int r = 0; r < reps; ++r) {
    std::uint64_t acc = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0, j = 0; i < lookups; ++i, j = j + 1 == uris.size() ? 0 : j + 1)
      acc += op(std::string_view(uris[j]));
    const auto t1 = std::chrono::steady_clock::now();
    sink = sink + acc;
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / double(lookups));
  }
  return median(ns);
}

struct row {
  std::size_t n = 0;
  const workload* w = nullptr;
  double hit_rate = 0, matches_per_uri = 0;
  std::size_t nodes = 0, lookups = 0, linear_lookups = 0;
  double insert_ns = 0, best_ns = 0, each_ns = 0, best_hot_ns = 0, each_hot_ns = 0;
  double bytes_per_pattern = 0;  // heap bytes per stored pattern (glibc's count; 0 elsewhere)
  std::optional<double> linear_best_ns, linear_each_ns;
};

std::string fmt_opt(const std::optional<double>& v, const char* none) {
  if (!v) return none;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", *v);
  return buf;
}

struct options {
  bool quick = false, json = false;
  int reps = 5;
  std::size_t lookups = 400000;
  std::size_t linear_max = 10000;
};

bool parse(int argc, char** argv, options& o) {
  bool reps_set = false, lookups_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto count = [&](long min) -> long {
      if (i + 1 >= argc) return -1;
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      return *end == '\0' && v >= min ? v : -1;
    };
    long v = 0;
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--reps" && (v = count(1)) > 0) {
      o.reps = int(v);
      reps_set = true;
    } else if (a == "--lookups" && (v = count(1)) > 0) {
      o.lookups = std::size_t(v);
      lookups_set = true;
    } else if (a == "--linear-max" && (v = count(0)) >= 0) {
      o.linear_max = std::size_t(v);
    } else {
      return false;
    }
  }
  if (o.quick) {
    if (!reps_set) o.reps = 3;
    if (!lookups_set) o.lookups = 2000;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "-h" || std::string_view(argv[i]) == "--help") {
      std::fputs(usage_text, stdout);
      return 0;
    }
  }
  if (!parse(argc, argv, o)) {
    std::fputs(usage_text, stderr);
    return 2;
  }

  std::mt19937_64 rng(42);
  std::vector<row> rows;
  std::vector<workload> workloads;
  workloads.reserve(5);
  for (const std::size_t n : {10u, 100u, 1000u, 10000u, 100000u}) {
    workloads.push_back(make_workload(n, rng));
    const workload& w = workloads.back();
    row r;
    r.n = n;
    r.w = &w;

    // Insert cost: build the trie reps times, keep the last.
    std::vector<double> insert_ns;
    uri_trie<value_t> trie;
    for (int rep = 0; rep < o.reps; ++rep) {
      trie = uri_trie<value_t>();
      const auto t0 = std::chrono::steady_clock::now();
      for (const auto& p : w.patterns) trie.insert(p.uri, p.policy, p.value);
      const auto t1 = std::chrono::steady_clock::now();
      insert_ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                          double(w.patterns.size()));
    }
    r.insert_ns = median(insert_ns);
    r.nodes = trie.node_count();
    {  // Memory (the unit tests check that erasing everything leaves no node).
      const std::size_t before = heap_in_use();
      uri_trie<value_t> t;
      for (const auto& p : w.patterns) t.insert(p.uri, p.policy, p.value);
      r.bytes_per_pattern = double(heap_in_use() - before) / double(w.patterns.size());
    }
    linear_matcher linear;
    for (const auto& p : w.patterns) linear.insert(p);

    // Both matchers must agree on every URI of the set (the linear one is slow: at 100,000
    // patterns, on a sample).
    const std::size_t checked = n <= o.linear_max ? w.uris.size() : 256;
    std::size_t hits = 0, matches = 0;
    for (std::size_t i = 0; i < checked; ++i) {
      const std::string& u = w.uris[i];
      const value_t* a = trie.best_match(u);
      const value_t* b = linear.best_match(u);
      std::vector<value_t> ma, mb;
      trie.for_each_match(u, [&](value_t& v, match_policy) { ma.push_back(v); });
      linear.for_each_match(u, [&](value_t v) { mb.push_back(v); });
      std::sort(ma.begin(), ma.end());
      std::sort(mb.begin(), mb.end());
      if ((a ? *a : 0) != (b ? *b : 0) || ma != mb) {
        std::fprintf(stderr,
                     "bench-uri-match: N=%zu: the trie and the linear scan disagree on %s\n", n,
                     u.c_str());
        return 1;
      }
      hits += a != nullptr;
      matches += ma.size();
    }
    r.hit_rate = double(hits) / double(checked);
    r.matches_per_uri = double(matches) / double(checked);

    r.lookups = o.lookups;
    r.best_ns = time_per_lookup(w.uris, o.lookups, o.reps, [&](std::string_view u) {
      const value_t* v = trie.best_match(u);
      return v ? *v : 0;
    });
    r.each_ns = time_per_lookup(w.uris, o.lookups, o.reps, [&](std::string_view u) {
      value_t sum = 0;
      trie.for_each_match(u, [&](value_t& v, match_policy) { sum += v; });
      return sum;
    });
    const std::vector<std::string> hot(w.uris.begin(), w.uris.begin() + 64);
    r.best_hot_ns = time_per_lookup(hot, o.lookups, o.reps, [&](std::string_view u) {
      const value_t* v = trie.best_match(u);
      return v ? *v : 0;
    });
    r.each_hot_ns = time_per_lookup(hot, o.lookups, o.reps, [&](std::string_view u) {
      value_t sum = 0;
      trie.for_each_match(u, [&](value_t& v, match_policy) { sum += v; });
      return sum;
    });
    if (n <= o.linear_max) {
      // Fewer lookups as N grows, so that the scan takes about as long at every N.
      r.linear_lookups =
          std::max<std::size_t>(std::min<std::size_t>(o.lookups, 2000), o.lookups * 10 / n);
      r.linear_lookups = std::min(r.linear_lookups, o.lookups);
      r.linear_best_ns = time_per_lookup(w.uris, r.linear_lookups, o.reps, [&](std::string_view u) {
        const value_t* v = linear.best_match(u);
        return v ? *v : 0;
      });
      r.linear_each_ns = time_per_lookup(w.uris, r.linear_lookups, o.reps, [&](std::string_view u) {
        value_t sum = 0;
        linear.for_each_match(u, [&](value_t v) { sum += v; });
        return sum;
      });
    }

    if (o.json) {
      std::printf(
          "{\"n\":%zu,\"exact\":%zu,\"prefix\":%zu,\"wildcard\":%zu,\"uris\":%zu,"
          "\"hit_rate\":%.3f,\"matches_per_uri\":%.3f,\"nodes\":%zu,\"bytes_per_pattern\":%.0f,"
          "\"reps\":%d,\"lookups\":%zu,"
          "\"insert_ns\":%.1f,\"best_match_ns\":%.1f,\"for_each_match_ns\":%.1f,"
          "\"best_match_hot_ns\":%.1f,\"for_each_match_hot_ns\":%.1f,"
          "\"linear_lookups\":%zu,\"linear_best_match_ns\":%s,\"linear_for_each_match_ns\":%s}\n",
          n, w.exact, w.prefix, w.wildcard, w.uris.size(), r.hit_rate, r.matches_per_uri, r.nodes,
          r.bytes_per_pattern, o.reps, r.lookups, r.insert_ns, r.best_ns, r.each_ns, r.best_hot_ns,
          r.each_hot_ns, r.linear_lookups, fmt_opt(r.linear_best_ns, "null").c_str(),
          fmt_opt(r.linear_each_ns, "null").c_str());
      std::fflush(stdout);
    }
    rows.push_back(r);
  }

  if (!o.json) {
    std::printf(
        "ns per lookup, median of %d repetitions of %zu lookups; spread: over %zu URIs (70 %% "
        "exact "
        "hits, 10 %% prefix, 10 %% wildcard, 10 %% misses), hot: over 64 of them%s\n\n",
        o.reps, o.lookups, rows.front().w->uris.size(), o.quick ? "; --quick" : "");
    std::printf(
        "| patterns N | exact / prefix / wildcard | trie nodes, bytes/pattern | best_match spread "
        "/ hot | "
        "for_each_match spread / hot | linear best_match | linear for_each_match | trie insert "
        "|\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    for (const auto& r : rows)
      std::printf(
          "| %zu | %zu / %zu / %zu | %zu, %.0f | %.1f / %.1f | %.1f / %.1f | %s | %s | %.1f |\n",
          r.n, r.w->exact, r.w->prefix, r.w->wildcard, r.nodes, r.bytes_per_pattern, r.best_ns,
          r.best_hot_ns, r.each_ns, r.each_hot_ns, fmt_opt(r.linear_best_ns, "–").c_str(),
          fmt_opt(r.linear_each_ns, "–").c_str(), r.insert_ns);
  }
  return 0;
}
