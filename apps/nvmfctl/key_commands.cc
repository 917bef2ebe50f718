#include "key_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <fstream>
#include <iostream>

#include "keys/dhchap_secret.h"
#include "keys/interchange.h"
#include "keys/key_file.h"
#include "keys/tls_psk.h"
#include "keys/trim.h"

namespace nvmfd::ctl {

namespace {

const char* hash_name(unsigned id) {
  switch (id) {
    case 0: return "none";
    case 1: return "SHA-256";
    case 2: return "SHA-384";
    case 3: return "SHA-512";
    default: return "unknown";
  }
}

std::string first_line_of(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return std::string(keys::trim_view(line));
}

int fail(std::string_view command, const std::string& msg) {
  std::cerr << "nvmfctl " << command << ": " << msg << "\n";
  return 1;
}

// Prints the key or writes it to `output`.
int emit(std::string_view command, const result<std::string>& key, const std::string& output) {
  if (!key) return fail(command, key.err().message);
  if (output.empty()) {
    std::cout << *key << "\n";
    return 0;
  }
  if (auto w = write_key_file(output, *key); !w) return fail(command, w.err().message);
  return 0;
}

// Parses argv with `app`; -1 to go on, else the exit status (help printed, or a usage error).
int parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  return -1;
}

}  // namespace

result<std::vector<uint8_t>> parse_hex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0)
    return error{errc::invalid_argument, "--secret: an even number of hexadecimal digits is needed"};
  std::vector<uint8_t> out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      keys::wipe(out.data(), out.size());
      return error{errc::invalid_argument, "--secret: only hexadecimal digits are allowed"};
    }
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return out;
}

result<std::string> make_dhchap_key(const dhchap_key_request& req) {
  if (req.hmac > 3)
    return error{errc::invalid_argument,
                 fmt::format("--hmac {}: 0 (none), 1 (SHA-256), 2 (SHA-384) or 3 (SHA-512)", req.hmac)};
  uint8_t hmac = static_cast<uint8_t>(req.hmac);
  keys::dhchap_secret secret;
  if (!req.secret_hex.empty()) {
    auto bytes = parse_hex(req.secret_hex);
    if (!bytes) return bytes.take_err();
    if (req.key_length != 0 && req.key_length != bytes->size())
      return error{errc::invalid_argument,
                   fmt::format("--secret has {} bytes, --key-length says {}", bytes->size(), req.key_length)};
    secret = keys::dhchap_secret{hmac, std::move(*bytes)};
    if (auto v = keys::validate_dhchap_secret(secret); !v) return v.take_err();
  } else {
    auto g = keys::generate_dhchap_secret(hmac, req.key_length);
    if (!g) return g.take_err();
    secret = std::move(*g);
  }
  if (hmac != 0) {
    if (req.nqn.empty())
      return error{errc::invalid_argument,
                   "--nqn NQN is needed to transform the key with --hmac 1..3 (and /etc/nvme/hostnqn "
                   "has none)"};
    std::vector<uint8_t> transformed = keys::transform_dhchap_key(secret, req.nqn);
    keys::wipe(secret.key.data(), secret.key.size());  // assignment frees without wiping
    secret.key = std::move(transformed);
  }
  return keys::format_dhchap_secret(secret);
}

result<std::string> make_tls_key(const tls_key_request& req) {
  if (req.hmac != 1 && req.hmac != 2)
    return error{errc::invalid_argument, fmt::format("--hmac {}: 1 (SHA-256) or 2 (SHA-384)", req.hmac)};
  uint8_t hash = static_cast<uint8_t>(req.hmac);
  if (req.secret_hex.empty()) {
    auto g = keys::generate_tls_psk(hash);
    if (!g) return g.take_err();
    return keys::format_tls_psk(*g);
  }
  auto bytes = parse_hex(req.secret_hex);
  if (!bytes) return bytes.take_err();
  keys::tls_psk_key psk{hash, std::move(*bytes)};
  if (auto v = keys::validate_tls_psk(psk); !v) return v.take_err();
  return keys::format_tls_psk(psk);
}

