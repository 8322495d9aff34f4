// realm/uri_trie.hpp — the pattern store behind the dealer's registrations and the broker's
// subscriptions: one value per (pattern, match policy), and the two matching rules of the spec
// (advanced/rpc_pattern_based_registration, pubsub_pattern_based_subscription; reference §2.8,
// §2.9): the dealer routes a CALL to the one best match, the broker delivers to every match.
//
// One index per policy, each walked in proportion to the URI's length, never to the number of
// stored patterns (DESIGN.md §4; Nexus scans its pattern lists on every call, and
// docs/PERFORMANCE.md "URI matching" measures the difference):
//   exact     a hash map, pattern → value;
//   prefix    a path-compressed character (radix) trie: the spec matches prefixes by characters,
//             not components — `com.myapp.myobject1` matches `com.myapp.myobject1-mysubobject1`;
//   wildcard  a component trie whose nodes have one extra child for the empty component, which
//             matches any single component (NATS's sublist does the same for `*`).
//
// Lookups do not allocate. A value stays at its address until its own entry is erased, so callers
// may keep the T* that insert returns. Erasing prunes every node left holding nothing, so memory
// follows what is stored. Input is assumed valid: callers check is_valid_uri with the policy's
// uri_form first. Not thread-safe: it lives in a realm, which is called serially (DESIGN.md §1).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "realm/uri.hpp"

namespace junction {
namespace detail {

// std::string → V, looked up by string_view without building a std::string (C++17's
// unordered_map has no heterogeneous lookup; C++20's does). The keys are views into strings held
// beside the values in the table's own nodes: one allocation fewer per entry than a node pointing
// to a separate {key, value} (lookups measured the same either way). Nodes never move, not even
// on rehash, so neither do the views nor the values.
template <class V>
class string_map {
 public:
  V* find(std::string_view key) noexcept {
    const auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second.value;
  }
  const V* find(std::string_view key) const noexcept {
    const auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second.value;
  }

  // Constructs V(args...) under key unless key is present; the args are untouched then.
  template <class... Args>
  std::pair<V*, bool> try_emplace(std::string_view key, Args&&... args) {
    if (V* v = find(key)) return {v, false};
    // The node is built keyed by the caller's view, then re-keyed to its own copy: a node
    // handle's key() is the standard's way to change a key without reallocating the node. (Should
    // the re-insert throw, the handle frees the node and the map is as before.)
    auto nh =
        map_.extract(map_.try_emplace(key, std::string(key), std::forward<Args>(args)...).first);
    nh.key() = nh.mapped().key;
    return {&map_.insert(std::move(nh)).position->second.value, true};
  }

  bool erase(std::string_view key) {
    const auto it = map_.find(key);
    if (it == map_.end()) return false;
    map_.erase(it);
    // unordered_map never gives buckets back on erase; after most entries are gone, shrink so the
    // bucket array follows what is stored (amortised: it takes many erases to get here again).
    if (map_.bucket_count() > 64 && map_.size() * 8 < map_.bucket_count()) map_.rehash(0);
    return true;
  }

  // fn(std::string_view key, V&) for every entry, in no particular order.
  template <class F>
  void for_each(F&& fn) {
    for (auto& kv : map_) fn(kv.first, kv.second.value);
  }
  template <class F>
  void for_each(F&& fn) const {
    for (const auto& kv : map_) fn(kv.first, kv.second.value);
  }

  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }
  [[nodiscard]] bool empty() const noexcept { return map_.empty(); }

