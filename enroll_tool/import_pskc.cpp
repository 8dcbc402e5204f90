// SPDX-License-Identifier: Apache-2.0
#include "import_pskc.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlmemory.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "totp/otp.hpp"
#include "totp/text.hpp"
#include "totp/user_state.hpp"

namespace totp_enroll {
namespace {

constexpr std::string_view kPskcNamespace = "urn:ietf:params:xml:ns:keyprov:pskc";
constexpr std::string_view kPbkdf2 =
    "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2";
constexpr std::string_view kHmacSha1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
constexpr std::string_view kHmacSha256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";
constexpr std::string_view kAesCbcPrefix = "http://www.w3.org/2001/04/xmlenc#aes";
constexpr std::size_t kAesBlock = 16;
// PBKDF2 iterations beyond this make an import take minutes: a hostile file, not a vendor's.
constexpr long kMaxIterations = 10'000'000;

// libxml2 copies the document into buffers of its own (the input, text nodes, its
// dictionary) and frees them itself, through these: every block is wiped before it goes,
// so the secrets of the file do not stay behind in freed memory.
void wiping_free(void* block) {
    if (block != nullptr) OPENSSL_cleanse(block, ::malloc_usable_size(block));
    std::free(block);
}

void* allocate(std::size_t size) {
    return std::malloc(size);
}

void* wiping_realloc(void* block, std::size_t size) {
    if (block == nullptr) return std::malloc(size);
    void* moved = std::malloc(size);
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, block, std::min(size, ::malloc_usable_size(block)));
    wiping_free(block);
    return moved;
}

char* duplicate(const char* text) {
    return ::strdup(text);
}

// Once, before the first document: the allocator is libxml2's, process-wide.
void wipe_what_libxml2_frees() {
    static const int installed = xmlMemSetup(wiping_free, allocate, wiping_realloc, duplicate);
    static_cast<void>(installed);
}

struct DocDeleter {
    void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;

struct CipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

totp::Error invalid(std::string message) {
    return totp::make_error(totp::Errc::invalid_argument, std::move(message));
}

std::string_view name_of(const xmlNode* node) {
    return reinterpret_cast<const char*>(node->name);
}

std::string_view namespace_of(const xmlNode* node) {
    return node->ns != nullptr && node->ns->href != nullptr
               ? reinterpret_cast<const char*>(node->ns->href)
               : std::string_view();
}

// The first child element with this local name. PSKC documents mix prefixed and default
// namespaces for the same elements (RFC 6030's own figures do), so children are matched
// by local name; the root's namespace is checked once.
const xmlNode* child(const xmlNode* parent, std::string_view name) {
    if (parent == nullptr) return nullptr;
    for (const xmlNode* node = parent->children; node != nullptr; node = node->next) {
        if (node->type == XML_ELEMENT_NODE && name_of(node) == name) return node;
    }
    return nullptr;
}

std::string attribute(const xmlNode* node, const char* name) {
    if (node == nullptr) return {};
    xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
    if (value == nullptr) return {};
    std::string text(reinterpret_cast<const char*>(value));
    xmlFree(value);
    return text;
}

// An element's text with surrounding whitespace removed; wiped when it goes.
totp::SecretString text_of(const xmlNode* node) {
    totp::SecretString text;
    if (node == nullptr) return text;
    for (const xmlNode* part = node->children; part != nullptr; part = part->next) {
        if ((part->type == XML_TEXT_NODE || part->type == XML_CDATA_SECTION_NODE) &&
            part->content != nullptr) {
            text.append(reinterpret_cast<const char*>(part->content));
        }
    }
    std::string_view view = text.view();
    const std::size_t first = view.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return totp::SecretString();
    const std::size_t last = view.find_last_not_of(" \t\r\n");
    return totp::SecretString(view.substr(first, last - first + 1));
}

template <class Number>
std::optional<Number> number_in(const xmlNode* node) {
    const totp::SecretString text = text_of(node);
    Number number{};
    const char* end = text.c_str() + text.size();
    const auto [stop, error] = std::from_chars(text.c_str(), end, number);
    if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
    return number;
}

// Base64 as XML carries it (line breaks and spaces allowed anywhere).
std::optional<totp::SecretBytes> decode_base64(const xmlNode* node) {
    const totp::SecretString text = text_of(node);
    totp::SecretString compact;
    for (char c : text.view()) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            compact.append(std::string_view(&c, 1));
    }
    if (compact.empty() || compact.size() % 4 != 0) return std::nullopt;
    totp::SecretBytes bytes(compact.size() / 4 * 3);
    const int written =
        EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(compact.c_str()),
                        static_cast<int>(compact.size()));
    if (written < 0) return std::nullopt;
    // EVP_DecodeBlock counts the bytes '=' padding stands for.
    std::size_t size = static_cast<std::size_t>(written);
    const std::string_view view = compact.view();
    if (view.ends_with("==")) {
        size -= 2;
    } else if (view.ends_with('=')) {
        size -= 1;
    }
    bytes.resize(size);
    return bytes;
}

