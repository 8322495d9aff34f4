#include "realm/broker.hpp"

#include <algorithm>
#include <iterator>

#include "realm/replies.hpp"

namespace junction {
namespace {

template <class V>
void erase_value(V& v, const typename V::value_type& x) {
  v.erase(std::remove(v.begin(), v.end(), x), v.end());
}

template <class V>
bool contains_sorted(const V& v, const typename V::value_type& x) {
  return std::binary_search(v.begin(), v.end(), x);
}

bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// A bool option: `fallback` when absent; nullopt when present but not a bool.
std::optional<bool> bool_option(const object& options, std::string_view key, bool fallback) {
  const value* v = options.find(key);
  if (v == nullptr) return fallback;
  if (!v->is_bool()) return std::nullopt;
  return v->as_bool();
}

// A list option of PUBLISH.Options (spec §2.13): absent leaves `out` empty; false when present
// but not a list of T (session ids: non-negative integers; authids/authroles: strings). The list
// comes back sorted and without duplicates, for binary search.
bool read_list(const value& v, std::vector<id>& out) {
  if (!v.is_array()) return false;
  out.reserve(v.as_array().size());
  for (const value& e : v.as_array()) {
    std::uint64_t x = 0;
    if (!e.as_uint(x)) return false;
    out.push_back(x);
  }
  return true;
}
bool read_list(const value& v, std::vector<std::string>& out) {
  if (!v.is_array()) return false;
  out.reserve(v.as_array().size());
  for (const value& e : v.as_array()) {
    if (!e.is_string()) return false;
    out.push_back(e.as_string());
  }
  return true;
}
template <class T>
bool list_option(const object& options, std::string_view key, std::optional<std::vector<T>>& out) {
  const value* v = options.find(key);
  if (v == nullptr) return true;
  std::vector<T> list;
  if (!read_list(*v, list)) return false;
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
  out = std::move(list);
  return true;
}
template <class T>
bool list_option(const object& options, std::string_view key, std::vector<T>& out) {
  std::optional<std::vector<T>> list;
  if (!list_option(options, key, list)) return false;
  if (list) out = std::move(*list);
  return true;
}

// The literal text every URI matched by a wildcard pattern starts with: the pattern up to its
// first empty component ("com.app..update" → "com.app.", ".x" → "").
std::string_view wildcard_head(std::string_view pattern) noexcept {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t dot = pattern.find('.', pos);
    if (dot == pos || (dot == std::string_view::npos && pos == pattern.size()))
      return pattern.substr(0, pos);
    if (dot == std::string_view::npos) return pattern;
    pos = dot + 1;
  }
}

// Scratch vectors grown past this are released after use rather than kept.
constexpr std::size_t scratch_keep = 1U << 16;

}  // namespace

// --- the receiver filter -------------------------------------------------------------------

bool broker::publication_filter::needs_identity() const noexcept {
  return !exclude_authid.empty() || !exclude_authrole.empty() || eligible_authid ||
         eligible_authrole;
}

bool broker::publication_filter::admits_id(id publisher, id subscriber) const {
  if (exclude_me && subscriber == publisher) return false;
  if (!exclude.empty() && contains_sorted(exclude, subscriber)) return false;
  if (eligible && !contains_sorted(*eligible, subscriber)) return false;
  return true;
}

bool broker::publication_filter::admits(id publisher, const session_info& s) const {
  if (!admits_id(publisher, s.session)) return false;
  if (!exclude_authid.empty() && contains_sorted(exclude_authid, s.authid)) return false;
  if (!exclude_authrole.empty() && contains_sorted(exclude_authrole, s.authrole)) return false;
  if (eligible_authid && !contains_sorted(*eligible_authid, s.authid)) return false;
  if (eligible_authrole && !contains_sorted(*eligible_authrole, s.authrole)) return false;
  return true;
}

// --- accessors -------------------------------------------------------------------------------

const broker::subscription* broker::find_subscription(id subscription_id) const {
  auto it = subscriptions_.find(subscription_id);
  return it == subscriptions_.end() ? nullptr : &it->second;
}

const broker::subscription* broker::lookup(std::string_view topic, match_policy match) const {
  const id* sid = topics_.find(topic, match);
  return sid == nullptr ? nullptr : find_subscription(*sid);
}

