// router/bridge.cpp — see bridge.hpp.
#include "router/bridge.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "auth/bridge_auth.hpp"
#include "router/ops/log.hpp"
#include "router/router.hpp"
#include "router/session.hpp"
#include "serializers/errors.hpp"

namespace junction {

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// {"error": URI, "args": [TEXT], "kwargs": {}}: the router's own refusals, in the shape of a
// WAMP error so clients read every failure alike.
bridge_response refusal(int status, std::string_view uri, std::string_view text, std::string headers = {}) {
  return bridge_response{status,
                         "{\"error\":" + json_string(uri) + ",\"args\":[" + json_string(text) + "],\"kwargs\":{}}",
                         std::move(headers)};
}

}  // namespace

int http_status_of(std::string_view uri) {
  static const std::unordered_map<std::string_view, int> statuses = {
      {"wamp.error.not_authorized", 403},        {"wamp.error.authorization_failed", 403},
      {"wamp.error.no_such_procedure", 404},     {"wamp.error.no_such_realm", 404},
      {"wamp.error.no_such_registration", 404},  {"wamp.error.no_such_subscription", 404},
      {"wamp.error.invalid_uri", 400},           {"wamp.error.invalid_argument", 400},
      {"wamp.error.protocol_violation", 400},    {"wamp.error.feature_not_supported", 400},
      {"wamp.error.option_not_allowed", 400},    {"wamp.error.option_disallowed.disclose_me", 400},
      {"wamp.error.timeout", 504},               {"wamp.error.canceled", 503},
      {"wamp.error.unavailable", 503},           {"wamp.error.no_available_callee", 503},
      {"wamp.close.system_shutdown", 503},       {"wamp.error.payload_size_exceeded", 413},
      {"wamp.error.limit_exceeded", 429},        {"wamp.error.no_such_role", 403},
  };
  const auto it = statuses.find(uri);
  return it == statuses.end() ? 500 : it->second;
}

namespace {

void write_value(json_writer& w, const rapidjson::Value* v, bool array) {
  if (v != nullptr) {
    v->Accept(w);
  } else if (array) {
    w.StartArray();
    w.EndArray();
  } else {
    w.StartObject();
    w.EndObject();
  }
}

// "args": [...], "kwargs": {...} — empty ones where the message had none.
void write_payload(json_writer& w, const rapidjson::Value* args, const rapidjson::Value* kwargs) {
  w.Key("args");
  write_value(w, args, true);
  w.Key("kwargs");
  write_value(w, kwargs, false);
}

}  // namespace

// ---- one principal's session ---------------------------------------------------------------

namespace {

std::string sse_record(std::string_view event, const std::string& json) {
  std::string r;
  if (!event.empty()) {
    r += "event: ";
    r += event;
    r += '\n';
  }
  r += "data: ";
  r += json;  // RapidJSON writes no line breaks
  r += "\n\n";
  return r;
}

}  // namespace

// The transport of a bridge session: what the session sends comes here as JSON and is turned
// into the answer of the HTTP request it belongs to (by request id), or into events of the SSE
// streams of a subscription.
class http_bridge::client final : public transport, public std::enable_shared_from_this<client> {
 public:
  enum class what { publish, call, subscribe, unsubscribe };
  struct request {
    what kind = what::publish;
    bridge_responder respond;
    bool sse = false;   // a call whose results go out as Server-Sent Events
    bool drop = false;  // the realm's slow_consumer is drop-events
    std::string topic;  // subscribe: as asked
  };

  explicit client(router& owner) : owner_(owner), session_(std::make_shared<session>(owner, *this, json_codec())) {}
  ~client() override { end(); }

  session& wamp() noexcept { return *session_; }

