// realm/broker.hpp — the broker: SUBSCRIBE/UNSUBSCRIBE/PUBLISH → EVENT, and the Advanced Profile
// Pub/Sub features (reference §2.9, §2.12–2.17): pattern-based subscriptions, subscriber
// black/white listing, publisher exclusion and identification, event retention, subscription
// revocation.
//
// One subscription per (topic, match policy), shared by every subscriber of it (its id is what
// EVENT carries). A PUBLISH is delivered once per matching subscription (spec §2.9: exact, every
// prefix, every wildcard): one EVENT is built per matching subscription and shared immutably by
// all its subscribers, and the transport encodes it once per serializer (DESIGN.md §2). Matching
// subscriptions are found through a uri_trie, in time that follows the topic's length, not the
// number of subscriptions (DESIGN.md §4).
//
// Publisher-side options are honoured whether or not the publisher announced the feature
// (lenient: Autobahn|Python announces nothing for them). Nothing is forced on a subscriber:
// revocation is told only to subscribers that announced subscription_revocation.
//
// Sending never re-enters the broker: a session whose connection a send ends leaves the realm
// after the current operation (realm/operations.hpp), so the receivers collected for a
// publication stay valid while it is sent. Runs on the realm's executor; no locks.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "realm/peer.hpp"
#include "realm/random_ids.hpp"
#include "realm/realm_config.hpp"
#include "realm/registry_events.hpp"
#include "realm/stats.hpp"
#include "realm/uri.hpp"
#include "realm/uri_trie.hpp"

namespace junction {

class broker {
 public:
  broker(session_map& sessions, const realm_config& config, random_ids& ids, realm_stats& stats)
      : sessions_(sessions), config_(config), ids_(ids), stats_(stats) {}
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  void on_subscribe(session_record& s, subscribe&& m);
  void on_unsubscribe(session_record& s, unsubscribe&& m);
  void on_publish(session_record& s, publish&& m);
  // Drops every subscription of a session that left.
  void on_leave(id session);

  // Publishes an event from the router itself (meta events, testaments): no publishing session,
  // so no acknowledge, no exclude_me and no publisher identification; the reserved wamp.* topics
  // are allowed. PUBLISH.Options' black/white lists and retain are honoured; malformed options
  // drop the event.
  void publish_from_router(std::string topic, array args, object kwargs, const object& options);
  // Why PUBLISH.Options `options` would be refused (e.g. "exclude must be a list of session
  // ids"), or nullptr: lets the meta API refuse a testament when it is added, not when it fires.
  [[nodiscard]] static const char* options_problem(const object& options) {
    return read_publish_options(options).problem;
  }

  // The meta API listens here; nullptr (the default) for none. Told after each change, in the
  // spec's order: on_create → on_add for a new subscription's first subscriber, on_remove →
  // on_delete for its last one (reference §2.22).
  void set_events(registry_events* events) noexcept { events_ = events; }

  // Router-initiated removal of one subscriber from a subscription (spec: subscription
  // revocation, reference §2.12); the subscription is deleted when it becomes empty. A
  // subscriber that announced subscription_revocation in HELLO gets
  // [UNSUBSCRIBED, 0, {"subscription": id, "reason": reason}] (no "reason" if it is empty);
  // others are removed silently. False if the session is not a subscriber of that subscription.
  bool revoke(id subscription_id, id subscriber, const std::string& reason);

  // One topic (or pattern) with its match policy and the sessions subscribed to it. Created by
  // the first SUBSCRIBE of that (topic, match), deleted when its last subscriber is gone
  // (UNSUBSCRIBE, revocation, session left). Read by the subscription meta API.
  struct subscription {
    id subscription_id = 0;
    std::string topic;
    match_policy match = match_policy::exact;
    std::vector<id> subscribers;  // in subscribe order
    std::chrono::system_clock::time_point created;
  };

  // --- read-only accessors for the meta API (cheap; no copies) -------------------------------
  [[nodiscard]] std::size_t subscription_count() const noexcept { return subscriptions_.size(); }
  // nullptr if there is no such subscription.
  [[nodiscard]] const subscription* find_subscription(id subscription_id) const;
  // The subscription for exactly this (topic, match), no matching; nullptr if none.
  [[nodiscard]] const subscription* lookup(std::string_view topic, match_policy match) const;
  // fn(const subscription&) for every subscription an event on `topic` would be delivered to:
  // the exact one, then each prefix one (shortest first), then each wildcard one.
  // fn must not subscribe, unsubscribe or revoke.
  template <class F>
  void for_each_match(std::string_view topic, F&& fn) const {
    topics_.for_each_match(topic,
                           [&](const id& sid, match_policy) { fn(subscriptions_.at(sid)); });
  }
  // fn(const subscription&) for every subscription, in no particular order.
  template <class F>
  void for_each_subscription(F&& fn) const {
    for (const auto& entry : subscriptions_) fn(entry.second);
  }
  // After the realm's max_retained_events shrank: evicts the topics published least recently.
  void trim_retained();
  // How many topics have a retained event (at most realm_config::max_retained_events).
  [[nodiscard]] std::size_t retained_count() const noexcept { return retained_.size(); }