// --- subscriptions -------------------------------------------------------------------------

void broker::on_subscribe(session_record& s, subscribe&& m) {
  auto reject = [&](errc code, std::string text) {
    s.link->send(make_error(message_type::subscribe, m.request, code, std::move(text)));
  };
  // SUBSCRIBE.Options.match (spec §2.9): absent = exact.
  match_policy match = match_policy::exact;
  if (const value* v = m.options.find("match")) {
    const auto parsed = v->is_string() ? parse_match_policy(v->as_string()) : std::nullopt;
    if (!parsed)
      return reject(errc::invalid_argument,
                    "unknown match policy " + to_debug_string(*v) +
                        " (SUBSCRIBE.Options.match is \"exact\", \"prefix\" or \"wildcard\")");
    match = *parsed;
  }
  const auto get_retained = bool_option(m.options, "get_retained", false);
  if (!get_retained)
    return reject(errc::invalid_argument, "SUBSCRIBE.Options.get_retained must be a bool");
  const uri_form form = match == match_policy::prefix     ? uri_form::prefix
                        : match == match_policy::wildcard ? uri_form::wildcard
                                                          : uri_form::plain;
  if (!is_valid_uri(m.topic, config_.uri_check, form))
    return reject(errc::invalid_uri,
                  "invalid topic URI '" + m.topic + "' for match " + std::string(to_string(match)));

  const id session = s.info->session;
  if (const std::size_t cap = config_.limits.subscriptions; cap != 0) {
    auto mine = by_session_.find(session);
    if (mine != by_session_.end() && mine->second.size() >= cap &&
        std::none_of(mine->second.begin(), mine->second.end(), [&](id sid) {
          const subscription& x = subscriptions_.at(sid);
          return x.match == match && x.topic == m.topic;  // a repeat is answered as always
        })) {
      stats_.limit_refusals[static_cast<std::size_t>(session_limit::subscriptions)].add();
      return reject(errc::limit_exceeded, "this session has " + std::to_string(cap) +
                                              " subscriptions, the most its realm allows "
                                              "(session_limits.subscriptions)");
    }
  }
  auto [slot, created] = topics_.insert(m.topic, match, 0);
  if (created) {
    *slot = ++next_subscription_id_;
    subscriptions_.emplace(
        *slot, subscription{*slot, m.topic, match, {}, std::chrono::system_clock::now()});
  }
  const id subscription_id = *slot;
  auto& sub = subscriptions_.at(subscription_id);
  // A repeated SUBSCRIBE by the same session returns the existing id (spec §IDs SHOULD).
  const bool added =
      std::find(sub.subscribers.begin(), sub.subscribers.end(), session) == sub.subscribers.end();
  if (added) {
    sub.subscribers.push_back(session);
    by_session_[session].push_back(subscription_id);
  }
  s.link->send(subscribed{m.request, subscription_id});
  if (events_ != nullptr && added) {
    if (created) events_->on_create(registry_kind::subscription, session, subscription_id);
    events_->on_add(registry_kind::subscription, session, subscription_id);
  }
  // Retained events come after SUBSCRIBED, so the client knows the subscription id they carry.
  if (*get_retained) send_retained(s, subscription_id, m.topic, match);
}

