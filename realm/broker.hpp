// realm/broker.hpp — the Basic Profile broker: SUBSCRIBE/UNSUBSCRIBE/PUBLISH → EVENT.
//
// One subscription per topic, shared by every subscriber (its id is what EVENT carries), so one
// EVENT is built per subscription and shared immutably by all its subscribers; the transport
// encodes it once per serializer (DESIGN.md §2). Runs on the realm's executor; no locks.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "realm/peer.hpp"
#include "realm/random_ids.hpp"
#include "realm/realm_config.hpp"

namespace junction {

class broker {
 public:
  broker(session_map& sessions, const realm_config& config, random_ids& ids)
      : sessions_(sessions), config_(config), ids_(ids) {}

  void on_subscribe(session_record& s, subscribe&& m);
  void on_unsubscribe(session_record& s, unsubscribe&& m);
  void on_publish(session_record& s, publish&& m);
  // Drops every subscription of a session that left.
  void on_leave(id session);

  [[nodiscard]] std::size_t subscription_count() const noexcept { return subscriptions_.size(); }

 private:
  struct subscription {
    id subscription_id = 0;
    std::string topic;
    std::vector<id> subscribers;  // in subscribe order
  };

  // Removes `session` from the subscription; deletes the subscription when it becomes empty.
  void detach(id subscription_id, id session);

  session_map& sessions_;
  const realm_config& config_;
  random_ids& ids_;
  id next_subscription_id_ = 0;
  std::unordered_map<id, subscription> subscriptions_;       // subscription id → subscription
  std::unordered_map<std::string, id> by_topic_;             // topic → subscription id
  std::unordered_map<id, std::vector<id>> by_session_;       // session → its subscription ids
};

}  // namespace junction
