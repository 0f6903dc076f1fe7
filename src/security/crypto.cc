#include "security/crypto.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/text.h"

namespace siyu::security {
namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES] = {'s', 'i', 'y', 'u', 'v', 'l', 't', '1'};

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool parse_hex_key(std::string_view hex, std::array<unsigned char, 32>& out) {
  size_t written = 0;
  return hex.size() == 64 &&
         sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written,
                        nullptr) == 0 &&
         written == 32;
}

/// Fills a 24-byte XChaCha20 nonce from a per-thread buffer of OS randomness: one getrandom
/// call per 170 nonces instead of one per value sealed. Random 192-bit nonces never repeat
/// in practice, so no counter is needed.
void random_nonce(unsigned char* nonce) {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  thread_local std::array<unsigned char, kNonce * 170> pool{};
  thread_local size_t used = pool.size();
  if (used == pool.size()) {
    randombytes_buf(pool.data(), pool.size());
    used = 0;
  }
  std::memcpy(nonce, pool.data() + used, kNonce);
  sodium_memzero(pool.data() + used, kNonce);
  used += kNonce;
}

}  // namespace

Status init() {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialise");
  return Status::ok();
}

Vault Vault::from_key(const std::array<unsigned char, 32>& master) {
  Vault v;
  crypto_kdf_derive_from_key(v.enc_key_.data(), v.enc_key_.size(), 1, kKdfContext, master.data());
  crypto_kdf_derive_from_key(v.index_key_.data(), v.index_key_.size(), 2, kKdfContext,
                             master.data());
  return v;
}

Result<Vault> Vault::open(const std::string& path) {
  std::array<unsigned char, 32> master{};
  std::ifstream in(path);
  if (in) {
    std::string line;
    std::getline(in, line);
    if (!parse_hex_key(trim(line), master)) {
      return internal_error("key file " + path + " is not 64 hex digits");
    }
    return from_key(master);
  }
  randombytes_buf(master.data(), master.size());
  const std::string hex = to_hex({reinterpret_cast<const char*>(master.data()), master.size()});
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wx");
  if (f == nullptr) return internal_error("cannot create key file " + tmp);
  ::chmod(tmp.c_str(), 0600);
  const bool written = std::fputs((hex + "\n").c_str(), f) >= 0 && std::fflush(f) == 0 &&
                       ::fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return internal_error("cannot write key file " + path);
  }
  return from_key(master);
}

std::string Vault::seal(std::string_view plain, std::string_view context) const {
  std::string out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plain.size() +
                       crypto_aead_xchacha20poly1305_ietf_ABYTES,
                   '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  random_nonce(nonce);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &len, u8(plain), plain.size(),
      u8(context), context.size(), nullptr, nonce, enc_key_.data());
  return out;
}

Result<std::string> Vault::open_sealed(std::string_view sealed, std::string_view context) const {
  constexpr size_t kOverhead =
      crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < kOverhead) return internal_error("sealed value is truncated");
  std::string out(sealed.size() - kOverhead, '\0');
  unsigned long long len = 0;
  const auto* nonce = u8(sealed);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &len, nullptr,
          nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          sealed.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, u8(context),
          context.size(), nonce, enc_key_.data()) != 0) {
    return internal_error("sealed value failed authentication");
  }
  out.resize(len);
  return out;
}

std::string Vault::blind_index(std::string_view value, std::string_view context) const {
  // 128 bits: collision-free in practice for lookups, and half the index key of 256 bits.
  std::array<unsigned char, 16> digest{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, index_key_.data(), index_key_.size(), digest.size());
  crypto_generichash_update(&st, u8(context), context.size());
  const unsigned char sep = 0;
  crypto_generichash_update(&st, &sep, 1);
  crypto_generichash_update(&st, u8(value), value.size());
  crypto_generichash_final(&st, digest.data(), digest.size());
  return to_hex({reinterpret_cast<const char*>(digest.data()), digest.size()});
}

Result<std::string> hash_password(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return internal_error("password hashing ran out of memory");
  }
  return std::string(out);
}

bool verify_password(std::string_view hash, std::string_view password) {
  const std::string h(hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  return to_hex({reinterpret_cast<const char*>(buf.data()), buf.size()});
}

std::string token_digest(std::string_view token) {
  std::array<unsigned char, 32> digest{};
  crypto_generichash(digest.data(), digest.size(), u8(token), token.size(), nullptr, 0);
  return to_hex({reinterpret_cast<const char*>(digest.data()), digest.size()});
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, mac);
  return to_hex(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
}

}  // namespace siyu::security
