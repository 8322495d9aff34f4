#include "auth/authorizer.hpp"

#include <charconv>

namespace junction::auth {

role::role(const role_config& c) : name_(c.name), authorizer_(c.authorizer), authorizer_realm_(c.authorizer_realm) {
  for (const permission_config& p : c.permissions) {
    permission perm;
    perm.allow = {p.call, p.register_, p.publish, p.subscribe};
    perm.disclose_caller = p.disclose_caller;
    perm.disclose_publisher = p.disclose_publisher;
    // A repeated (uri, match) keeps the first (the loader refuses duplicates anyway).
    permissions_.insert(p.uri, p.match, perm);
  }
}

decision role::decide(std::string_view uri, action a) const noexcept {
  const permission* p = permissions_.best_match(uri);
  if (p == nullptr) return {};
  return {p->allow[static_cast<std::size_t>(a)], p->disclose_caller, p->disclose_publisher};
}

authorizer::authorizer(const realm_authorization& c) : config_(c) {
  for (const role_config& r : c.roles) roles_.emplace(r.name, std::make_unique<role>(r));
}

const role* authorizer::find(std::string_view name) const noexcept {
  auto it = roles_.find(std::string(name));
  return it == roles_.end() ? nullptr : it->second.get();
}

void authorizer_cache::make_key(std::string& k, std::string_view scope, std::string_view uri, action a) {
  k.clear();
  k.append(scope);
  k.push_back('\0');
  k.push_back(static_cast<char>('0' + static_cast<int>(a)));
  k.push_back('\0');
  k.append(uri);
}

std::optional<decision> authorizer_cache::probe(std::string_view scope, std::string_view uri, action a,
                                                std::uint64_t registration, clock::time_point now) {
  make_key(scratch_, scope, uri, a);  // the scratch key keeps a hit free of allocation
  auto it = map_.find(scratch_);
  if (it == map_.end()) return std::nullopt;
  if (it->second.registration != registration) {
    // The authorizer went away or came back: nothing it said before holds.
    clear();
    return std::nullopt;
  }
  if (it->second.expires <= now) {
    order_.erase(it->second.age);
    map_.erase(it);
    return std::nullopt;
  }
  order_.splice(order_.end(), order_, it->second.age);
  return it->second.d;
}

std::optional<decision> authorizer_cache::find(std::string_view scope, std::string_view uri, action a,
                                               std::uint64_t registration, clock::time_point now) {
  auto d = probe(scope, uri, a, registration, now);
  ++(d ? hits_ : misses_);
  return d;
}

std::optional<decision> authorizer_cache::lookup(std::string_view role, std::uint64_t session, std::string_view uri,
                                                 action a, std::uint64_t registration, clock::time_point now) {
  std::optional<decision> d;
  if (session_entries_) {  // answers cached for one session only exist: that session's first
    char scope[24];
    scope[0] = '#';
    const auto n = std::to_chars(scope + 1, scope + sizeof scope, session).ptr - scope;
    d = probe(std::string_view(scope, static_cast<std::size_t>(n)), uri, a, registration, now);
  }
  if (!d) d = probe(role, uri, a, registration, now);
  ++(d ? hits_ : misses_);
  return d;
}

void authorizer_cache::put(std::string_view scope, std::string_view uri, action a, std::uint64_t registration,
                           decision d, clock::time_point expires) {
  if (max_ == 0) return;
  if (!scope.empty() && scope.front() == '#') session_entries_ = true;
  std::string k;
  make_key(k, scope, uri, a);
  auto it = map_.find(k);
  if (it != map_.end()) {
    it->second.d = d;
    it->second.registration = registration;
    it->second.expires = expires;
    order_.splice(order_.end(), order_, it->second.age);
    return;
  }
  while (map_.size() >= max_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
  const auto age = order_.insert(order_.end(), k);
  map_.emplace(std::move(k), entry{d, registration, expires, age});
}

void authorizer_cache::clear() noexcept {
  map_.clear();
  order_.clear();
  session_entries_ = false;
}

void authorizer_cache::resize(std::size_t max_entries) {
  max_ = max_entries;
  while (map_.size() > max_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace junction::auth
