#pragma once
// uring_op: what an io_uring operation tells when it completes (uring_engine.h). res is a
// byte count or -errno as io_uring reports it, flags the CQE flags: IORING_CQE_F_MORE while
// a multishot operation stays armed, IORING_CQE_F_BUFFER with the provided buffer's id in
// the bits above IORING_CQE_BUFFER_SHIFT. Called on the engine's reactor thread.
#include <cstdint>

namespace nvmfd {

class uring_op {
 public:
  virtual void on_complete(int res, uint32_t flags) = 0;

 protected:
  ~uring_op() = default;
};

}  // namespace nvmfd