result<std::string> describe_key(std::string_view text) {
  std::string_view t = keys::trim_view(text);
  if (t.starts_with(keys::dhchap_prefix)) {
    auto s = keys::parse_dhchap_secret(t);
    if (!s) return s.take_err();
    return fmt::format("valid DH-HMAC-CHAP secret: hash {:02x} ({}), {}-byte key, CRC-32 {:08x}", s->hmac,
                       hash_name(s->hmac), s->key.size(), keys::crc32_ieee(s->key));
  }
  if (t.starts_with(keys::tls_psk_prefix)) {
    auto k = keys::parse_tls_psk(t);
    if (!k) return k.take_err();
    return fmt::format("valid TLS PSK: hash {:02x} ({}), {}-byte key, CRC-32 {:08x}", k->hash,
                       hash_name(k->hash), k->key.size(), keys::crc32_ieee(k->key));
  }
  return error{errc::invalid_argument,
               "neither a DH-HMAC-CHAP secret (DHHC-1:...) nor a TLS PSK (NVMeTLSkey-1:...)"};
}

result<void> write_key_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return error::from_errno(errno, "cannot create " + path);
  // An existing file keeps its mode through O_CREAT: make it owner-only before the key is in it.
  if (::fchmod(fd, 0600) != 0) {
    int e = errno;
    ::close(fd);
    return error::from_errno(e, "cannot chmod 0600 " + path);
  }
  std::string line(text);  // no newline: SPDK's parsers need the final ':' to end the file
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      keys::wipe(line.data(), line.size());
      ::close(fd);
      return error::from_errno(e, "cannot write " + path);
    }
    done += static_cast<size_t>(n);
  }
  keys::wipe(line.data(), line.size());
  if (::close(fd) != 0) return error::from_errno(errno, "cannot write " + path);
  return success();
}

int gen_dhchap_key_command(int argc, char** argv) {
  CLI::App app{"Generate a DH-HMAC-CHAP secret in the NVMe interchange format (DHHC-1:hh:...:)",
               "nvmfctl gen-dhchap-key"};
  dhchap_key_request req;
  std::string output;
  app.add_option("-m,--hmac", req.hmac, "hash to transform the key with: 0 none, 1 SHA-256, 2 SHA-384, 3 SHA-512")
      ->capture_default_str();
  app.add_option("-l,--key-length", req.key_length, "key length: 32, 48 or 64 bytes (default: the hash's, 32)");
  app.add_option("-n,--nqn", req.nqn, "host NQN for the transform (default: /etc/nvme/hostnqn)");
  app.add_option("-s,--secret", req.secret_hex, "the key bytes in hexadecimal (default: random)");
  app.add_option("-o,--output", output, "write the key to FILE (mode 0600) instead of stdout");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  if (req.hmac != 0 && req.nqn.empty()) req.nqn = first_line_of("/etc/nvme/hostnqn");
  return emit("gen-dhchap-key", make_dhchap_key(req), output);
}

int gen_tls_key_command(int argc, char** argv) {
  CLI::App app{"Generate a TLS PSK in the NVMe PSK interchange format (NVMeTLSkey-1:hh:...:)",
               "nvmfctl gen-tls-key"};
  tls_key_request req;
  std::string output;
  app.add_option("-m,--hmac", req.hmac, "hash of the retained PSK: 1 SHA-256 (32-byte key), 2 SHA-384 (48)")
      ->capture_default_str();
  app.add_option("-s,--secret", req.secret_hex, "the key bytes in hexadecimal (default: random)");
  app.add_option("-o,--output", output, "write the key to FILE (mode 0600) instead of stdout");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  return emit("gen-tls-key", make_tls_key(req), output);
}

int check_key_command(int argc, char** argv) {
  CLI::App app{"Validate a DH-HMAC-CHAP secret or a TLS PSK in the NVMe interchange format",
               "nvmfctl check-key"};
  std::string key_text, file;
  app.add_option("key", key_text, "the key (DHHC-1:... or NVMeTLSkey-1:...)");
  app.add_option("-f,--file", file, "a key file, checked as keyring_file_add_key would read it");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  if (key_text.empty() == file.empty()) return fail("check-key", "give either KEY or --file PATH");
  if (!file.empty()) {
    auto text = keys::read_key_file(file);
    if (!text) return fail("check-key", text.err().message);
    key_text = std::move(*text);
  }
  auto d = describe_key(key_text);
  keys::wipe(key_text.data(), key_text.size());
  if (!d) return fail("check-key", d.err().message);
  std::cout << *d << "\n";
  return 0;
}

}  // namespace nvmfd::ctl