  // The session leaves its realm; what is still waiting is answered 503, streams end. Under the
  // core lock.
  void end() {
    if (session_) {
      session_->on_transport_closed();
      session_.reset();
    }
    fail_pending(503, "the bridge's session for this principal ended (reload or shutdown)");
    std::unordered_map<std::uint64_t, subscription> subs;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      subs.swap(subs_);
    }
    for (auto& [id, sub] : subs)
      for (auto& stream : sub.streams) stream->end();
  }

  // Sends one request through the session; `frame(request_id)` is its WAMP JSON. Under the core
  // lock (so request ids reach the session in order).
  template <class Frame>
  void submit(Frame&& frame, request r) {
    const std::uint64_t id = ++last_request_;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      pending_.emplace(id, pending_request{std::move(r), nullptr});
    }
    session_->on_frame(frame(id));
  }

  // Whether the session ended (its GOODBYE or ABORT may come on another loop: atomic, and why_
  // under the mutex).
  [[nodiscard]] bool gone() const noexcept { return gone_.load(std::memory_order_acquire); }
  [[nodiscard]] std::string why_gone() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return why_;
  }

  // transport
  bool send_frame(std::string_view bytes) override {
    rapidjson::Document d;
    d.Parse(bytes.data(), bytes.size());
    if (d.HasParseError() || !d.IsArray() || d.Empty() || !d[0].IsUint()) return true;
    auto at = [&](rapidjson::SizeType i) -> const rapidjson::Value* { return i < d.Size() ? &d[i] : nullptr; };
    switch (d[0].GetUint()) {
      case 17:  // [PUBLISHED, request, publication]
        if (d.Size() >= 3 && d[1].IsUint64() && d[2].IsUint64())
          if (auto p = take(d[1].GetUint64()))
            p->r.respond.reply(bridge_response{200, "{\"id\":" + std::to_string(d[2].GetUint64()) + "}", {}});
        return true;
      case 33:  // [SUBSCRIBED, request, subscription]
        if (d.Size() >= 3 && d[1].IsUint64() && d[2].IsUint64()) subscribed(d[1].GetUint64(), d[2].GetUint64());
        return true;
      case 35:  // [UNSUBSCRIBED, request]: the bridge's own, when a subscription's last stream went
        if (d.Size() >= 2 && d[1].IsUint64()) (void)take(d[1].GetUint64());
        return true;
      case 36:  // [EVENT, subscription, publication, details, args?, kwargs?]
        if (d.Size() >= 4 && d[1].IsUint64() && d[2].IsUint64() && d[3].IsObject())
          event(d[1].GetUint64(), d[2].GetUint64(), d[3], at(4), at(5));
        return true;
      case 50:  // [RESULT, request, details, args?, kwargs?]
        if (d.Size() >= 3 && d[1].IsUint64() && d[2].IsObject()) result(d[1].GetUint64(), d[2], at(3), at(4));
        return true;
      case 8:  // [ERROR, type, request, details, error, args?, kwargs?]
        if (d.Size() >= 5 && d[2].IsUint64() && d[4].IsString()) error(d[2].GetUint64(), d[4], at(5), at(6));
        return true;
      case 3:    // ABORT: the join was refused
      case 6: {  // GOODBYE: killed (wamp.session.kill) or the realm closed
        std::string why;
        if (d.Size() >= 3 && d[2].IsString()) why = d[2].GetString();
        if (d.Size() >= 2 && d[1].IsObject() && d[1].HasMember("message") && d[1]["message"].IsString())
          why += std::string(": ") + d[1]["message"].GetString();
        {
          const std::lock_guard<std::mutex> lock(mutex_);
          why_ = why;
        }
        gone_.store(true, std::memory_order_release);
        fail_pending(503, "the bridge's session ended: " + why);
        return true;
      }
      default:
        return true;  // WELCOME, and nothing else is asked for
    }
  }
  void close(std::string_view reason) override {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (why_.empty()) why_ = std::string(reason);
    }
    gone_.store(true, std::memory_order_release);
  }
  [[nodiscard]] std::string_view remote() const noexcept override { return "bridge"; }
  [[nodiscard]] std::string_view kind() const noexcept override { return "http"; }
  [[nodiscard]] std::string_view protocol() const noexcept override { return "http/1.1"; }

 private:
  struct pending_request {
    request r;
    std::shared_ptr<event_stream> stream;  // a call's SSE stream, opened at its first result
  };
  struct subscription {
    std::string topic;
    std::vector<std::shared_ptr<event_stream>> streams;
  };

  std::optional<pending_request> take(std::uint64_t id) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = pending_.find(id);
    if (it == pending_.end()) return std::nullopt;
    std::optional<pending_request> p(std::move(it->second));
    pending_.erase(it);
    return p;
  }

  void subscribed(std::uint64_t request, std::uint64_t id) {
    auto p = take(request);
    if (!p) return;
    auto stream = p->r.respond.open_stream(p->r.drop);
    const std::lock_guard<std::mutex> lock(mutex_);
    subscription& sub = subs_[id];
    if (sub.topic.empty()) sub.topic = p->r.topic;
    // Streams whose clients left since the last event go now: a quiet topic does not collect them.
    auto& v = sub.streams;
    v.erase(std::remove_if(v.begin(), v.end(), [](const auto& s) { return !s->alive(); }), v.end());
    v.push_back(std::move(stream));
  }

  void event(std::uint64_t id, std::uint64_t publication, const rapidjson::Value& details,
             const rapidjson::Value* args, const rapidjson::Value* kwargs) {
    std::vector<std::shared_ptr<event_stream>> streams;
    std::string topic;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      const auto it = subs_.find(id);
      if (it == subs_.end()) return;
      streams = it->second.streams;
      topic = it->second.topic;
    }
    rapidjson::StringBuffer b;
    json_writer w(b);
    w.StartObject();
    w.Key("topic");
    if (details.HasMember("topic") && details["topic"].IsString()) {
      details["topic"].Accept(w);  // a pattern subscription's actual topic
    } else {
      w.String(topic.data(), static_cast<rapidjson::SizeType>(topic.size()));
    }
    w.Key("publication");
    w.Uint64(publication);
    write_payload(w, args, kwargs);
    w.EndObject();
    const std::string record = sse_record({}, std::string(b.GetString(), b.GetSize()));
    bool lost = false;
    for (const auto& s : streams) lost = !s->push(record) || lost;
    if (lost) drop_lost_streams(id);
  }

  // Streams whose clients are gone leave the subscription; with the last one, the subscription
  // goes too — later, through the router's executor: not from inside this send.
  void drop_lost_streams(std::uint64_t id) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      const auto it = subs_.find(id);
      if (it == subs_.end()) return;
      auto& v = it->second.streams;
      v.erase(std::remove_if(v.begin(), v.end(), [](const auto& s) { return !s->alive(); }), v.end());
      if (!v.empty()) return;
      subs_.erase(it);
    }
    executor* exec = owner_.exec();
    if (exec == nullptr) return;
    exec->post([weak = weak_from_this(), id, &owner = owner_] {
      const core_guard lock(owner.core());
      auto self = weak.lock();
      if (!self || !self->session_ || self->gone()) return;
      {
        const std::lock_guard<std::mutex> l(self->mutex_);
        if (self->subs_.count(id) != 0) return;  // subscribed again meanwhile
      }
      self->submit([id](std::uint64_t request) {
        return "[34," + std::to_string(request) + "," + std::to_string(id) + "]";
      }, request{what::unsubscribe, {}, false, false, {}});
    });
  }

  void result(std::uint64_t id, const rapidjson::Value& details, const rapidjson::Value* args,
              const rapidjson::Value* kwargs) {
    const bool progress = details.HasMember("progress") && details["progress"].IsBool() && details["progress"].GetBool();
    rapidjson::StringBuffer b;
    json_writer w(b);
    w.StartObject();
    write_payload(w, args, kwargs);
    std::shared_ptr<event_stream> stream;
    bridge_responder respond;
    bool sse = false;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      const auto it = pending_.find(id);
      if (it == pending_.end()) return;
      sse = it->second.r.sse;
      if (sse && !it->second.stream) it->second.stream = it->second.r.respond.open_stream(false);
      stream = it->second.stream;
      if (!progress || !sse) {
        respond = std::move(it->second.r.respond);
        pending_.erase(it);
      }
    }
    if (!sse) {
      w.EndObject();
      respond.reply(bridge_response{200, std::string(b.GetString(), b.GetSize()), {}});
      return;
    }
    w.Key("progress");
    w.Bool(progress);
    w.EndObject();
    stream->push(sse_record({}, std::string(b.GetString(), b.GetSize())));
    if (!progress) stream->end();
  }

  void error(std::uint64_t id, const rapidjson::Value& uri, const rapidjson::Value* args,
             const rapidjson::Value* kwargs) {
    auto p = take(id);
    if (!p) return;
    const std::string_view text(uri.GetString(), uri.GetStringLength());
    rapidjson::StringBuffer b;
    json_writer w(b);
    w.StartObject();
    w.Key("error");
    uri.Accept(w);
    write_payload(w, args, kwargs);
    w.EndObject();
    std::string json(b.GetString(), b.GetSize());
    if (p->stream) {  // progressive results went out already: the error is the stream's last event
      p->stream->push(sse_record("error", json));
      p->stream->end();
      return;
    }
    if (p->r.kind != what::unsubscribe) p->r.respond.reply(bridge_response{http_status_of(text), std::move(json), {}});
  }

  void fail_pending(int status, const std::string& text) {
    std::unordered_map<std::uint64_t, pending_request> left;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      left.swap(pending_);
    }
    for (auto& [id, p] : left) {
      if (p.stream) {
        p.stream->push(sse_record("error", refusal(status, "wamp.error.canceled", text).body));
        p.stream->end();
      } else if (p.r.kind != what::unsubscribe) {
        p.r.respond.reply(refusal(status, "wamp.error.canceled", text));
      }
    }
  }

  router& owner_;
  std::shared_ptr<session> session_;
  std::uint64_t last_request_ = 0;
  std::atomic<bool> gone_{false};
  // pending_, subs_ and why_: answers come on the session's loop, requests on any (a hand-over).
  std::mutex mutex_;
  std::string why_;
  std::unordered_map<std::uint64_t, pending_request> pending_;  // by request id
  std::unordered_map<std::uint64_t, subscription> subs_;        // by subscription id
};

