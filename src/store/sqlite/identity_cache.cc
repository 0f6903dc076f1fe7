#include "store/sqlite/identity_cache.h"

#include <sodium.h>

#include <cstring>
#include <random>
#include <string>

namespace siyu::store::sqlite {
namespace {

/// Appends `v` to `out` after its length, so that no two lists of fields encode alike.
void put_field(std::string& out, std::string_view v) {
  const auto n = static_cast<uint32_t>(v.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n).append(v);
}

}  // namespace

IdentityCache::IdentityCache() {
  std::random_device entropy;
  for (size_t i = 0; i < secret_.size(); i += 4) {
    const uint32_t word = entropy();
    std::memcpy(secret_.data() + i, &word, sizeof word);
  }
}

IdentityCache::Key IdentityCache::key_of(WorkspaceId ws, std::string_view type,
                                         std::string_view app_id, std::string_view key) const {
  // One buffer per thread: a key is built on every event, and its fields rarely fit the
  // small-string buffer.
  thread_local std::string bytes;
  bytes.assign(1, 'i');
  bytes.append(reinterpret_cast<const char*>(&ws.value), sizeof ws.value);
  put_field(bytes, type);
  put_field(bytes, app_id);
  put_field(bytes, key);
  return hash(bytes);
}

IdentityCache::Key IdentityCache::customer_key(WorkspaceId ws, int64_t id) const {
  char bytes[1 + 2 * sizeof(int64_t)] = {'c'};
  std::memcpy(bytes + 1, &ws.value, sizeof ws.value);
  std::memcpy(bytes + 1 + sizeof ws.value, &id, sizeof id);
  return hash({bytes, sizeof bytes});
}

IdentityCache::Key IdentityCache::hash(std::string_view bytes) const {
  static_assert(crypto_shorthash_siphashx24_BYTES == sizeof(Key));
  static_assert(crypto_shorthash_siphashx24_KEYBYTES == sizeof secret_);
  unsigned char out[crypto_shorthash_siphashx24_BYTES];
  crypto_shorthash_siphashx24(out, reinterpret_cast<const unsigned char*>(bytes.data()),
                              bytes.size(), secret_.data());
  Key k;
  std::memcpy(&k.a, out, sizeof k.a);
  std::memcpy(&k.b, out + sizeof k.a, sizeof k.b);
  return k;
}

}  // namespace siyu::store::sqlite
