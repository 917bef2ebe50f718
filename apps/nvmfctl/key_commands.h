#pragma once
// nvmfctl's key commands, as nvme-cli's gen-dhchap-key / gen-tls-key / check-*-key (options of
// the same names and meaning), working without a running nvmfd:
//
//   nvmfctl gen-dhchap-key [-m|--hmac 0..3] [-l|--key-length 32|48|64] [-n|--nqn NQN]
//                          [-s|--secret HEX] [-o|--output FILE]
//       A DH-HMAC-CHAP secret "DHHC-1:hh:...:". Random unless --secret gives the key bytes. With
//       --hmac 1..3 the key is transformed for --nqn (default /etc/nvme/hostnqn), as nvme-cli
//       does: HMAC(key, NQN || "NVMe-over-Fabrics"); its length must be the hash's (default).
//   nvmfctl gen-tls-key [-m|--hmac 1|2] [-s|--secret HEX] [-o|--output FILE]
//       A TLS PSK "NVMeTLSkey-1:hh:...:" of 32 (SHA-256) or 48 (SHA-384) bytes.
//   nvmfctl check-key KEY | check-key -f|--file PATH
//       Validates either format (CRC, lengths, hash) and prints what the key is; with --file,
//       also the key file rules of keyring_file_add_key (absolute path, mode 0600 or stricter).
//
// The interchange string goes to stdout, or with --output to FILE, created or truncated with
// mode 0600 and without a newline (so that keyring_file_add_key of nvmfd and of SPDK accept it). Exit 0, or 1 with one line on stderr.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nvmfd::ctl {

struct dhchap_key_request {
  unsigned hmac = 0;
  size_t key_length = 0;   // 0: the hash's length (32 for --hmac 0), or the secret's
  std::string nqn;         // needed when hmac != 0
  std::string secret_hex;  // empty: random
};
// The interchange string, or invalid_argument naming the bad option.
result<std::string> make_dhchap_key(const dhchap_key_request& req);

struct tls_key_request {
  unsigned hmac = 1;
  std::string secret_hex;  // empty: random
};
result<std::string> make_tls_key(const tls_key_request& req);

// One line saying what the key is, e.g. "valid DH-HMAC-CHAP secret: hash 01 (SHA-256), 32-byte
// key, CRC-32 91267e8a"; the parser's error for an invalid key, or for a text of neither format.
result<std::string> describe_key(std::string_view text);

// Bytes from hexadecimal text (an even number of digits); invalid_argument otherwise.
result<std::vector<uint8_t>> parse_hex(std::string_view hex);

// Writes `text` to `path` without a newline (SPDK's key parsers refuse one), created or
// truncated, mode 0600 (also when it existed).
result<void> write_key_file(const std::string& path, std::string_view text);

// The commands; argv[0] is the command's name.
int gen_dhchap_key_command(int argc, char** argv);
int gen_tls_key_command(int argc, char** argv);
int check_key_command(int argc, char** argv);

}  // namespace nvmfd::ctl