 private:
  struct slot {
    template <class... Args>
    explicit slot(std::string k, Args&&... args)
        : key(std::move(k)), value(std::forward<Args>(args)...) {}
    std::string key;  // what the table's string_view key points into
    V value;
  };
  std::unordered_map<std::string_view, slot> map_;
};

// Prefix patterns: a radix trie over characters. A node's full key is the concatenation of the
// edge labels from the root; a lookup walks the URI once and meets every stored prefix of it on
// the way, shortest first. Invariant (restored by erase): every node but the root holds a value
// or has at least two children, so there are fewer nodes than twice the entries.
template <class V>
class prefix_trie {
 public:
  std::pair<V*, bool> insert(std::string_view key, V&& value) {
    node* n = &root_;
    std::size_t pos = 0;
    for (;;) {
      if (pos == key.size()) {
        if (n->value) return {&*n->value, false};
        n->value.emplace(std::move(value));
        return {&*n->value, true};
      }
      const std::size_t i = n->child_index(key[pos]);
      if (i == npos) {
        auto leaf = std::make_unique<node>();
        leaf->label = std::string(key.substr(pos));
        leaf->value.emplace(std::move(value));
        V* v = &*leaf->value;
        n->add_child(std::move(leaf));
        return {v, true};
      }
      node& c = *n->children[i];
      const std::size_t common = common_length(c.label, key.substr(pos));
      if (common < c.label.size()) {
        // The key leaves c's edge midway: a new node takes c's place and owns the shared part, c
        // keeps the rest of its label (and its value, which so stays where it was).
        auto mid = std::make_unique<node>();
        mid->label = c.label.substr(0, common);
        mid->children.reserve(2);
        mid->firsts.reserve(2);
        c.label.erase(0, common);
        mid->firsts.push_back(c.label[0]);
        mid->children.push_back(std::move(n->children[i]));
        n->children[i] = std::move(mid);
      }
      n = n->children[i].get();
      pos += common;
    }
  }

  V* find(std::string_view key) noexcept {
    node* n = &root_;
    while (!key.empty()) {
      const std::size_t i = n->child_index(key[0]);
      if (i == npos || !starts_with(key, n->children[i]->label)) return nullptr;
      key.remove_prefix(n->children[i]->label.size());
      n = n->children[i].get();
    }
    return n->value ? &*n->value : nullptr;
  }

  bool erase(std::string_view key) {
    if (key.empty()) {
      if (!root_.value) return false;
      root_.value.reset();
      return true;
    }
    return erase_in(root_, key);
  }

  // fn(V&) for every stored key that is a prefix of s (s itself included), shortest first.
  template <class F>
  void for_each_prefix_of(std::string_view s, F&& fn) {
    node* n = &root_;
    for (;;) {
      if (n->value) fn(*n->value);
      if (s.empty()) return;
      const std::size_t i = n->child_index(s[0]);
      if (i == npos || !starts_with(s, n->children[i]->label)) return;
      s.remove_prefix(n->children[i]->label.size());
      n = n->children[i].get();
    }
  }

  V* longest_prefix_of(std::string_view s) noexcept {
    V* best = nullptr;
    for_each_prefix_of(s, [&](V& v) { best = &v; });
    return best;
  }

  // fn(std::string_view key, V&) for every entry.
  template <class F>
  void for_each(F&& fn) {
    std::string key;
    for_each_in(root_, key, fn);
  }

  [[nodiscard]] bool empty() const noexcept { return !root_.value && root_.children.empty(); }
  [[nodiscard]] std::size_t node_count() const noexcept { return count_in(root_) - 1; }

 private:
  static constexpr std::size_t npos = std::string::npos;

  struct node {
    std::string label;  // the characters on the edge from the parent; empty only for the root
    std::optional<V> value;
    // firsts[i] == children[i]->label[0]: labels of siblings start with distinct characters, so
    // one character picks the only child that can continue. memchr over at most 256 bytes.
    std::string firsts;
    std::vector<std::unique_ptr<node>> children;

    std::size_t child_index(char c) const noexcept { return firsts.find(c); }
    void add_child(std::unique_ptr<node> c) {
      children.reserve(children.size() + 1);  // both pushes succeed or neither happens
      firsts.push_back(c->label[0]);
      children.push_back(std::move(c));
    }
  };

  static bool starts_with(std::string_view s, std::string_view p) noexcept {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
  }
  static std::size_t common_length(std::string_view a, std::string_view b) noexcept {
    std::size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    return i;
  }