// ---- one realm's bridge --------------------------------------------------------------------------

struct http_bridge::endpoint {
  std::string realm;
  http_bridge_config config;
  auth::bridge_authenticator auth;
  endpoint(std::string r, const http_bridge_config& c) : realm(std::move(r)), config(c), auth(c.auth) {}
};

http_bridge::http_bridge(router& owner) : owner_(owner) {}

http_bridge::~http_bridge() { close_all(); }

void http_bridge::close_all() {
  const core_guard lock(owner_.core());
  auto clients = std::move(clients_);
  clients_.clear();
  for (auto& [key, c] : clients) c->end();
}

void http_bridge::configure(const router_config& config) {
  const core_guard lock(owner_.core());
  std::map<std::string, std::unique_ptr<endpoint>, std::less<>> fresh;
  std::size_t largest = 0;
  for (const realm_settings& r : config.realms) {
    if (!r.bridge) continue;
    fresh.emplace(r.bridge->path, std::make_unique<endpoint>(r.name, *r.bridge));
    largest = std::max(largest, r.bridge->max_body);
  }
  // Keep the sessions of principals still configured in the same realm with the same role.
  auto still_configured = [&](const std::string& key) {
    for (const auto& [path, e] : fresh) {
      const std::string prefix = e->realm + '\n';
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      const auto& a = e->config.auth;
      for (const auto& t : a.tokens)
        if (key == prefix + "http-bearer\n" + t.authid + '\n' + t.authrole) return true;
      for (const auto& k : a.keys)
        if (key == prefix + "http-signed\n" + k.authid + '\n' + k.authrole) return true;
      if (!a.anonymous_role.empty() && key == prefix + "anonymous\nanonymous\n" + a.anonymous_role) return true;
    }
    return false;
  };
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (still_configured(it->first)) {
      ++it;
      continue;
    }
    auto gone = it->second;
    it = clients_.erase(it);
    gone->end();
  }
  endpoints_ = std::move(fresh);
  max_body_.store(largest, std::memory_order_relaxed);
}

