#pragma once
// JSON-RPC methods for mDNS discovery (TP8009) on the target, with SPDK's names and params
// (lib/nvmf/nvmf_rpc.c, lib/nvmf/mdns_server.c); tgt_name is accepted and ignored (one target):
//
//   nvmf_publish_mdns_prr {tgt_name?} -> true
//       Publishes every listener of the discovery subsystem as _nvme-disc._tcp (mdns_publisher).
//       While published, a discovery listener added later is published once it is listening,
//       and a removed one is withdrawn. Errors, as SPDK's codes:
//         already published              -> -17 (EEXIST) "mDNS is already published"
//         the discovery subsystem has no
//         listener                       -> -22 (EINVAL) "Discovery subsystem has no listeners"
//         no avahi-daemon reachable      -> -111 (ECONNREFUSED) "mDNS unavailable: <Avahi's error>"
//                                           (the daemon runs on, unpublished)
//   nvmf_stop_mdns_prr {tgt_name?}    -> true; withdraws every service (a no-op when not published)
//
// Config section "nvmf_mdns" (depends on "nvmf", whose listeners it publishes): one
// nvmf_publish_mdns_prr call while published, else empty, so a restart publishes again. Loading
// it without an avahi-daemon fails (the error above).
//
// The advertisement itself is discovery/mdns_advertisement.h; these handlers parse, call it
// and format. Handlers run on the RPC (control) thread. add_mdns_methods registers a discovery
// listener observer on `target` (nvmf_target.h): call it once, at wiring, before the control
// thread runs. mdns_loop: where Avahi runs (the RPC thread's loop_thread); without one,
// publishing answers "mDNS unavailable: no event loop for Avahi".
#include "reactor/reactor.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd {

void add_mdns_methods(rpc_method_table& methods, nvmf_target& target, reactor* mdns_loop = nullptr);

}  // namespace nvmfd