void broker::send_retained(session_record& subscriber, id subscription_id, std::string_view topic,
                           match_policy match) {
  if (retained_.empty()) return;
  const session_info& info = *subscriber.info;
  std::vector<event> events;
  auto offer = [&](std::string_view event_topic, const retained_event& r) {
    // The retained event goes only to whom its publication would have gone (spec §2.17: "the
    // most recent retained event the subscriber would have been eligible for").
    if (!r.filter.admits(r.publisher, info)) return;
    event e;
    e.subscription = subscription_id;
    e.publication = r.publication;
    if (r.disclosed) {
      e.details.push_back("publisher", value(r.publisher));
      e.details.push_back("publisher_authid", value(r.publisher_authid));
      e.details.push_back("publisher_authrole", value(r.publisher_authrole));
    }
    if (match != match_policy::exact) e.details.push_back("topic", value(event_topic));
    e.details.push_back("retained", value(true));
    e.args = r.args;  // the store keeps its copy for later subscribers
    e.kwargs = r.kwargs;
    e.raw = r.raw;
    events.push_back(std::move(e));
  };
  switch (match) {
    case match_policy::exact:
      if (auto r = retained_.find(topic); r != retained_.end()) offer(r->first, r->second);
      break;
    case match_policy::prefix:
      for (auto r = retained_.lower_bound(topic);
           r != retained_.end() && starts_with(r->first, topic); ++r)
        offer(r->first, r->second);
      break;
    case match_policy::wildcard: {
      const std::string_view head = wildcard_head(topic);
      for (auto r = retained_.lower_bound(head);
           r != retained_.end() && starts_with(r->first, head); ++r)
        if (wildcard_matches(topic, r->first)) offer(r->first, r->second);
      break;
    }
  }
  for (event& e : events) {
    // Retained events go out as themselves; one too big for this subscriber is skipped (counted).
    const auto how = subscriber.link->send(make_shared_message(std::move(e)));
    if (how == junction::delivery::too_big) stats_.events_too_big.add();
    if (how == junction::delivery::dropped) stats_.events_dropped.add();
  }
}

void broker::on_unsubscribe(session_record& s, unsubscribe&& m) {
  const id session = s.info->session;
  const dropped how = detach(m.subscription, session);
  if (how == dropped::no) {
    s.link->send(
        make_error(message_type::unsubscribe, m.request, errc::no_such_subscription,
                   "no subscription " + std::to_string(m.subscription) + " for this session"));
    return;
  }
  s.link->send(unsubscribed{m.request, {}});
  notify_removed(session, m.subscription, how);
}

bool broker::revoke(id subscription_id, id subscriber, const std::string& reason) {
  const dropped how = detach(subscription_id, subscriber);
  if (how == dropped::no) return false;
  auto it = sessions_.find(subscriber);
  if (it != sessions_.end() &&
      it->second.info->features.has(client_role::subscriber, feature::subscription_revocation)) {
    unsubscribed u;
    u.request = 0;
    u.details.push_back("subscription", value(subscription_id));
    if (!reason.empty()) u.details.push_back("reason", value(reason));
    it->second.link->send(std::move(u));
  }
  notify_removed(subscriber, subscription_id, how);
  return true;
}

broker::dropped broker::drop_subscriber(id subscription_id, id session) {
  auto it = subscriptions_.find(subscription_id);
  if (it == subscriptions_.end()) return dropped::no;
  auto& subscribers = it->second.subscribers;
  auto pos = std::find(subscribers.begin(), subscribers.end(), session);
  if (pos == subscribers.end()) return dropped::no;
  subscribers.erase(pos);
  if (!subscribers.empty()) return dropped::yes;
  topics_.erase(it->second.topic, it->second.match);
  subscriptions_.erase(it);
  return dropped::last;
}

broker::dropped broker::detach(id subscription_id, id session) {
  const dropped how = drop_subscriber(subscription_id, session);
  if (how == dropped::no) return how;
  if (auto it = by_session_.find(session); it != by_session_.end()) {
    erase_value(it->second, subscription_id);
    if (it->second.empty()) by_session_.erase(it);
  }
  return how;
}

void broker::notify_removed(id session, id subscription_id, dropped how) {
  if (events_ == nullptr || how == dropped::no) return;
  events_->on_remove(registry_kind::subscription, session, subscription_id);
  if (how == dropped::last)
    events_->on_delete(registry_kind::subscription, session, subscription_id);
}

void broker::on_leave(id session) {
  auto it = by_session_.find(session);
  if (it == by_session_.end()) return;
  const std::vector<id> mine = std::move(it->second);
  by_session_.erase(it);
  for (id subscription_id : mine)
    notify_removed(session, subscription_id, drop_subscriber(subscription_id, session));
}

// --- publications --------------------------------------------------------------------------