  // Erases key (relative to n, non-empty) below n, then prunes or merges the child it went
  // through so the invariant above holds again.
  static bool erase_in(node& n, std::string_view key) {
    const std::size_t i = n.child_index(key[0]);
    if (i == npos || !starts_with(key, n.children[i]->label)) return false;
    node& c = *n.children[i];
    const std::string_view rest = key.substr(c.label.size());
    if (rest.empty()) {
      if (!c.value) return false;
      c.value.reset();
    } else if (!erase_in(c, rest)) {
      return false;
    }
    if (c.value) return true;
    if (c.children.empty()) {  // holds nothing: unlink it
      n.children[i] = std::move(n.children.back());
      n.children.pop_back();
      n.firsts[i] = n.firsts.back();
      n.firsts.pop_back();
    } else if (c.children.size() == 1) {  // a bare pass-through: fold it into its only child
      std::string merged = c.label + c.children[0]->label;
      std::unique_ptr<node> grandchild = std::move(c.children[0]);
      grandchild->label.swap(merged);
      n.children[i] = std::move(grandchild);  // same first character: firsts[i] stays
    }
    return true;
  }

  template <class F>
  static void for_each_in(node& n, std::string& key, F& fn) {
    const std::size_t mark = key.size();
    key += n.label;
    if (n.value) fn(std::string_view(key), *n.value);
    for (auto& c : n.children) for_each_in(*c, key, fn);
    key.resize(mark);
  }

  static std::size_t count_in(const node& n) noexcept {
    std::size_t count = 1;
    for (const auto& c : n.children) count += count_in(*c);
    return count;
  }

  node root_;
};

// Wildcard patterns: a trie over components. A node at depth d stands for the first d
// components of a pattern; an empty component goes to the node's wildcard child, every other
// one to its literal children. Only nodes reached after all of a URI's components can match it,
// which is the spec's "component counts must be equal".
template <class V>
class wildcard_trie {
 public:
  std::pair<V*, bool> insert(std::string_view pattern, V&& value) {
    node* n = &root_;
    for (std::size_t pos = 0; pos <= pattern.size();) {
      const std::string_view component = component_at(pattern, pos);
      pos += component.size() + 1;
      if (!component.empty()) {
        std::unique_ptr<node>* child = n->children.find(component);
        if (!child) child = n->children.try_emplace(component, std::make_unique<node>()).first;
        n = child->get();
      } else {
        if (!n->wildcard) n->wildcard = std::make_unique<node>();
        n = n->wildcard.get();
      }
    }
    if (n->value) return {&*n->value, false};
    n->value.emplace(std::move(value));
    return {&*n->value, true};
  }

  V* find(std::string_view pattern) noexcept {
    node* n = &root_;
    for (std::size_t pos = 0; n && pos <= pattern.size();) {
      const std::string_view component = component_at(pattern, pos);
      pos += component.size() + 1;
      if (component.empty()) {
        n = n->wildcard.get();
      } else {
        std::unique_ptr<node>* child = n->children.find(component);
        n = child ? child->get() : nullptr;
      }
    }
    return n && n->value ? &*n->value : nullptr;
  }

  bool erase(std::string_view pattern) { return erase_in(root_, pattern, 0); }

  // The spec's precedence between wildcard patterns matching one URI: the longest run of literal
  // components before the first wildcard wins, then before the second, and so on. For patterns
  // of equal length that is the order in which a literal beats a wildcard at the first position
  // where the two differ — so a depth-first walk that tries the literal child before the
  // wildcard child meets the best match first and can stop there.
  V* best_match(std::string_view uri) noexcept {
    return empty() ? nullptr : best_in(root_, uri, 0);
  }

  // fn(V&) for every pattern matching uri, most specific first (the order of best_match).
  template <class F>
  void for_each_match(std::string_view uri, F&& fn) {
    if (!empty()) each_in(root_, uri, 0, fn);
  }

  // fn(std::string_view pattern, V&) for every entry.
  template <class F>
  void for_each(F&& fn) {
    std::string pattern;
    for_each_in(root_, pattern, 0, fn);
  }

  [[nodiscard]] bool empty() const noexcept { return root_.holds_nothing(); }
  [[nodiscard]] std::size_t node_count() const noexcept { return count_in(root_) - 1; }