http_bridge::endpoint* http_bridge::find_endpoint(std::string_view path) const {
  // The longest bridge path that is `path` itself or a prefix of it at a '/'.
  endpoint* best = nullptr;
  std::size_t best_length = 0;
  for (const auto& [base, e] : endpoints_) {
    if (path.size() < base.size() || path.compare(0, base.size(), base) != 0) continue;
    if (path.size() > base.size() && path[base.size()] != '/') continue;
    if (base.size() >= best_length) {
      best = e.get();
      best_length = base.size();
    }
  }
  return best;
}

std::shared_ptr<http_bridge::client> http_bridge::client_for(const endpoint& e, const auth::http_principal& who,
                                                             const bridge_reply& reply) {
  const std::string key = e.realm + '\n' + who.authmethod + '\n' + who.authid + '\n' + who.authrole;
  const auto it = clients_.find(key);
  if (it != clients_.end() && !it->second->gone()) return it->second;
  // What the bridge's sessions announce: a caller that takes progressive results (for SSE), a
  // publisher and a subscriber.
  static const object roles = [] {
    object features;
    features.push_back("progressive_call_results", value(true));
    object caller;
    caller.push_back("features", value(std::move(features)));
    object r;
    r.push_back("caller", value(std::move(caller)));
    r.push_back("publisher", value(object{}));
    r.push_back("subscriber", value(object{}));
    return r;
  }();
  auto c = std::make_shared<client>(owner_);
  c->wamp().join_trusted(e.realm, auth::welcome_step{who.authid, who.authrole, who.authmethod, "bridge", {}, e.realm},
                         roles);
  if (!c->wamp().established()) {
    std::string why = c->why_gone();
    if (why.empty()) why = "the bridge's session could not join";
    const int status = why.rfind("wamp.close.system_shutdown", 0) == 0 ? 503 : 403;
    JLOG(warn) << "HTTP bridge: the principal's session could not join: " << why << log_field("realm", e.realm)
               << log_field("authid", who.authid) << log_field("authrole", who.authrole);
    c->end();
    reply(refusal(status, "wamp.error.not_authorized", why));
    return nullptr;
  }
  JLOG(info) << "HTTP bridge session joined" << log_field("realm", e.realm) << log_field("authid", who.authid)
             << log_field("authrole", who.authrole) << log_field("authmethod", who.authmethod);
  if (it != clients_.end()) {
    auto stale = std::exchange(it->second, c);
    stale->end();
  } else {
    clients_.emplace(key, c);
  }
  return c;
}