struct Protection {
    totp::SecretBytes encryption_key;  // empty: the container has no encrypted values
    totp::SecretBytes mac_key;
    std::string mac_digest;  // "SHA1" or "SHA256"
};

const EVP_CIPHER* aes_cbc(std::string_view algorithm, std::size_t key_size) {
    if (!algorithm.starts_with(kAesCbcPrefix) || !algorithm.ends_with("-cbc")) return nullptr;
    const std::string_view bits = algorithm.substr(kAesCbcPrefix.size(), 3);
    if (bits == "128" && key_size == 16) return EVP_aes_128_cbc();
    if (bits == "192" && key_size == 24) return EVP_aes_192_cbc();
    if (bits == "256" && key_size == 32) return EVP_aes_256_cbc();
    return nullptr;
}

// XML Encryption's AES-CBC (RFC 6030 section 6.1): the IV, then the ciphertext; the last
// byte of the plaintext says how many bytes are padding.
totp::Result<totp::SecretBytes> decrypt(const xmlNode* encrypted, const totp::SecretBytes& key,
                                        const std::string& what) {
    const std::string algorithm = attribute(child(encrypted, "EncryptionMethod"), "Algorithm");
    const EVP_CIPHER* cipher = aes_cbc(algorithm, key.size());
    if (cipher == nullptr) {
        return invalid(what + ": unsupported encryption '" + totp::printable(algorithm) +
                       "' for a " + std::to_string(key.size() * 8) +
                       "-bit key (AES-CBC with a key of its size is supported)");
    }
    const std::optional<totp::SecretBytes> data =
        decode_base64(child(child(encrypted, "CipherData"), "CipherValue"));
    if (!data || data->size() < 2 * kAesBlock || data->size() % kAesBlock != 0) {
        return invalid(what + ": the CipherValue is not an IV and whole AES blocks");
    }
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
    totp::SecretBytes plain(data->size() - kAesBlock);
    int written = 0;
    int final_written = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, key.data(), data->data()) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
        EVP_DecryptUpdate(ctx.get(), plain.data(), &written, data->data() + kAesBlock,
                          static_cast<int>(plain.size())) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), plain.data() + written, &final_written) != 1) {
        return totp::make_error(totp::Errc::io, what + ": AES decryption failed in OpenSSL");
    }
    const std::size_t padding = plain.data()[plain.size() - 1];
    if (padding == 0 || padding > kAesBlock) {
        return invalid(what + ": cannot be decrypted (wrong password or key, or a damaged file)");
    }
    plain.resize(plain.size() - padding);
    return plain;
}

