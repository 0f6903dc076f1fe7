// Cryptography for personal data and credentials, on libsodium.
//
// Key file format (`<data>/secret.key`, mode 0600): 32 random bytes, hex-encoded on one line.
// Subkeys are derived with crypto_kdf: id 1 encrypts personal fields, id 2 keys blind indexes.
// Ciphertext format: 24-byte XChaCha20-Poly1305 nonce, then ciphertext with its 16-byte tag;
// the associated data binds it to the workspace and field, so a value can't be moved.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/status.h"

namespace siyu::security {

/// Must be called once before any other function here; safe to call again.
Status init();

/// Encryption and blind-index keys of one installation. Thread-safe (immutable).
class Vault {
 public:
  /// Loads `path`, creating it with a fresh random key when missing.
  static Result<Vault> open(const std::string& path);
  /// A vault with a fixed key, for tests.
  static Vault from_key(const std::array<unsigned char, 32>& master);

  /// Encrypts `plain` for (context) — e.g. "w7/phone".
  std::string seal(std::string_view plain, std::string_view context) const;
  /// Decrypts; kInternal when the data was tampered with or the key is wrong.
  Result<std::string> open_sealed(std::string_view sealed, std::string_view context) const;
  /// Deterministic keyed hash (hex) for equality lookups of encrypted values.
  std::string blind_index(std::string_view value, std::string_view context) const;

 private:
  std::array<unsigned char, 32> enc_key_{};
  std::array<unsigned char, 32> index_key_{};
};

/// argon2id hash in libsodium's self-describing string format.
Result<std::string> hash_password(std::string_view password);
/// Whether `password` matches `hash` (constant time in the hash).
bool verify_password(std::string_view hash, std::string_view password);

/// `bytes` random bytes as lower-case hex.
std::string random_hex(size_t bytes);
/// Fast digest (BLAKE2b-256, hex) of a high-entropy token such as an API key or session id.
std::string token_digest(std::string_view token);
/// HMAC-SHA256 of `message` under `key`, lower-case hex (webhook signatures).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);
/// Constant-time equality.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace siyu::security
