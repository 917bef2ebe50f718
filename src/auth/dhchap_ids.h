#pragma once
// DH-HMAC-CHAP identifiers (NVMe Base 2.1 8.3.4.5): the hash functions and the
// Diffie-Hellman groups, with the names the RPCs and logs use ("sha256", "ffdhe2048",
// "null", as SPDK and nvme-cli spell them). Pure data; callable from any thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace nvmfd::auth {

// HashID of the protocol (Base 2.1 Figure "DH-HMAC-CHAP hash function identifiers").
enum class hash_id : uint8_t { sha256 = 1, sha384 = 2, sha512 = 3 };
// DHgIDs (Base 2.1 Figure "DH-HMAC-CHAP Diffie-Hellman group identifiers"); null: no DH.
enum class dh_group : uint8_t { null = 0, ffdhe2048 = 1, ffdhe3072 = 2, ffdhe4096 = 3, ffdhe6144 = 4, ffdhe8192 = 5 };

inline constexpr hash_id all_hashes[] = {hash_id::sha256, hash_id::sha384, hash_id::sha512};
inline constexpr dh_group all_dh_groups[] = {dh_group::null,      dh_group::ffdhe2048, dh_group::ffdhe3072,
                                             dh_group::ffdhe4096, dh_group::ffdhe6144, dh_group::ffdhe8192};

// The digest length in bytes of a hash (32, 48, 64).
constexpr size_t digest_length(hash_id h) {
  switch (h) {
    case hash_id::sha256: return 32;
    case hash_id::sha384: return 48;
    case hash_id::sha512: return 64;
  }
  return 0;
}

// A wire byte as a hash or a group: nullopt for an identifier we do not know.
std::optional<hash_id> hash_from_wire(uint8_t v);
std::optional<dh_group> dh_group_from_wire(uint8_t v);

std::string_view name(hash_id h);   // "sha256"
std::string_view name(dh_group g);  // "null", "ffdhe2048"
// From a name as above (exact, lower case); nullopt if unknown.
std::optional<hash_id> parse_hash(std::string_view s);
std::optional<dh_group> parse_dh_group(std::string_view s);

// A set of hashes or groups, as a bit per identifier; the RPCs' allow lists.
template <class E>
class id_set {
 public:
  constexpr id_set() = default;
  constexpr id_set(std::initializer_list<E> ids) {
    for (E e : ids) add(e);
  }
  constexpr void add(E e) { bits_ |= 1u << static_cast<unsigned>(e); }
  constexpr bool contains(E e) const { return (bits_ >> static_cast<unsigned>(e)) & 1u; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const id_set&) const = default;

 private:
  uint32_t bits_ = 0;
};
using hash_set = id_set<hash_id>;
using dh_group_set = id_set<dh_group>;

// Everything we implement (the default of nvmf_set_config's dhchap_digests/dhgroups).
hash_set every_hash();
dh_group_set every_dh_group();

}  // namespace nvmfd::auth
