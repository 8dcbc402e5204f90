// SPDX-License-Identifier: Apache-2.0
#include "totp/otp.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <span>
#include <string>

#include "totp/text.hpp"

namespace totp {
namespace {

struct MacDeleter {
    void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};
struct MacCtxDeleter {
    void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MacPtr = std::unique_ptr<EVP_MAC, MacDeleter>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;

// Big enough for SHA-512, the largest digest we offer.
using MacBuffer = std::array<std::uint8_t, EVP_MAX_MD_SIZE>;

// OpenSSL digest names (the "SHA1"/"SHA256"/"SHA512" spellings are accepted there too).
const char* openssl_digest_name(Algorithm algorithm) {
    switch (algorithm) {
        case Algorithm::sha1:
            return "SHA1";
        case Algorithm::sha256:
            return "SHA256";
        case Algorithm::sha512:
            return "SHA512";
    }
    return nullptr;
}

// HMAC under one key. The MAC is fetched and the key set up once; every message is then
// computed by restarting that keyed context (check_counters computes one per counter).
class Hmac {
  public:
    Hmac(Algorithm algorithm, const SecretBytes& key) {
        const char* digest = openssl_digest_name(algorithm);
        if (digest == nullptr) return;
        const MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
        if (!mac) return;
        MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
        if (!ctx) return;
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
            OSSL_PARAM_construct_end(),
        };
        // EVP_MAC_init refuses a null key pointer even with length 0.
        static const std::uint8_t kEmptyKey = 0;
        const std::uint8_t* key_data = key.empty() ? &kEmptyKey : key.data();
        if (EVP_MAC_init(ctx.get(), key_data, key.size(), params) == 1) keyed_ = std::move(ctx);
    }

    // HMAC(key, message) into `out`; the number of bytes written, or 0 if OpenSSL failed.
    // A null key makes EVP_MAC_init restart HMAC with the key already set up, which is
    // cheaper than copying the keyed context for every message.
    std::size_t compute(std::span<const std::uint8_t> message, MacBuffer& out) {
        std::size_t written = 0;
        if (!keyed_ || EVP_MAC_init(keyed_.get(), nullptr, 0, nullptr) != 1 ||
            EVP_MAC_update(keyed_.get(), message.data(), message.size()) != 1 ||
            EVP_MAC_final(keyed_.get(), out.data(), &written, out.size()) != 1) {
            wipe(out.data(), out.size());
            return 0;
        }
        return written;
    }

