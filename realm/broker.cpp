#include "realm/broker.hpp"

#include <algorithm>

#include "realm/replies.hpp"

namespace junction {
namespace {

template <class V>
void erase_value(V& v, const typename V::value_type& x) {
  v.erase(std::remove(v.begin(), v.end(), x), v.end());
}

}  // namespace

void broker::on_subscribe(session_record& s, subscribe&& m) {
  if (!is_valid_uri(m.topic, config_.uri_check)) {
    s.link->send(make_error(message_type::subscribe, m.request, errc::invalid_uri,
                            "invalid topic URI '" + m.topic + "'"));
    return;
  }
  const id session = s.info.session;
  auto [it, created] = by_topic_.try_emplace(m.topic, 0);
  if (created) {
    it->second = ++next_subscription_id_;
    subscriptions_.emplace(it->second, subscription{it->second, m.topic, {}});
  }
  auto& sub = subscriptions_.at(it->second);
  // A repeated SUBSCRIBE by the same session returns the existing id (spec §IDs SHOULD).
  if (std::find(sub.subscribers.begin(), sub.subscribers.end(), session) == sub.subscribers.end()) {
    sub.subscribers.push_back(session);
    by_session_[session].push_back(sub.subscription_id);
  }
  s.link->send(subscribed{m.request, sub.subscription_id});
}

void broker::on_unsubscribe(session_record& s, unsubscribe&& m) {
  const id session = s.info.session;
  auto it = subscriptions_.find(m.subscription);
  const bool mine = it != subscriptions_.end() &&
                    std::find(it->second.subscribers.begin(), it->second.subscribers.end(),
                              session) != it->second.subscribers.end();
  if (!mine) {
    s.link->send(make_error(message_type::unsubscribe, m.request, errc::no_such_subscription,
                            "no subscription " + std::to_string(m.subscription) +
                                " for this session"));
    return;
  }
  detach(m.subscription, session);
  auto& list = by_session_[session];
  erase_value(list, m.subscription);
  if (list.empty()) by_session_.erase(session);
  s.link->send(unsubscribed{m.request, {}});
}

void broker::on_publish(session_record& s, publish&& m) {
  const bool acknowledge = m.options.get_bool("acknowledge", false);
  if (!is_valid_uri(m.topic, config_.uri_check) || is_reserved_uri(m.topic)) {
    // Without acknowledge the spec gives the publisher no reply channel: the event is refused.
    if (acknowledge)
      s.link->send(make_error(message_type::publish, m.request, errc::invalid_uri,
                              "invalid topic URI '" + m.topic + "'"));
    return;
  }
  const id publication = ids_.next();
  auto it = by_topic_.find(m.topic);
  if (it != by_topic_.end()) {
    const auto& sub = subscriptions_.at(it->second);
    std::shared_ptr<const shared_message> frame;
    for (id subscriber : sub.subscribers) {
      if (subscriber == s.info.session) continue;  // the publisher is excluded (basic profile)
      auto target = sessions_.find(subscriber);
      if (target == sessions_.end()) continue;
      if (!frame)  // built once, only if someone receives it; payload moved, never copied
        frame = std::make_shared<const shared_message>(
            event{sub.subscription_id, publication, {}, std::move(m.args), std::move(m.kwargs)});
      target->second.link->send(frame);
    }
  }
  if (acknowledge) s.link->send(published{m.request, publication});
}

void broker::detach(id subscription_id, id session) {
  auto it = subscriptions_.find(subscription_id);
  if (it == subscriptions_.end()) return;
  erase_value(it->second.subscribers, session);
  if (it->second.subscribers.empty()) {
    by_topic_.erase(it->second.topic);
    subscriptions_.erase(it);
  }
}

void broker::on_leave(id session) {
  auto it = by_session_.find(session);
  if (it == by_session_.end()) return;
  for (id subscription_id : it->second) detach(subscription_id, session);
  by_session_.erase(it);
}

}  // namespace junction
