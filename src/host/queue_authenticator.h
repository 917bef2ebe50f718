#pragma once
// queue_authenticator: one DH-HMAC-CHAP transaction (NVMe Base 2.1 8.3.4.5) on one connected
// host queue, the host's engine (auth::host_auth) driven by AUTH_Send and AUTH_Receive fabrics
// commands (Base 2.1 6.2, 6.3) on that queue. Asynchronous: one command at a time, each
// continuing from its completion on the queue's reactor; nothing blocks.
//
// The deadline bounds the whole transaction: each command gets the time that is left (and
// times out with the queue's command timeout machinery). The FFDHE computations run on the
// queue's reactor (milliseconds, once per queue per connect).
//
// Errors (never key material): invalid_argument "DH-HMAC-CHAP on qid N failed: <why>" when
// either side refused (a wrong key, no hash or group in common, a controller response that
// does not match); io_error "DH-HMAC-CHAP on qid N: AUTH_Send (Reply) failed: NVMe status ..."
// when a command failed; timed_out when the deadline passed.
//
// Threads: authenticate_queue() from any thread; done runs on the queue's reactor, never
// inside the call.
#include <memory>

#include "auth/host_auth.h"
#include "host/host_queue.h"
#include "reactor/completion.h"
#include "reactor/time_source.h"

namespace nvmfd {

// The data an AUTH_Receive asks for: the largest message (a Challenge with an FFDHE-8192
// value, about 1.1 KiB) fits with room to spare.
inline constexpr uint32_t auth_receive_length = 4096;

void authenticate_queue(std::shared_ptr<host_queue> q, auth::host_auth_config cfg, time_source::time_point deadline,
                        completion<void> done);

}  // namespace nvmfd