totp::Result<totp::SecretBytes> derive_key(const xmlNode* derived, const PskcKey& key) {
    const xmlNode* method = child(derived, "KeyDerivationMethod");
    if (attribute(method, "Algorithm") != kPbkdf2) {
        return invalid("EncryptionKey: only PBKDF2 key derivation is supported");
    }
    const xmlNode* params = child(method, "PBKDF2-params");
    const std::optional<totp::SecretBytes> salt =
        decode_base64(child(child(params, "Salt"), "Specified"));
    const auto iterations = number_in<long>(child(params, "IterationCount"));
    const xmlNode* length_node = child(params, "KeyLength");
    const auto length =
        length_node != nullptr ? number_in<int>(length_node) : std::optional<int>(16);
    const xmlNode* prf = child(params, "PRF");
    if (!salt || !iterations || *iterations < 1 || *iterations > kMaxIterations || !length ||
        (*length != 16 && *length != 24 && *length != 32)) {
        return invalid(
            "EncryptionKey: PBKDF2-params need a Salt, an IterationCount and a "
            "KeyLength of 16, 24 or 32");
    }
    if (prf != nullptr && !attribute(prf, "Algorithm").empty() &&
        !attribute(prf, "Algorithm").ends_with("hmacWithSHA1")) {
        return invalid("EncryptionKey: only the default PBKDF2 PRF (HMAC-SHA1) is supported");
    }
    if (!key.password) {
        return invalid("the file is encrypted with a password: give it with --password-file");
    }
    totp::SecretBytes derived_key(static_cast<std::size_t>(*length));
    if (PKCS5_PBKDF2_HMAC(key.password->c_str(), static_cast<int>(key.password->size()),
                          salt->data(), static_cast<int>(salt->size()),
                          static_cast<int>(*iterations), EVP_sha1(), *length,
                          derived_key.data()) != 1) {
        return totp::make_error(totp::Errc::io, "PBKDF2 failed in OpenSSL");
    }
    return derived_key;
}

totp::Result<totp::SecretBytes> encryption_key(const xmlNode* container, const PskcKey& key) {
    const xmlNode* element = child(container, "EncryptionKey");
    if (element == nullptr) return totp::SecretBytes();
    if (const xmlNode* derived = child(element, "DerivedKey")) return derive_key(derived, key);
    if (child(element, "KeyName") != nullptr) {
        if (!key.preshared) {
            return invalid("the file is encrypted with a pre-shared key: give it with --key-file");
        }
        return key.preshared->clone();
    }
    return invalid("EncryptionKey: neither a DerivedKey nor a pre-shared KeyName");
}

totp::Result<Protection> protection(const xmlNode* container, const PskcKey& key) {
    totp::Result<totp::SecretBytes> encryption = encryption_key(container, key);
    if (!encryption) return encryption.error();
    Protection result;
    result.encryption_key = std::move(*encryption);
    if (result.encryption_key.empty()) {
        // The caller expects an encrypted file: a plain one may have been swapped in.
        if (key.password || key.preshared) {
            return invalid("the file is not encrypted, but a password or key was given");
        }
        return result;
    }
    const xmlNode* method = child(container, "MACMethod");
    const std::string algorithm = attribute(method, "Algorithm");
    if (algorithm == kHmacSha1) {
        result.mac_digest = "SHA1";
    } else if (algorithm == kHmacSha256) {
        result.mac_digest = "SHA256";
    } else {
        return invalid("MACMethod: encrypted values need an HMAC-SHA1 or HMAC-SHA256 MAC");
    }
    const xmlNode* mac_key = child(method, "MACKey");
    if (mac_key == nullptr) return invalid("MACMethod: no MACKey");
    totp::Result<totp::SecretBytes> opened = decrypt(mac_key, result.encryption_key, "MACKey");
    if (!opened) return opened.error();
    result.mac_key = std::move(*opened);
    return result;
}

