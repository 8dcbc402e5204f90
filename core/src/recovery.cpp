// SPDX-License-Identifier: Apache-2.0
#include "totp/recovery.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "totp/hex.hpp"

namespace totp {
namespace {

// Crockford's base32: no I, L, O or U, so a code read aloud or retyped stays unambiguous.
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static_assert(sizeof(kAlphabet) - 1 == 32);
constexpr std::size_t kCodeSymbols = 12;
constexpr std::size_t kGroupSize = 4;
constexpr std::size_t kMinNormalized = 6;
constexpr std::size_t kMaxNormalized = 32;

struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// SHA-256(salt || code), fed in two parts so the code is never copied next to the salt.
bool salted_digest(const std::array<std::uint8_t, 16>& salt, std::string_view code,
                   std::array<std::uint8_t, 32>& digest) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    unsigned int size = 0;
    return ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1 &&
           EVP_DigestUpdate(ctx.get(), salt.data(), salt.size()) == 1 &&
           EVP_DigestUpdate(ctx.get(), code.data(), code.size()) == 1 &&
           EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) == 1 && size == digest.size();
}

bool is_normalized(std::string_view code) {
    if (code.size() < kMinNormalized || code.size() > kMaxNormalized) return false;
    for (char c : code) {
        const bool digit = c >= '0' && c <= '9';
        const bool letter = c >= 'A' && c <= 'Z' && c != 'O' && c != 'I' && c != 'L';
        if (!digit && !letter) return false;
    }
    return true;
}

}  // namespace

std::optional<SecretString> normalize_recovery_code(std::string_view typed) {
    SecretString out;
    for (char c : typed) {
        if (c == ' ' || c == '-') continue;
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c == 'O') c = '0';
        if (c == 'I' || c == 'L') c = '1';
        const bool valid = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
        if (!valid || out.size() == kMaxNormalized) return std::nullopt;
        out.append({&c, 1});
    }
    if (out.size() < kMinNormalized) return std::nullopt;
    return out;
}

Result<std::vector<SecretString>> generate_recovery_codes(int count) {
    if (count < 1 || static_cast<std::size_t>(count) > kMaxRecoveryCodes) {
        return make_error(Errc::invalid_argument,
                          "recovery code count must be 1.." + std::to_string(kMaxRecoveryCodes));
    }
    std::vector<SecretString> codes;
    codes.reserve(static_cast<std::size_t>(count));
    std::array<std::uint8_t, kCodeSymbols> random{};
    // XXXX-XXXX-XXXX
    std::array<char, kCodeSymbols + kCodeSymbols / kGroupSize - 1> text{};
    for (int n = 0; n < count; ++n) {
        if (!random_bytes(random.data(), random.size())) {
            wipe(random.data(), random.size());
            return make_error(Errc::io, "the random number generator failed");
        }
        std::size_t pos = 0;
        for (std::size_t i = 0; i < kCodeSymbols; ++i) {
            if (i > 0 && i % kGroupSize == 0) text[pos++] = '-';
            // 256 is a multiple of 32, so the low five bits of a byte are uniform.
            text[pos++] = kAlphabet[random[i] & 0x1f];
        }
        codes.emplace_back(std::string_view(text.data(), text.size()));
    }
    wipe(random.data(), random.size());
    wipe(text.data(), text.size());
    return codes;
}

Result<RecoveryHash> hash_recovery_code(std::string_view normalized) {
    if (!is_normalized(normalized)) {
        return make_error(Errc::invalid_argument, "recovery code is not in normalized form");
    }
    RecoveryHash hash;
    if (!random_bytes(hash.salt.data(), hash.salt.size())) {
        return make_error(Errc::io, "the random number generator failed");
    }
    if (!salted_digest(hash.salt, normalized, hash.digest)) {
        return make_error(Errc::io, "SHA-256 computation failed in OpenSSL");
    }
    return hash;
}

std::optional<std::size_t> find_recovery_code(const std::vector<RecoveryHash>& stored,
                                              std::string_view normalized) {
    bool found = false;
    std::size_t index = 0;
    std::array<std::uint8_t, 32> digest{};
    // No early exit: every entry costs the same, so timing does not reveal which matched.
    for (std::size_t i = 0; i < stored.size(); ++i) {
        const bool computed = salted_digest(stored[i].salt, normalized, digest);
        const bool match =
            computed & (CRYPTO_memcmp(digest.data(), stored[i].digest.data(), digest.size()) == 0);
        const bool first_match = match & !found;
        index = first_match ? i : index;
        found |= match;
    }
    wipe(digest.data(), digest.size());
    if (!found) return std::nullopt;
    return index;
}

std::string format_recovery_hash(const RecoveryHash& hash) {
    return hex_encode(hash.salt) + ":" + hex_encode(hash.digest);
}

std::optional<RecoveryHash> parse_recovery_hash(std::string_view text) {
    RecoveryHash hash;
    const std::size_t colon = 2 * hash.salt.size();
    if (text.size() != colon + 1 + 2 * hash.digest.size() || text[colon] != ':') {
        return std::nullopt;
    }
    if (!hex_decode(text.substr(0, colon), hash.salt, HexLetters::lowercase) ||
        !hex_decode(text.substr(colon + 1), hash.digest, HexLetters::lowercase)) {
        return std::nullopt;
    }
    return hash;
}

}  // namespace totp