 private:
  struct node {
    // Literal components. Children sit behind a pointer: a node cannot hold a map of nodes by
    // value (standard containers other than vector and lists take no incomplete types).
    string_map<std::unique_ptr<node>> children;
    std::unique_ptr<node> wildcard;  // the empty component: matches any one component
    std::optional<V> value;          // a pattern ends here

    bool holds_nothing() const noexcept { return !value && !wildcard && children.empty(); }
  };

  // The component of s that starts at pos (pos <= s.size()); the next one starts at
  // pos + size + 1, and pos > s.size() means all are consumed. Empty components count: "a." has
  // two, "." has two, "a..b" three.
  static std::string_view component_at(std::string_view s, std::size_t pos) noexcept {
    const std::size_t dot = s.find('.', pos);
    return s.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
  }

  static V* best_in(node& n, std::string_view uri, std::size_t pos) noexcept {
    if (pos > uri.size()) return n.value ? &*n.value : nullptr;
    const std::string_view component = component_at(uri, pos);
    const std::size_t next = pos + component.size() + 1;
    if (const auto* literal = n.children.find(component))
      if (V* v = best_in(**literal, uri, next)) return v;
    return n.wildcard ? best_in(*n.wildcard, uri, next) : nullptr;
  }

  template <class F>
  static void each_in(node& n, std::string_view uri, std::size_t pos, F& fn) {
    if (pos > uri.size()) {
      if (n.value) fn(*n.value);
      return;
    }
    const std::string_view component = component_at(uri, pos);
    const std::size_t next = pos + component.size() + 1;
    if (const auto* literal = n.children.find(component)) each_in(**literal, uri, next, fn);
    if (n.wildcard) each_in(*n.wildcard, uri, next, fn);
  }

  // Erases below n, then drops the child it went through if that now holds nothing.
  static bool erase_in(node& n, std::string_view pattern, std::size_t pos) {
    if (pos > pattern.size()) {
      if (!n.value) return false;
      n.value.reset();
      return true;
    }
    const std::string_view component = component_at(pattern, pos);
    const std::size_t next = pos + component.size() + 1;
    if (component.empty()) {
      if (!n.wildcard || !erase_in(*n.wildcard, pattern, next)) return false;
      if (n.wildcard->holds_nothing()) n.wildcard.reset();
      return true;
    }
    std::unique_ptr<node>* literal = n.children.find(component);
    if (!literal || !erase_in(**literal, pattern, next)) return false;
    if ((*literal)->holds_nothing()) n.children.erase(component);
    return true;
  }

  // pattern holds the first `depth` components joined by '.'.
  template <class F>
  static void for_each_in(node& n, std::string& pattern, std::size_t depth, F& fn) {
    if (n.value) fn(std::string_view(pattern), *n.value);
    const std::size_t mark = pattern.size();
    const auto descend = [&](std::string_view component, node& child) {
      if (depth > 0) pattern += '.';
      pattern += component;
      for_each_in(child, pattern, depth + 1, fn);
      pattern.resize(mark);
    };
    n.children.for_each(
        [&](std::string_view c, std::unique_ptr<node>& child) { descend(c, *child); });
    if (n.wildcard) descend(std::string_view(), *n.wildcard);
  }

  static std::size_t count_in(const node& n) noexcept {
    std::size_t count = 1;
    n.children.for_each(
        [&](std::string_view, const std::unique_ptr<node>& c) { count += count_in(*c); });
    if (n.wildcard) count += count_in(*n.wildcard);
    return count;
  }

  node root_;
};

}  // namespace detail

// Stores one T per (pattern, match_policy); see the top of this file.
template <class T>
class uri_trie {
 public:
  // Inserts if absent. Returns the stored value and whether it was inserted; when it was not,
  // `value` is dropped and the old value is returned untouched.
  std::pair<T*, bool> insert(std::string_view pattern, match_policy policy, T value) {
    std::pair<T*, bool> r{nullptr, false};
    switch (policy) {
      case match_policy::exact:
        r = exact_.try_emplace(pattern, std::move(value));
        break;
      case match_policy::prefix:
        r = prefix_.insert(pattern, std::move(value));
        break;
      case match_policy::wildcard:
        r = wildcard_.insert(pattern, std::move(value));
        break;
    }
    if (r.second) ++size_;
    return r;
  }