// RFC 6030 section 6.1.1: the MAC covers the whole CipherValue (IV and ciphertext).
totp::Status check_mac(const xmlNode* secret, const Protection& keys, const std::string& where) {
    const xmlNode* cipher_value =
        child(child(child(secret, "EncryptedValue"), "CipherData"), "CipherValue");
    const std::optional<totp::SecretBytes> data = decode_base64(cipher_value);
    const std::optional<totp::SecretBytes> expected = decode_base64(child(secret, "ValueMAC"));
    if (!data || !expected) return invalid(where + ": an encrypted Secret needs a ValueMAC");
    std::uint8_t mac[EVP_MAX_MD_SIZE];
    std::size_t mac_size = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, keys.mac_digest.c_str(), nullptr, keys.mac_key.data(),
                  keys.mac_key.size(), data->data(), data->size(), mac, sizeof mac,
                  &mac_size) == nullptr) {
        return totp::make_error(totp::Errc::io, "HMAC computation failed in OpenSSL");
    }
    if (mac_size != expected->size() || CRYPTO_memcmp(mac, expected->data(), mac_size) != 0) {
        return invalid(where +
                       ": the MAC does not match (wrong password or key, or a "
                       "damaged file)");
    }
    return {};
}

totp::Result<totp::SecretBytes> secret_of(const xmlNode* secret, const Protection& keys,
                                          const std::string& where) {
    if (const xmlNode* plain = child(secret, "PlainValue")) {
        // No MAC covers a PlainValue: in an encrypted file it could be anyone's.
        if (!keys.encryption_key.empty()) {
            return invalid(where + ": the Secret is not encrypted in an encrypted file");
        }
        std::optional<totp::SecretBytes> bytes = decode_base64(plain);
        if (!bytes) return invalid(where + ": the Secret is not base64");
        return std::move(*bytes);
    }
    const xmlNode* encrypted = child(secret, "EncryptedValue");
    if (encrypted == nullptr) return invalid(where + ": the Secret has no value");
    if (keys.encryption_key.empty()) {
        return invalid(where + ": an encrypted Secret, but the file has no EncryptionKey");
    }
    if (totp::Status mac = check_mac(secret, keys, where); !mac) return mac.error();
    return decrypt(encrypted, keys.encryption_key, where);
}

// What the key is, from its Algorithm URI (the ':' form of RFC 6030, or the '#' form of
// the drafts some vendors still write).
std::optional<totp::OtpType> token_type(std::string_view algorithm) {
    for (const std::string_view separator : {":", "#"}) {
        const std::string prefix = std::string(kPskcNamespace) + std::string(separator);
        if (algorithm == prefix + "hotp") return totp::OtpType::hotp;
        if (algorithm == prefix + "totp") return totp::OtpType::totp;
    }
    return std::nullopt;
}

std::optional<totp::Algorithm> suite_algorithm(const xmlNode* parameters) {
    const xmlNode* suite = child(parameters, "Suite");
    if (suite == nullptr) return totp::Algorithm::sha1;
    std::string name(text_of(suite).view());
    if (name.starts_with("HMAC-")) name.erase(0, 5);
    return totp::parse_algorithm(name);
}

// A plain number of <Data>, e.g. Counter or TimeInterval; absent: `fallback`.
std::optional<std::int64_t> data_number(const xmlNode* data, std::string_view name,
                                        std::int64_t fallback) {
    const xmlNode* element = child(data, name);
    if (element == nullptr) return fallback;
    return number_in<std::int64_t>(child(element, "PlainValue"));
}

// Everything but the secret; a reason when the key cannot be a code generator here.
std::optional<std::string> read_parameters(const xmlNode* key, ImportedToken& token) {
    const std::string algorithm = attribute(key, "Algorithm");
    const std::optional<totp::OtpType> type = token_type(algorithm);
    if (!type) return "algorithm '" + totp::printable(algorithm) + "' is not HOTP or TOTP";
    token.type = *type;
    const xmlNode* parameters = child(key, "AlgorithmParameters");
    const std::optional<totp::Algorithm> hash = suite_algorithm(parameters);
    if (!hash) return "unsupported Suite (HMAC-SHA1, -SHA256 and -SHA512 are)";
    token.params.algorithm = *hash;
    const xmlNode* format = child(parameters, "ResponseFormat");
    const std::string encoding = attribute(format, "Encoding");
    if (format != nullptr && encoding != "DECIMAL") return "codes are not DECIMAL";
    const std::string length = format != nullptr ? attribute(format, "Length") : "6";
    if (length != "6" && length != "7" && length != "8")
        return "codes of 6, 7 or 8 digits are supported";
    token.params.digits = length[0] - '0';
    const xmlNode* data = child(key, "Data");
    const auto counter = data_number(data, "Counter", 0);
    const auto interval = data_number(data, "TimeInterval", 30);
    const auto start = data_number(data, "Time", 0);
    const auto drift = data_number(data, "TimeDrift", 0);
    if (!counter || *counter < 0 || !interval || !start || !drift) {
        return "Counter, TimeInterval, Time and TimeDrift must be plain numbers";
    }
    token.counter = static_cast<std::uint64_t>(*counter);
    if (token.type == totp::OtpType::totp) {
        if (*interval < totp::kMinPeriod || *interval > totp::kMaxPeriod) {
            return "time step of " + std::to_string(*interval) + " s (15-300 s are supported)";
        }
        if (*start != 0) return "a TOTP start time (Time) other than 0 is not supported";
        token.params.period = static_cast<int>(*interval);
        token.drift_steps = *drift;
    }
    return std::nullopt;
}