bool http_bridge::handles(std::string_view path) const {
  const core_guard lock(owner_.core());
  return find_endpoint(path) != nullptr;
}

void http_bridge::handle(const http::request& req, bridge_responder respond) {
  const core_guard lock(owner_.core());
  auto reply = [&respond](bridge_response r) { respond.reply(std::move(r)); };
  endpoint* e = find_endpoint(req.head.path());
  if (e == nullptr) return reply(refusal(404, "wamp.error.invalid_uri", "no bridge at this path"));
  const std::string_view action = req.head.path().substr(e->config.path.size());
  const bool publish = action == "/publish";
  const bool subscribe = action == "/subscribe";
  if (!publish && !subscribe && action != "/call")
    return reply(refusal(404, "wamp.error.invalid_uri",
                         "no such bridge endpoint (POST " + e->config.path + "/publish or /call, GET " +
                             e->config.path + "/subscribe)"));
  if (subscribe ? req.head.method != "GET" : req.head.method != "POST")
    return reply(refusal(405, "wamp.error.invalid_argument", subscribe ? "use GET" : "use POST",
                         subscribe ? "Allow: GET\r\n" : "Allow: POST\r\n"));
  if (!req.head.content_type.empty() && req.head.content_type.rfind("application/json", 0) != 0)
    return reply(refusal(415, "wamp.error.invalid_argument",
                         "the body must be application/json, not " + req.head.content_type));
  if (req.body.size() > e->config.max_body)
    return reply(refusal(413, "wamp.error.payload_size_exceeded",
                         "request body over " + std::to_string(e->config.max_body) + " bytes"));

  // Who asks (the authenticator's nonce memory is guarded by the core lock, as the endpoint is).
  const std::string_view target = req.head.target;
  const std::size_t q = target.find('?');
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  auto who = e->auth.check(req.head.authorization, query, req.body, std::chrono::system_clock::now());
  if (who.status != 0) {
    JLOG(info) << "HTTP bridge request refused: " << who.error << log_field("realm", e->realm);
    return reply(refusal(who.status, "wamp.error.not_authorized", who.error,
                         who.status == 401 ? "WWW-Authenticate: Bearer realm=\"" + e->realm + "\"\r\n" : ""));
  }

  // Its session: one per realm and principal, made now if need be.
  std::shared_ptr<client> c = client_for(*e, who.who, respond.reply);
  if (!c) return;
  const realm* where = owner_.find_realm(e->realm);
  const bool drop = where != nullptr && where->config().slow_consumer == slow_consumer_policy::drop_events;

  if (subscribe) {
    // GET .../subscribe?topic=URI[&match=prefix|wildcard]: SUBSCRIBE, then the stream opens at
    // SUBSCRIBED (a refusal is still a plain HTTP error).
    bool found = false;
    const std::string topic = auth::query_parameter(query, "topic", &found);
    if (!found || topic.empty()) return reply(refusal(400, "wamp.error.invalid_argument", "?topic=URI is required"));
    const std::string match = auth::query_parameter(query, "match");
    if (!match.empty() && match != "exact" && match != "prefix" && match != "wildcard")
      return reply(refusal(400, "wamp.error.invalid_argument", "match must be exact, prefix or wildcard"));
    client::request r{client::what::subscribe, std::move(respond), false, drop, topic};
    c->submit([&](std::uint64_t request) {
      rapidjson::StringBuffer b;
      json_writer w(b);
      w.StartArray();
      w.Uint(32);
      w.Uint64(request);
      w.StartObject();
      if (!match.empty() && match != "exact") {
        w.Key("match");
        w.String(match.data(), static_cast<rapidjson::SizeType>(match.size()));
      }
      w.EndObject();
      w.String(topic.data(), static_cast<rapidjson::SizeType>(topic.size()));
      w.EndArray();
      return std::string(b.GetString(), b.GetSize());
    }, std::move(r));
    return;
  }

  // What it asks.
  rapidjson::Document body;
  body.Parse(req.body.data(), req.body.size());
  if (body.HasParseError() || !body.IsObject())
    return reply(refusal(400, "wamp.error.invalid_argument", "the body must be a JSON object"));
  const char* uri_key = publish ? "topic" : "procedure";
  const auto uri = body.FindMember(uri_key);
  if (uri == body.MemberEnd() || !uri->value.IsString() || uri->value.GetStringLength() == 0)
    return reply(refusal(400, "wamp.error.invalid_argument", std::string("\"") + uri_key + "\" must be a string"));
  const auto args = body.FindMember("args");
  const auto kwargs = body.FindMember("kwargs");
  const auto options = body.FindMember("options");
  if (args != body.MemberEnd() && !args->value.IsArray() && !args->value.IsNull())
    return reply(refusal(400, "wamp.error.invalid_argument", "\"args\" must be a list"));
  if (kwargs != body.MemberEnd() && !kwargs->value.IsObject() && !kwargs->value.IsNull())
    return reply(refusal(400, "wamp.error.invalid_argument", "\"kwargs\" must be a dict"));
  if (options != body.MemberEnd() && !options->value.IsObject() && !options->value.IsNull())
    return reply(refusal(400, "wamp.error.invalid_argument", "\"options\" must be a dict"));

  // The WAMP message: [PUBLISH, request, options, topic, args, kwargs] with acknowledge (the
  // answer is the broker's), or [CALL, request, options, procedure, args, kwargs] with the
  // bridge's timeout unless the options give one, and receive_progress when the client takes
  // Server-Sent Events.
  const std::chrono::milliseconds timeout = e->config.call_timeout;
  const bool sse = !publish && req.head.accept.find("text/event-stream") != std::string::npos;
  auto frame = [&](std::uint64_t request) {
    rapidjson::StringBuffer b;
    json_writer w(b);
    w.StartArray();
    w.Uint(publish ? 16 : 48);
    w.Uint64(request);
    w.StartObject();
    bool has_timeout = false;
    if (options != body.MemberEnd() && options->value.IsObject()) {
      for (const auto& m : options->value.GetObject()) {
        const std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if ((publish && name == "acknowledge") || (!publish && name == "receive_progress")) continue;
        if (name == "timeout") has_timeout = true;
        m.name.Accept(w);
        m.value.Accept(w);
      }
    }
    if (publish) {
      w.Key("acknowledge");
      w.Bool(true);
    } else {
      if (!has_timeout) {
        w.Key("timeout");
        w.Int64(timeout.count());
      }
      if (sse) {
        w.Key("receive_progress");
        w.Bool(true);
      }
    }
    w.EndObject();
    uri->value.Accept(w);
    write_value(w, args != body.MemberEnd() && args->value.IsArray() ? &args->value : nullptr, true);
    write_value(w, kwargs != body.MemberEnd() && kwargs->value.IsObject() ? &kwargs->value : nullptr, false);
    w.EndArray();
    return std::string(b.GetString(), b.GetSize());
  };
  c->submit(frame, client::request{publish ? client::what::publish : client::what::call, std::move(respond), sse,
                                   drop, {}});
}

}  // namespace junction