broker::publish_options broker::read_publish_options(const object& options) {
  // Anything of the wrong type is refused rather than guessed at: a misread black list would
  // deliver to exactly whom the publisher excluded.
  publish_options o;
  // Fast path: most publications carry no option beyond `acknowledge` (nine lookups cost ~5% of
  // a small fan-out's CPU, measured with callgrind).
  if (std::all_of(options.begin(), options.end(),
                  [](const object::entry& e) { return e.first == "acknowledge"; }))
    return o;
  const auto exclude_me = bool_option(options, "exclude_me", true);
  const auto disclose_me = bool_option(options, "disclose_me", false);
  const auto retain = bool_option(options, "retain", false);
  publication_filter& f = o.filter;
  if (!exclude_me)
    o.problem = "exclude_me must be a bool";
  else if (!disclose_me)
    o.problem = "disclose_me must be a bool";
  else if (!retain)
    o.problem = "retain must be a bool";
  else if (!list_option(options, "exclude", f.exclude))
    o.problem = "exclude must be a list of session ids";
  else if (!list_option(options, "exclude_authid", f.exclude_authid))
    o.problem = "exclude_authid must be a list of strings";
  else if (!list_option(options, "exclude_authrole", f.exclude_authrole))
    o.problem = "exclude_authrole must be a list of strings";
  else if (!list_option(options, "eligible", f.eligible))
    o.problem = "eligible must be a list of session ids";
  else if (!list_option(options, "eligible_authid", f.eligible_authid))
    o.problem = "eligible_authid must be a list of strings";
  else if (!list_option(options, "eligible_authrole", f.eligible_authrole))
    o.problem = "eligible_authrole must be a list of strings";
  if (o.problem != nullptr) return o;
  f.exclude_me = *exclude_me;
  o.disclose_me = *disclose_me;
  o.retain = *retain;
  return o;
}

void broker::on_publish(session_record& s, publish&& m) {
  const id publisher = s.info->session;
  const bool acknowledge = m.options.get_bool("acknowledge", false);
  // Without acknowledge the spec gives the publisher no reply channel: a refused publication is
  // dropped silently (spec §2.16).
  auto refuse = [&](errc code, std::string text) {
    stats_.publications_refused.add();
    if (acknowledge)
      s.link->send(make_error(message_type::publish, m.request, code, std::move(text)));
  };
  if (!is_valid_uri(m.topic, config_.uri_check) || is_reserved_uri(m.topic))
    return refuse(errc::invalid_uri, "invalid topic URI '" + m.topic + "'");
  // PUBLISH.Options (spec §2.13–2.15, §2.17).
  publish_options o = read_publish_options(m.options);
  if (o.problem != nullptr)
    return refuse(errc::invalid_argument, std::string("PUBLISH.Options.") + o.problem);
  // Publisher identification (spec §2.15), as the realm is configured.
  bool disclose = false;
  switch (config_.disclose_publisher) {
    case disclosure::always:
      disclose = true;
      break;
    case disclosure::on_request:
      disclose = o.disclose_me;
      break;
    case disclosure::never:
      if (o.disclose_me)
        return refuse(errc::disclose_me_disallowed,
                      "realm '" + config_.name + "' never discloses publishers");
      break;
  }
  const id publication = ids_.next();
  const id request = m.request;
  stats_.publications.add();
  deliver(publication, publisher, s.info->authid, s.info->authrole, disclose, m.topic,
          std::move(m.args), std::move(m.kwargs), std::move(m.raw), std::move(o.filter), o.retain);
  if (acknowledge) s.link->send(published{request, publication});
}

void broker::publish_from_router(std::string topic, array args, object kwargs,
                                 const object& options) {
  if (!is_valid_uri(topic, config_.uri_check)) return;
  publish_options o = read_publish_options(options);
  if (o.problem != nullptr) return;
  static const std::string none;
  deliver(ids_.next(), 0, none, none, false, topic, std::move(args), std::move(kwargs), raw_payload{},
          std::move(o.filter), o.retain);
}

