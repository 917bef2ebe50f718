#pragma once
// pdu_writer: the NVMe/TCP send queue shared by target and host. PDUs are queued as
// tx_pdu items (intrusive, owned by the caller: a request or the connection), written
// with one sendmsg over as many queued PDUs as fit (batching), and their owner is told
// when each is fully on the socket. Digests are computed when the PDU is built.
//
// Threading: one writer per connection, used only on the connection's reactor.
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/nvme_tcp_pdu.h"

namespace nvmfd {

struct tx_pdu;

class tx_pdu_done {
 public:
  virtual void on_pdu_sent(tx_pdu& p) = 0;

 protected:
  ~tx_pdu_done() = default;
};

struct tx_pdu {
  std::array<iovec, 4> iov{};
  uint8_t iovcnt = 0;
  uint8_t first_iov = 0;       // progress through iov while partially sent
  uint32_t ddgst = 0;          // storage for the data digest
  tx_pdu* next = nullptr;
  tx_pdu_done* done = nullptr; // told when the PDU is fully written; may be null
};

enum class write_status : uint8_t { idle, would_block, closed };

class pdu_writer {
 public:
  // Finishes a PDU whose type-specific header fields are already in `header` (hlen bytes,
  // plus room for 4 more: the header digest goes right after it). Sets flags (digest bits
  // are set here; other flags are kept), hlen, pdo (data aligned to pda_dwords*4 if > 0),
  // plen, computes digests and fills p's iovecs. The header and data must stay valid and
  // unchanged until p's done callback runs.
  static void build(tx_pdu& p, std::byte* header, uint8_t hlen, const std::byte* data, uint32_t data_len,
                    bool hdgst, bool ddgst, uint32_t pda_bytes = 0);

  static constexpr size_t max_iov = 256;  // iovecs per sendmsg: 128 reads and their data at QD128

  void enqueue(tx_pdu& p);
  // Writes until the queue is empty or the socket would block.
  write_status flush(int fd);
  // For senders of their own (io_uring): the iovecs of the queue from its head, up to
  // out.size() of them; then, once `sent` bytes of them are on the socket, advance(sent)
  // drops what was sent and tells each finished PDU's owner. PDUs queued meanwhile join
  // the tail; the gathered iovecs stay valid until advance.
  size_t gather(std::span<iovec> out) const;
  void advance(size_t sent);
  bool empty() const { return head_ == nullptr; }

 private:
  tx_pdu* head_ = nullptr;
  tx_pdu* tail_ = nullptr;
};

}  // namespace nvmfd