  private:
    MacCtxPtr keyed_;  // freeing it cleanses the key schedule
};

// RFC 4226 section 5.3: 31 bits taken at the offset named by the last nibble.
std::uint32_t dynamic_truncation(const MacBuffer& mac, std::size_t size) {
    const std::size_t offset = mac[size - 1] & 0x0f;
    return (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
           (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
           (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
           static_cast<std::uint32_t>(mac[offset + 3]);
}

// The HOTP value of one counter under an already keyed HMAC (digits already validated).
Result<SecretString> hotp_value(Hmac& hmac, std::uint64_t counter, int digits) {
    std::array<std::uint8_t, 8> message{};
    for (std::size_t i = 0; i < message.size(); ++i) {
        message[message.size() - 1 - i] = static_cast<std::uint8_t>(counter >> (8 * i));
    }
    MacBuffer mac{};
    const std::size_t mac_size = hmac.compute(message, mac);
    wipe(message.data(), message.size());
    if (mac_size < 20) {
        wipe(mac.data(), mac.size());
        return make_error(Errc::io, "HMAC computation failed in OpenSSL");
    }
    std::uint32_t value = dynamic_truncation(mac, mac_size);
    wipe(mac.data(), mac.size());

    std::array<char, kMaxDigits> text{};
    for (int i = digits - 1; i >= 0; --i) {
        text[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    wipe(&value, sizeof value);  // not `value = 0`: the compiler drops that dead store
    SecretString code(std::string_view(text.data(), static_cast<std::size_t>(digits)));
    wipe(text.data(), text.size());
    return code;
}

// The key HMAC really uses (RFC 2104's K0): `key` hashed if it is longer than the block,
// then zero-padded to the block. Empty if OpenSSL fails.
SecretBytes hmac_block_key(const EVP_MD* md, const SecretBytes& key) {
    const int block = EVP_MD_get_block_size(md);
    if (block <= 0) return {};
    SecretBytes padded(static_cast<std::size_t>(block));
    if (key.size() <= padded.size()) {
        std::copy(key.data(), key.data() + key.size(), padded.data());
        return padded;
    }
    if (EVP_Digest(key.data(), key.size(), padded.data(), nullptr, md, nullptr) != 1) return {};
    return padded;
}

}  // namespace

bool is_code_shaped(std::string_view code, int digits) {
    return code.size() == static_cast<std::size_t>(digits) && all_digits(code);
}

bool same_hmac_key(Algorithm algorithm, const SecretBytes& a, const SecretBytes& b) {
    const EVP_MD* md = EVP_get_digestbyname(openssl_digest_name(algorithm));
    if (md == nullptr) return true;
    const SecretBytes block_a = hmac_block_key(md, a);
    const SecretBytes block_b = hmac_block_key(md, b);
    return block_a.empty() || block_a.size() != block_b.size() ||
           CRYPTO_memcmp(block_a.data(), block_b.data(), block_a.size()) == 0;
}

std::string_view algorithm_name(Algorithm algorithm) {
    switch (algorithm) {
        case Algorithm::sha1:
            return "SHA1";
        case Algorithm::sha256:
            return "SHA256";
        case Algorithm::sha512:
            return "SHA512";
    }
    return "unknown";
}

std::optional<Algorithm> parse_algorithm(std::string_view name) {
    for (Algorithm algorithm : {Algorithm::sha1, Algorithm::sha256, Algorithm::sha512}) {
        const std::string_view known = algorithm_name(algorithm);
        if (name.size() == known.size() &&
            std::equal(name.begin(), name.end(), known.begin(), [](char a, char b) {
                return (a >= 'a' && a <= 'z' ? static_cast<char>(a - 'a' + 'A') : a) == b;
            })) {
            return algorithm;
        }
    }
    return std::nullopt;
}

Status validate(const OtpParams& params) {
    if (openssl_digest_name(params.algorithm) == nullptr) {
        return make_error(Errc::invalid_argument, "unknown algorithm (use SHA1, SHA256 or SHA512)");
    }
    if (params.digits < kMinDigits || params.digits > kMaxDigits) {
        return make_error(Errc::invalid_argument,
                          "digits " + std::to_string(params.digits) + " out of range " +
                              std::to_string(kMinDigits) + ".." + std::to_string(kMaxDigits));
    }
    if (params.period < kMinPeriod || params.period > kMaxPeriod) {
        return make_error(Errc::invalid_argument,
                          "period " + std::to_string(params.period) + " s out of range " +
                              std::to_string(kMinPeriod) + ".." + std::to_string(kMaxPeriod));
    }
    return {};
}

Result<SecretString> hotp(const SecretBytes& key, std::uint64_t counter, Algorithm algorithm,
                          int digits) {
    if (Status valid = validate(OtpParams{algorithm, digits, kMinPeriod}); !valid) {
        return valid.error();
    }
    Hmac hmac(algorithm, key);
    return hotp_value(hmac, counter, digits);
}

std::uint64_t time_step(std::int64_t unix_time, int period) {
    if (unix_time <= 0 || period <= 0) return 0;
    return static_cast<std::uint64_t>(unix_time) / static_cast<std::uint64_t>(period);
}

TotpCheck check_counters(const SecretBytes& key, Algorithm algorithm, int digits,
                         std::string_view code, std::uint64_t first, std::uint64_t last,
                         std::optional<std::uint64_t> last_used) {
    if (!is_code_shaped(code, digits)) return {TotpCheck::Outcome::malformed, 0};
    if (!validate(OtpParams{algorithm, digits, kMinPeriod})) {
        return {TotpCheck::Outcome::mismatch, 0};
    }

    // No early exit and no branch on a match: the loop does the same work whatever matched.
    bool accepted = false;
    bool replayed = false;
    bool failed = false;
    std::uint64_t accepted_step = 0;
    std::uint64_t replayed_step = 0;
    Hmac hmac(algorithm, key);
    for (std::uint64_t step = first; step <= last; ++step) {
        Result<SecretString> expected = hotp_value(hmac, step, digits);
        failed |= !expected.ok();
        const bool match = expected.ok() && equal_constant_time(expected->view(), code);
        const bool fresh = !last_used.has_value() || step > *last_used;
        const bool take_accepted = match & fresh;
        const bool take_replayed = match & !fresh;
        accepted_step = take_accepted ? step : accepted_step;
        replayed_step = take_replayed ? step : replayed_step;
        accepted |= take_accepted;
        replayed |= take_replayed;
        if (step == last) break;  // last may be the largest counter
    }
    // An OpenSSL failure on any step fails closed rather than trusting a partial search.
    if (failed) return {TotpCheck::Outcome::mismatch, 0};
    if (accepted) return {TotpCheck::Outcome::accepted, accepted_step};
    if (replayed) return {TotpCheck::Outcome::replayed, replayed_step};
    return {TotpCheck::Outcome::mismatch, 0};
}

std::optional<std::uint64_t> find_consecutive_codes(const SecretBytes& key, Algorithm algorithm,
                                                    int digits, std::string_view code1,
                                                    std::string_view code2, std::uint64_t first,
                                                    std::uint64_t last) {
    if (!is_code_shaped(code1, digits) || !is_code_shaped(code2, digits) || last < first ||
        last == std::numeric_limits<std::uint64_t>::max() ||
        !validate(OtpParams{algorithm, digits, kMinPeriod})) {
        return std::nullopt;
    }
    Hmac hmac(algorithm, key);
    Result<SecretString> previous = hotp_value(hmac, first, digits);
    std::optional<std::uint64_t> found;
    for (std::uint64_t counter = first; counter <= last; ++counter) {
        Result<SecretString> next = hotp_value(hmac, counter + 1, digits);
        if (!previous || !next) return std::nullopt;
        // Both compared every time (no short circuit): the search's time does not depend on
        // where the first code matched.
        const bool match = (static_cast<unsigned>(equal_constant_time(previous->view(), code1)) &
                            static_cast<unsigned>(equal_constant_time(next->view(), code2))) != 0;
        if (match && !found) found = counter;
        previous = std::move(next);
    }
    return found;
}

TotpCheck check_totp(const SecretBytes& key, const OtpParams& params, std::string_view code,
                     std::int64_t unix_time, int window, std::optional<std::uint64_t> last_step) {
    if (!is_code_shaped(code, params.digits)) return {TotpCheck::Outcome::malformed, 0};
    if (!validate(params)) return {TotpCheck::Outcome::mismatch, 0};

    const std::uint64_t now_step = time_step(unix_time, params.period);
    const std::uint64_t span = static_cast<std::uint64_t>(std::max(window, 0));
    const std::uint64_t first = now_step > span ? now_step - span : 0;
    return check_counters(key, params.algorithm, params.digits, code, first, now_step + span,
                          last_step);
}

}  // namespace totp
