#pragma once
// member_task: a deferred_task that calls one member function of the object it is part of,
// so that one object (an I/O's context) can carry several messages, one task each, and
// post or defer them without allocating. The object must outlive every queued task.
#include "reactor/deferred_task.h"

namespace nvmfd {

template <class Owner, void (Owner::*Fn)()>
class member_task final : public deferred_task {
 public:
  explicit member_task(Owner& owner) : owner_(&owner) {}
  member_task(const member_task&) = delete;
  member_task& operator=(const member_task&) = delete;
  void run_deferred() override { (owner_->*Fn)(); }

 private:
  Owner* owner_;
};

}  // namespace nvmfd