totp::Result<ImportedToken> read_key(const xmlNode* package, const xmlNode* key,
                                     const Protection& keys, std::size_t number) {
    ImportedToken token;
    const totp::SecretString serial = text_of(child(child(package, "DeviceInfo"), "SerialNo"));
    token.label = serial.empty() ? attribute(key, "Id") : std::string(serial.view());
    token.origin =
        "KeyPackage " + std::to_string(number) + ", serial " + totp::printable(token.label);
    if (auto reason = read_parameters(key, token)) {
        token.skipped = *reason;
        return token;
    }
    const xmlNode* secret = child(child(key, "Data"), "Secret");
    if (secret == nullptr) {
        token.skipped = "it holds no Secret";
        return token;
    }
    totp::Result<totp::SecretBytes> bytes = secret_of(secret, keys, token.origin);
    if (!bytes) return bytes.error();
    if (bytes->size() < totp::kMinSecretBytes || bytes->size() > totp::kMaxSecretBytes) {
        token.skipped =
            "the secret is " + std::to_string(bytes->size()) + " bytes (10-128 are supported)";
        return token;
    }
    token.secret = std::move(*bytes);
    return token;
}

totp::Result<DocPtr> read_document(std::string_view xml) {
    if (xml.size() > kMaxPskcFile) return invalid("file too large");
    wipe_what_libxml2_frees();
    // No network, no entity substitution, no DTD loading; libxml2 reports nothing itself.
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    DocPtr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, options));
    if (!doc) {
        const xmlError* error = xmlGetLastError();
        return invalid("not well-formed XML" + (error != nullptr
                                                    ? " (line " + std::to_string(error->line) + ")"
                                                    : std::string()));
    }
    if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
        return invalid("a DOCTYPE is not allowed in a PSKC file");
    }
    return doc;
}

}  // namespace

totp::Result<std::vector<ImportedToken>> parse_pskc(std::string_view xml, const PskcKey& key) {
    totp::Result<DocPtr> doc = read_document(xml);
    if (!doc) return doc.error();
    const xmlNode* root = xmlDocGetRootElement(doc->get());
    if (root == nullptr || name_of(root) != "KeyContainer" ||
        namespace_of(root) != kPskcNamespace) {
        return invalid("not a PSKC document (no KeyContainer in " + std::string(kPskcNamespace) +
                       ")");
    }
    totp::Result<Protection> keys = protection(root, key);
    if (!keys) return keys.error();
    std::vector<ImportedToken> tokens;
    std::size_t number = 0;
    for (const xmlNode* package = root->children; package != nullptr; package = package->next) {
        if (package->type != XML_ELEMENT_NODE || name_of(package) != "KeyPackage") continue;
        ++number;
        const xmlNode* element = child(package, "Key");
        if (element == nullptr) continue;
        totp::Result<ImportedToken> token = read_key(package, element, *keys, number);
        if (!token) return token.error();
        tokens.push_back(std::move(*token));
    }
    if (tokens.empty()) return invalid("the file holds no Key");
    return tokens;
}

}  // namespace totp_enroll
