#include "auth/authorizer.hpp"

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

std::string authorizer_cache::key(std::string_view scope, std::string_view uri, action a) {
  std::string k;
  k.reserve(scope.size() + uri.size() + 3);
  k.append(scope);
  k.push_back('\0');
  k.push_back(static_cast<char>('0' + static_cast<int>(a)));
  k.push_back('\0');
  k.append(uri);
  return k;
}

std::optional<decision> authorizer_cache::find(std::string_view scope, std::string_view uri, action a,
                                               std::uint64_t registration, clock::time_point now) {
  auto it = map_.find(key(scope, uri, a));
  if (it == map_.end()) {
    ++misses_;
    return std::nullopt;
  }
  if (it->second.registration != registration) {
    // The authorizer went away or came back: nothing it said before holds.
    clear();
    ++misses_;
    return std::nullopt;
  }
  if (it->second.expires <= now) {
    order_.erase(it->second.age);
    map_.erase(it);
    ++misses_;
    return std::nullopt;
  }
  order_.splice(order_.end(), order_, it->second.age);
  ++hits_;
  return it->second.d;
}

std::optional<decision> authorizer_cache::lookup(std::string_view role, std::uint64_t session, std::string_view uri,
                                                 action a, std::uint64_t registration, clock::time_point now) {
  const std::uint64_t hits = hits_;
  if (auto d = find(session_scope(session), uri, a, registration, now)) return d;
  --misses_;  // counted once, below
  auto d = find(role, uri, a, registration, now);
  if (!d && hits_ == hits) return std::nullopt;
  return d;
}

void authorizer_cache::put(std::string_view scope, std::string_view uri, action a, std::uint64_t registration,
                           decision d, clock::time_point expires) {
  if (max_ == 0) return;
  std::string k = key(scope, uri, a);
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
}

void authorizer_cache::resize(std::size_t max_entries) {
  max_ = max_entries;
  while (map_.size() > max_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace junction::auth
