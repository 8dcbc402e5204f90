// SPDX-License-Identifier: Apache-2.0
#include "pg_crypto.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace totp::pg {
namespace {

constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kKeyBytes = 32;

struct CipherDeleter {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherDeleter>;

Error crypto_failed(const char* what) {
    return make_error(Errc::io, std::string("AES-256-GCM: ") + what + " failed");
}

const unsigned char* bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

Result<std::vector<std::uint8_t>> seal(const SecretBytes& key, std::string_view associated,
                                       std::span<const std::uint8_t> plaintext) {
    if (key.size() != kKeyBytes) return make_error(Errc::invalid_argument, "bad key length");
    std::vector<std::uint8_t> out(kNonceBytes + plaintext.size() + kTagBytes);
    if (RAND_bytes(out.data(), kNonceBytes) != 1) return crypto_failed("nonce generation");
    CipherContext ctx(EVP_CIPHER_CTX_new());
    int length = 0;
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), out.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &length, bytes(associated),
                          static_cast<int>(associated.size())) != 1) {
        return crypto_failed("encryption setup");
    }
    std::uint8_t* cipher = out.data() + kNonceBytes;
    if (!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), cipher, &length, plaintext.data(),
                                                static_cast<int>(plaintext.size())) != 1) {
        return crypto_failed("encryption");
    }
    if (EVP_EncryptFinal_ex(ctx.get(), cipher + plaintext.size(), &length) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                            cipher + plaintext.size()) != 1) {
        return crypto_failed("encryption");
    }
    return out;
}

Result<SecretBytes> unseal(const SecretBytes& key, std::string_view associated,
                           std::span<const std::uint8_t> sealed) {
    if (key.size() != kKeyBytes) return make_error(Errc::invalid_argument, "bad key length");
    if (sealed.size() < kNonceBytes + kTagBytes) {
        return make_error(Errc::corrupt, "encrypted column is too short");
    }
    const std::size_t size = sealed.size() - kNonceBytes - kTagBytes;
    SecretBytes plain(size);
    CipherContext ctx(EVP_CIPHER_CTX_new());
    int length = 0;
    // OpenSSL takes the expected tag through a non-const pointer; it does not write it.
    std::vector<std::uint8_t> tag(sealed.end() - kTagBytes, sealed.end());
    if (!ctx ||
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &length, bytes(associated),
                          static_cast<int>(associated.size())) != 1) {
        return crypto_failed("decryption setup");
    }
    if (size > 0 && EVP_DecryptUpdate(ctx.get(), plain.data(), &length, sealed.data() + kNonceBytes,
                                      static_cast<int>(size)) != 1) {
        return crypto_failed("decryption");
    }
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                            tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), plain.data() + size, &length) != 1) {
        return make_error(Errc::corrupt,
                          "encrypted column does not verify (wrong store key, or the row was "
                          "tampered with or copied from another user)");
    }
    return plain;
}

}  // namespace totp::pg
