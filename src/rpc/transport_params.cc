#include "rpc/transport_params.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <fmt/format.h>

#include "base/buffer_pool.h"
#include "rpc/param_reader.h"
#include "target/nvmf_target.h"
#include "target/rdma/rdma_transport.h"
#include "target/tcp/tcp_transport.h"

namespace nvmfd {

using json = nlohmann::json;

namespace {

template <class T>
void read_uint(param_reader& p, std::string_view name, T& field) {
  field = static_cast<T>(p.optional_uint(name, std::numeric_limits<T>::max()).value_or(field));
}

// The params both transports have, read into o and checked.
template <class Options>
void read_common(param_reader& p, Options& o) {
  read_uint(p, "max_queue_depth", o.max_queue_depth);
  read_uint(p, "max_io_qpairs_per_ctrlr", o.max_io_qpairs_per_ctrlr);
  read_uint(p, "in_capsule_data_size", o.in_capsule_data_size);
  read_uint(p, "max_io_size", o.max_io_size);
  read_uint(p, "io_unit_size", o.io_unit_size);
  read_uint(p, "max_aq_depth", o.max_aq_depth);
  read_uint(p, "num_shared_buffers", o.num_shared_buffers);
  read_uint(p, "buf_cache_size", o.buf_cache_size);
  read_uint(p, "abort_timeout_sec", o.abort_timeout_sec);
  read_uint(p, "kas", o.kas);
  read_uint(p, "min_kato", o.min_kato);
  if (p.optional_bool("dif_insert_or_strip").value_or(false)) p.fail("dif_insert_or_strip", "not supported");
  if (p.ok() && (o.max_queue_depth < 2)) p.fail("max_queue_depth", "must be at least 2");
  if (p.ok() && (o.max_aq_depth < 32 || o.max_aq_depth > 4096)) p.fail("max_aq_depth", "must be 32..4096");
  if (p.ok() && o.max_io_qpairs_per_ctrlr < 1) p.fail("max_io_qpairs_per_ctrlr", "must be at least 1");
  if (p.ok() && (o.max_io_size < 4096 || o.max_io_size > (4u << 20) || !std::has_single_bit(o.max_io_size)))
    p.fail("max_io_size", "must be a power of two from 4096 to 4194304");
  if (p.ok() && (o.in_capsule_data_size > 131072 || o.in_capsule_data_size % 16 != 0))
    p.fail("in_capsule_data_size", "must be a multiple of 16, at most 131072");
  if (p.ok() && (o.io_unit_size < 4096 || o.io_unit_size > buffer_pool::max_size))
    p.fail("io_unit_size", "must be 4096 to 4194304");
  if (p.ok() && uint64_t{o.num_shared_buffers} * o.io_unit_size < o.max_io_size)
    p.fail("num_shared_buffers", "num_shared_buffers x io_unit_size must hold at least one max_io_size command");
}

// Knobs of other transports and of SPDK's buffer caches: accepted, meaningless here.
void ignore_foreign(param_reader& p) {
  p.ignore({"tgt_name", "iobuf_small_cache_size", "iobuf_large_cache_size", "num_cqe", "control_msg_num",
            "disable_mappable_bar0", "disable_adaptive_irq", "disable_shadow_doorbells", "acceptor_poll_rate",
            "masked_oncs", "masked_fuses"});
}

result<json> create_tcp(nvmf_target& t, param_reader& p) {
  tcp_transport_options o;
  read_common(p, o);
  read_uint(p, "h2c_data_timeout_ms", o.h2c_data_timeout_ms);
  read_uint(p, "incomplete_pdu_timeout_ms", o.incomplete_pdu_timeout_ms);
  read_uint(p, "max_connections_per_listener", o.max_connections_per_listener);
  o.c2h_success = p.optional_bool("c2h_success").value_or(o.c2h_success);
  o.sock_priority = static_cast<uint32_t>(p.optional_uint("sock_priority", 6).value_or(0));
  read_uint(p, "ack_timeout", o.ack_timeout);
  read_uint(p, "data_wr_pool_size", o.data_wr_pool_size);
  o.disable_command_passthru = p.optional_bool("disable_command_passthru").value_or(false);
  if (p.optional_bool("zcopy").value_or(false)) p.fail("zcopy", "not supported");
  p.ignore({"max_srq_depth", "no_srq", "acceptor_backlog", "no_wr_batching"});
  ignore_foreign(p);
  if (auto f = p.finish(); !f) return f.take_err();
  if (auto r = t.add_transport(std::make_unique<tcp_transport>(t, o)); !r) return r.take_err();
  return json(true);
}

result<json> create_rdma(nvmf_target& t, param_reader& p) {
  rdma_transport_options o;
  read_common(p, o);
  read_uint(p, "max_srq_depth", o.max_srq_depth);
  o.no_srq = p.optional_bool("no_srq").value_or(o.no_srq);
  o.acceptor_backlog =
      static_cast<int32_t>(p.optional_int("acceptor_backlog", 1, INT32_MAX).value_or(o.acceptor_backlog));
  o.no_wr_batching = p.optional_bool("no_wr_batching").value_or(o.no_wr_batching);
  if (p.optional_bool("zcopy").value_or(false)) p.fail("zcopy", "not supported");
  // TCP's: meaningless on RDMA (SPDK accepts them for any transport too).
  p.ignore({"c2h_success", "sock_priority", "ack_timeout", "data_wr_pool_size", "disable_command_passthru",
            "h2c_data_timeout_ms", "incomplete_pdu_timeout_ms", "max_connections_per_listener"});
  ignore_foreign(p);
  if (auto f = p.finish(); !f) return f.take_err();
  if (t.find_transport(rdma_transport::trtype))
    return error{errc::already_exists, "the RDMA transport already exists"};
  auto tr = rdma_transport::create(t, o);
  if (!tr) return tr.take_err();
  if (auto r = t.add_transport(std::move(*tr)); !r) return r.take_err();
  return json(true);
}

// What both transports show, in SPDK's order.
template <class Options>
json common_json(std::string_view trtype, const Options& o) {
  return {{"trtype", std::string(trtype)},
          {"max_queue_depth", o.max_queue_depth},
          {"max_io_qpairs_per_ctrlr", o.max_io_qpairs_per_ctrlr},
          {"in_capsule_data_size", o.in_capsule_data_size},
          {"max_io_size", o.max_io_size},
          {"io_unit_size", o.io_unit_size},
          {"max_aq_depth", o.max_aq_depth},
          {"num_shared_buffers", o.num_shared_buffers},
          {"buf_cache_size", o.buf_cache_size},
          {"dif_insert_or_strip", o.dif_insert_or_strip},
          {"abort_timeout_sec", o.abort_timeout_sec},
          {"kas", o.kas},
          {"min_kato", o.min_kato}};
}

json tcp_json(const tcp_transport_options& o) {
  json j = common_json(tcp_transport::trtype, o);
  j.update({{"h2c_data_timeout_ms", o.h2c_data_timeout_ms},
            {"incomplete_pdu_timeout_ms", o.incomplete_pdu_timeout_ms},
            {"max_connections_per_listener", o.max_connections_per_listener},
            {"zcopy", o.zcopy},
            {"c2h_success", o.c2h_success},
            {"sock_priority", o.sock_priority},
            {"ack_timeout", o.ack_timeout},
            {"data_wr_pool_size", o.data_wr_pool_size},
            {"disable_command_passthru", o.disable_command_passthru}});
  return j;
}

json rdma_json(const rdma_transport_options& o) {
  json j = common_json(rdma_transport::trtype, o);
  j.update({{"max_srq_depth", o.max_srq_depth},
            {"no_srq", o.no_srq},
            {"acceptor_backlog", o.acceptor_backlog},
            {"no_wr_batching", o.no_wr_batching}});
  return j;
}

}  // namespace

result<json> create_transport(nvmf_target& t, const json& params) {
  param_reader p(params);
  std::string trtype = p.required_string("trtype");
  std::string name = trtype;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name == "rdma") return create_rdma(t, p);
  if (p.ok() && name != "tcp") p.fail("trtype", fmt::format("'{}' is not supported; nvmfd serves TCP and RDMA", trtype));
  return create_tcp(t, p);
}

json transport_json(const target_transport& tr) {
  if (auto* tcp = dynamic_cast<const tcp_transport*>(&tr)) return tcp_json(tcp->options());
  if (auto* rdma = dynamic_cast<const rdma_transport*>(&tr)) return rdma_json(rdma->options());
  return {{"trtype", std::string(tr.name())}};
}

}  // namespace nvmfd