void broker::deliver(id publication, id publisher, const std::string& authid,
                     const std::string& authrole, bool disclose, const std::string& topic,
                     array&& args, object&& kwargs, raw_payload&& raw, publication_filter&& filter,
                     bool retain) {
  // Who gets it: every matching subscription (spec §2.9), each subscriber the filter admits.
  // Collected before anything is sent (see the top of broker.hpp).
  std::vector<delivery> deliveries = std::move(deliveries_scratch_);
  std::vector<peer*> targets = std::move(targets_scratch_);
  deliveries.clear();
  targets.clear();
  const bool identity = filter.needs_identity();
  topics_.for_each_match(topic, [&](id& subscription_id, match_policy match) {
    const subscription& sub = subscriptions_.at(subscription_id);
    delivery d{subscription_id, match != match_policy::exact, targets.size(), 0};
    for (id subscriber : sub.subscribers) {
      if (!identity && !filter.admits_id(publisher, subscriber)) continue;
      auto it = sessions_.find(subscriber);
      if (it == sessions_.end()) continue;  // never: on_leave drops a session's subscriptions
      if (identity && !filter.admits(publisher, *it->second.info)) continue;
      targets.push_back(it->second.link.get());
    }
    d.last = targets.size();
    if (d.last > d.first) deliveries.push_back(d);
  });

  object publisher_details;
  if (disclose) {
    publisher_details.push_back("publisher", value(publisher));
    publisher_details.push_back("publisher_authid", value(authid));
    publisher_details.push_back("publisher_authrole", value(authrole));
  }

  // Event retention (spec §2.17): kept even if nobody is subscribed now. A copy of the payload
  // when the event is also delivered; otherwise the payload itself.
  if (retain && config_.max_retained_events > 0) {
    retained_event r;
    r.publication = publication;
    r.publisher = publisher;
    r.disclosed = disclose;
    r.publisher_authid = authid;
    r.publisher_authrole = authrole;
    if (deliveries.empty()) {
      r.args = std::move(args);
      r.kwargs = std::move(kwargs);
      r.raw = std::move(raw);
    } else {
      r.args = args;
      r.kwargs = kwargs;
      r.raw = raw;
    }
    r.filter = std::move(filter);
    store_retained(topic, std::move(r));
  }

  // One EVENT per matching subscription, shared by its receivers and encoded at most once per
  // serializer. The payload is moved into the last one and copied only when several
  // subscriptions match. The receivers' links stay valid while they are sent to: a session
  // whose connection a send ends leaves after this operation (realm/operations.hpp).
  for (std::size_t i = 0; i < deliveries.size(); ++i) {
    const delivery& d = deliveries[i];
    const bool last = i + 1 == deliveries.size();
    event e;
    e.subscription = d.subscription_id;
    e.publication = publication;
    e.details = publisher_details;  // empty or three entries: cheap to copy
    if (d.pattern) e.details.push_back("topic", value(topic));
    e.args = last ? std::move(args) : args;
    e.kwargs = last ? std::move(kwargs) : kwargs;
    e.raw = last ? std::move(raw) : raw;  // pass-through: the PUBLISH's payload bytes
    const auto frame = make_shared_message(std::move(e));
    std::size_t too_big = 0, dropped = 0;
    for (std::size_t t = d.first; t < d.last; ++t) {
      const auto how = targets[t]->send(frame);
      if (how == junction::delivery::sent) continue;
      if (how == junction::delivery::too_big) ++too_big;  // larger than it accepts
      if (how == junction::delivery::dropped) ++dropped;  // congested, drop-events policy
    }
    stats_.events.add(d.last - d.first - too_big - dropped);
    if (too_big != 0) stats_.events_too_big.add(too_big);
    if (dropped != 0) stats_.events_dropped.add(dropped);
  }
  if (deliveries.capacity() <= scratch_keep) deliveries_scratch_ = std::move(deliveries);
  if (targets.capacity() <= scratch_keep) targets_scratch_ = std::move(targets);
}

void broker::store_retained(std::string_view topic, retained_event&& r) {
  if (auto it = retained_.find(topic); it != retained_.end()) {
    // Published again: replaces the old event and becomes the most recently published topic.
    r.topic = it->second.topic;
    retained_order_.splice(retained_order_.end(), retained_order_, r.topic);
    it->second = std::move(r);
    return;
  }
  if (retained_.size() >= config_.max_retained_events) {
    // Full: evict the topic published least recently.
    retained_.erase(std::string_view(retained_order_.front()));
    retained_order_.pop_front();
  }
  retained_order_.emplace_back(topic);
  r.topic = std::prev(retained_order_.end());
  retained_.emplace(std::string_view(*r.topic), std::move(r));
}

void broker::trim_retained() {
  while (retained_.size() > config_.max_retained_events) {
    retained_.erase(std::string_view(retained_order_.front()));
    retained_order_.pop_front();
  }
}

}  // namespace junction