 private:
  // PUBLISH.Options' receiver filter (spec §2.13, §2.14): a subscriber receives the event only
  // if every condition present holds (AND). Lists are kept sorted for binary search. An absent
  // eligible* list admits everyone; a present but empty one admits nobody.
  struct publication_filter {
    bool exclude_me = true;
    std::vector<id> exclude;
    std::vector<std::string> exclude_authid;
    std::vector<std::string> exclude_authrole;
    std::optional<std::vector<id>> eligible;
    std::optional<std::vector<std::string>> eligible_authid;
    std::optional<std::vector<std::string>> eligible_authrole;

    // Whether any condition needs the subscriber's authid or authrole.
    [[nodiscard]] bool needs_identity() const noexcept;
    [[nodiscard]] bool admits(id publisher, const session_info& subscriber) const;
    [[nodiscard]] bool admits_id(id publisher, id subscriber) const;
  };

  // The most recent event published with retain=true on one topic (spec §2.17), kept with what
  // decides who may get it later: its filter and who published it.
  struct retained_event {
    std::list<std::string>::iterator topic;  // its node in retained_order_ (owns the key's text)
    id publication = 0;
    id publisher = 0;
    bool disclosed = false;  // publisher identification was decided when it was published
    std::string publisher_authid;
    std::string publisher_authrole;
    publication_filter filter;
    array args;
    object kwargs;
    raw_payload raw;  // or the payload as it came (pass-through)
  };

  // One subscription an EVENT goes to, and its receivers: targets_[first, last).
  struct delivery {
    id subscription_id = 0;
    bool pattern = false;
    std::size_t first = 0;
    std::size_t last = 0;
  };

  // PUBLISH.Options as the broker reads them; `problem` names the first malformed one.
  struct publish_options {
    publication_filter filter;
    bool disclose_me = false;
    bool retain = false;
    const char* problem = nullptr;
  };
  static publish_options read_publish_options(const object& options);

  // Delivers one publication to every matching subscription and keeps it if `retain`. The
  // publisher is `publisher` (0: the router), with `authid`/`authrole` for identification.
  void deliver(id publication, id publisher, const std::string& authid, const std::string& authrole,
               bool disclose, const std::string& topic, array&& args, object&& kwargs, raw_payload&& raw,
               publication_filter&& filter, bool retain);

  enum class dropped { no, yes, last };  // was the session a subscriber; was it the last one
  // Removes `session` from the subscription and from by_session_, and deletes the subscription
  // when it becomes empty. The caller tells events_ (notify_removed) once its own replies are out.
  dropped detach(id subscription_id, id session);
  // The subscription side of detach: by_session_ is left to the caller.
  dropped drop_subscriber(id subscription_id, id session);
  // on_remove, then on_delete if the subscription went with it.
  void notify_removed(id session, id subscription_id, dropped how);
  void store_retained(std::string_view topic, retained_event&& e);
  // Sends the retained events matching a new subscription to its subscriber, after SUBSCRIBED.
  void send_retained(session_record& subscriber, id subscription_id, std::string_view topic,
                     match_policy match);

  session_map& sessions_;
  const realm_config& config_;
  random_ids& ids_;
  realm_stats& stats_;
  registry_events* events_ = nullptr;
  id next_subscription_id_ = 0;
  // subscription id → subscription. Filled by SUBSCRIBE, cleaned by detach (UNSUBSCRIBE,
  // revoke, on_leave) when the last subscriber is gone. Node-based: entries do not move.
  std::unordered_map<id, subscription> subscriptions_;
  // (topic, match) → subscription id; same lifetime as the entries of subscriptions_.
  uri_trie<id> topics_;
  // session → its subscription ids; filled by SUBSCRIBE, cleaned by detach and on_leave.
  std::unordered_map<id, std::vector<id>> by_session_;

  // Retained events, one per topic, ordered by topic so that a prefix or wildcard subscription
  // finds its topics with a range walk. Bounded by realm_config::max_retained_events: when full,
  // the topic published least recently (the front of retained_order_) is evicted. Keys view the
  // strings in retained_order_, whose nodes never move.
  std::map<std::string_view, retained_event> retained_;
  std::list<std::string> retained_order_;  // least recently published first

  // Scratch space of on_publish, reused so that steady-state publishing does not allocate.
  std::vector<delivery> deliveries_scratch_;
  std::vector<peer*> targets_scratch_;
};

}  // namespace junction
