// realm/operations.hpp — a realm's operations run to completion (docs/THREADING.md, "Run to
// completion").
//
// Every way into a realm — a message routed, a session joining or leaving, a kill, a router
// publication, a timer firing — is one operation, and nested operations (a meta event published
// while a session leaves) belong to the outermost one. A peer may ask for a session to leave while
// an operation runs: its transport found the connection dead inside peer::send (an outgoing
// message over the client's limit, a slow consumer), exactly the moment the dealer or broker is
// in the middle of a change. Such a leave is a hand-off, never a re-entrant call: it is queued and
// runs when the outermost operation ends, each in an operation of its own, in the order asked.
// So code in realm/ never sees its registry change under its feet, and reads what it looked up
// before a send without looking it up again.
//
// The multi-core engine keeps the rule: a leave from another thread is the same hand-off.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "serializers/message.hpp"

namespace junction {

class realm_operations {
 public:
  // `leave_now` removes a session from the realm; it runs only between operations.
  explicit realm_operations(std::function<void(id)> leave_now) : leave_now_(std::move(leave_now)) {}
  realm_operations(const realm_operations&) = delete;
  realm_operations& operator=(const realm_operations&) = delete;

  // One operation, for the life of the scope; nested scopes join the outermost one.
  class [[nodiscard]] scope {
   public:
    explicit scope(realm_operations& ops) noexcept : ops_(ops) { ++ops_.depth_; }
    ~scope() {
      if (--ops_.depth_ == 0 && !ops_.leaving_.empty()) ops_.run_deferred();
    }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

   private:
    realm_operations& ops_;
  };

  [[nodiscard]] bool running() const noexcept { return depth_ != 0; }

  // A session leaves: now if no operation runs, else when the outermost one ends.
  void leave(id session) {
    if (running()) {
      leaving_.push_back(session);
      return;
    }
    const scope op(*this);
    leave_now_(session);
  }

  // How many leaves wait for the current operation to end (tests).
  [[nodiscard]] std::size_t deferred() const noexcept { return leaving_.size() - next_; }

 private:
  // Each deferred leave is an operation of its own; leaves it causes queue behind it.
  void run_deferred() {
    ++depth_;
    while (next_ < leaving_.size()) leave_now_(leaving_[next_++]);
    leaving_.clear();
    next_ = 0;
    --depth_;
  }

  std::function<void(id)> leave_now_;
  int depth_ = 0;
  std::vector<id> leaving_;  // asked during an operation, in order
  std::size_t next_ = 0;     // the next of leaving_ to run
};

}  // namespace junction