  // The entry stored under exactly this (pattern, policy); no matching.
  T* find(std::string_view pattern, match_policy policy) noexcept {
    switch (policy) {
      case match_policy::exact:
        return exact_.find(pattern);
      case match_policy::prefix:
        return prefix_.find(pattern);
      case match_policy::wildcard:
        return wildcard_.find(pattern);
    }
    return nullptr;
  }
  // Lookups only read: the const overloads here and below share the non-const code.
  const T* find(std::string_view pattern, match_policy policy) const noexcept {
    return const_cast<uri_trie*>(this)->find(pattern, policy);
  }

  // Removes the entry and every node that no longer leads to one. False if it was absent.
  bool erase(std::string_view pattern, match_policy policy) {
    bool erased = false;
    switch (policy) {
      case match_policy::exact:
        erased = exact_.erase(pattern);
        break;
      case match_policy::prefix:
        erased = prefix_.erase(pattern);
        break;
      case match_policy::wildcard:
        erased = wildcard_.erase(pattern);
        break;
    }
    if (erased) --size_;
    return erased;
  }

  // The dealer's rule (spec §2.8: a CALL goes to exactly one registration): the exact entry;
  // else the prefix entry with the longest match; else the wildcard entry with the longest run of
  // literal components before each wildcard (component counts equal). nullptr if none matches.
  T* best_match(std::string_view uri) noexcept {
    if (T* v = exact_.find(uri)) return v;
    if (T* v = prefix_.longest_prefix_of(uri)) return v;
    return wildcard_.best_match(uri);
  }
  const T* best_match(std::string_view uri) const noexcept {
    return const_cast<uri_trie*>(this)->best_match(uri);
  }

  // The broker's rule (spec §2.9: an event goes to every matching subscription): fn(T&,
  // match_policy) once per matching entry — the exact one, then every prefix entry that is a
  // prefix of uri (shortest first), then every matching wildcard entry (in best_match's order).
  // fn must not insert or erase.
  template <class F>
  void for_each_match(std::string_view uri, F&& fn) {
    if (T* v = exact_.find(uri)) fn(*v, match_policy::exact);
    prefix_.for_each_prefix_of(uri, [&](T& v) { fn(v, match_policy::prefix); });
    wildcard_.for_each_match(uri, [&](T& v) { fn(v, match_policy::wildcard); });
  }
  // The same with fn(const T&, match_policy).
  template <class F>
  void for_each_match(std::string_view uri, F&& fn) const {
    const_cast<uri_trie*>(this)->for_each_match(
        uri, [&](T& v, match_policy p) { fn(std::as_const(v), p); });
  }

  // fn(std::string_view pattern, match_policy, T&) for every entry, in no particular order (the
  // meta API's list calls). The view is valid during the call only. fn must not insert or erase.
  template <class F>
  void for_each(F&& fn) {
    exact_.for_each([&](std::string_view p, T& v) { fn(p, match_policy::exact, v); });
    prefix_.for_each([&](std::string_view p, T& v) { fn(p, match_policy::prefix, v); });
    wildcard_.for_each([&](std::string_view p, T& v) { fn(p, match_policy::wildcard, v); });
  }
  // The same with fn(std::string_view pattern, match_policy, const T&).
  template <class F>
  void for_each(F&& fn) const {
    const_cast<uri_trie*>(this)->for_each(
        [&](std::string_view pat, match_policy p, T& v) { fn(pat, p, std::as_const(v)); });
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  // Exact entries plus trie nodes below the two roots: what memory is spent on. Zero when empty
  // (erase prunes); tests use it to check that.
  [[nodiscard]] std::size_t node_count() const noexcept {
    return exact_.size() + prefix_.node_count() + wildcard_.node_count();
  }

 private:
  detail::string_map<T> exact_;
  detail::prefix_trie<T> prefix_;
  detail::wildcard_trie<T> wildcard_;
  std::size_t size_ = 0;  // entries over all three policies
};

}  // namespace junction
