#pragma once
// nvme_attach_request: what bdev_nvme_attach_controller asked for (SPDK's parameters), kept
// to connect and reconnect a path, to report it and to save it in the config.
#include <cstdint>
#include <string>

#include "host/host_controller.h"
#include "host/transport_id.h"

namespace nvmfd {

// What happens when a path's connection is lost (SPDK's meanings, nvmfd's defaults):
//  - ctrlr_loss_timeout_sec: -1 reconnect forever, 0 never reconnect, N give up after N s;
//  - reconnect_delay_sec: the wait between failed attempts (the first one is immediate);
//  - fast_io_fail_timeout_sec: how long an I/O that finds no usable path waits for one
//    before it fails (0: until the last path is given up).
// SPDK's defaults (0/0/0) never reconnect; nvmfd keeps reconnecting, and fails I/O that has
// had no path for 30 s.
struct reconnect_policy {
  int32_t ctrlr_loss_timeout_sec = -1;
  uint32_t reconnect_delay_sec = 2;
  uint32_t fast_io_fail_timeout_sec = 30;
};

struct nvme_attach_request {
  std::string name;
  transport_id trid;            // trtype "tcp", adrfam "ipv4"/"ipv6" (lower case)
  controller_options opts;      // what host_controller::connect gets
  std::string multipath;        // "", "disable", "failover" or "multipath"
  uint32_t num_io_queues = 0;   // as given; 0: not given (one per reactor)
  uint64_t fabrics_connect_timeout_us = 0;  // as given; 0: not given
  uint32_t max_bdevs = 128;     // more active namespaces than this: the attach fails (-ERANGE)
  bool prchk_reftag = false;    // accepted and saved; without protection information, no effect
  bool prchk_guard = false;
  reconnect_policy reconnect;
  // The keyring names of opts.dhchap_key / dhchap_ctrl_key ("" for none), for the config.
  std::string dhchap_key_name;
  std::string dhchap_ctrlr_key_name;
  std::string psk_name;         // the key given as "psk" (its material is opts.tls_psk); saved, never the key
  // Who made this path: "rpc" (bdev_nvme_attach_controller), "discovery:NAME" (a discovery
  // service), "mdns:NAME/SERVICE" (each discovery service of an mDNS discovery). Only its
  // owner removes it (bdev_nvme_disconnect --force aside).
  std::string owner = "rpc";
};

}  // namespace nvmfd
