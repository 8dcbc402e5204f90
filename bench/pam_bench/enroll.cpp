// SPDX-License-Identifier: Apache-2.0
#include "enroll.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "files.hpp"
#include "totp/base32.hpp"
#include "totp/recovery.hpp"
#include "totp/store.hpp"
#include "totp/store_factory.hpp"
#include "totp/user_state.hpp"
#include "users.hpp"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class T>
T must(totp::Result<T> result, const char* what) {
    if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message);
    return std::move(result).value();
}

// The user's state; the first authenticator has user_secret() (whose codes are typed), the
// others secrets of their own.
totp::UserState totp_state(std::size_t index, std::uint64_t seed, std::int64_t now,
                           int authenticators = 1) {
    totp::UserState state;
    for (int k = 0; k < authenticators; ++k) {
        totp::Authenticator token;
        token.name =
            k == 0 ? std::string(totp::kDefaultAuthenticatorName) : "spare" + std::to_string(k);
        token.params = {totp::Algorithm::sha1, kDigits, kPeriod};
        token.secret =
            user_secret(seed + static_cast<std::uint64_t>(k) * 0x9e3779b97f4a7c15ULL, index);
        state.authenticators.push_back(std::move(token));
    }
    for (int k = 0; k < kRecoveryCodes; ++k) {
        char code[48];
        std::snprintf(code, sizeof code, "%06zu%06d", index, k);
        state.recovery.push_back(must(totp::hash_recovery_code(code), "hash recovery code"));
    }
    state.created = now;
    return state;
}

std::string totp_file(std::size_t index, std::uint64_t seed, std::int64_t now,
                      int authenticators = 1) {
    const totp::SecretString slot =
        must(totp::encode_slot(totp_state(index, seed, now, authenticators), 1), "encode state");
    std::string file(slot.view());
    file.append(totp::kSlotSize, '\n');  // slot 1: never written
    return file;
}

std::string google_file(std::size_t index, std::uint64_t seed) {
    const totp::SecretBytes secret = user_secret(seed, index);
    std::string text(totp::base32_encode(secret.span()).view());
    text += "\n\" WINDOW_SIZE 3\n\" DISALLOW_REUSE\n\" TOTP_AUTH\n";
    for (int k = 0; k < 5; ++k) {  // the CLI's five emergency scratch codes
        char code[32];
        std::snprintf(code, sizeof code, "%08zu\n", 10000000 + (index * 5 + k) % 90000000);
        text += code;
    }
    return text;
}

std::string oath_line(std::size_t index, std::uint64_t seed) {
    const totp::SecretBytes secret = user_secret(seed, index);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string line = "HOTP/T30/6\t" + user_name(index) + "\t-\t";
    for (std::uint8_t byte : secret.span()) {
        line += kHex[byte >> 4];
        line += kHex[byte & 0x0f];
    }
    return line + "\n";
}

// The store settings of box.pg_config. Set here rather than read from that file: loading
// config files would link libiniparser into pam_bench, and pam_totp.so would then find it
// already mapped in every login instead of mapping it as a real login does.
totp::Settings pg_settings(const Sandbox& box) {
    if (!box.pg.enabled()) throw std::runtime_error("no PostgreSQL store in this process");
    totp::Settings settings;
    settings.store = "postgresql";
    settings.store_dsn = box.pg.dsn;
    settings.store_key_file = box.pg.key_file;
    settings.store_password_file = box.pg.password_file;
    return settings;
}

std::unique_ptr<totp::Store> store_of(const Sandbox& box, Service service) {
    if (service == Service::totp_pg) {
        return must(totp::make_postgresql_store(pg_settings(box)), "PostgreSQL store");
    }
    const std::string& dir = service == Service::candidate ? box.candidate_dir : box.totp_dir;
    return totp::make_file_store({.state_dir = dir, .secret_path = ""});
}

void enroll_pg(const Sandbox& box, std::size_t users, std::uint64_t seed, std::int64_t now) {
    must(totp::upgrade_postgresql_schema(pg_settings(box)), "PostgreSQL schema");
    const auto store = store_of(box, Service::totp_pg);
    for (std::size_t i = 0; i < users; ++i) {
        auto record = must(store->open(user_name(i)), "open database record");
        if (totp::Status saved = record->save(totp_state(i, seed, now)); !saved) {
            throw std::runtime_error("enroll in the database: " + saved.error().message);
        }
    }
}

std::string floor_file_path(const Sandbox& box, std::size_t k) {
    return box.floor_dir + "/f" + std::to_string(k);
}

}  // namespace

EnrollSeconds enroll(const Sandbox& box, std::size_t users, std::uint64_t seed, bool candidate,
                     int candidate_authenticators, bool pg) {
    EnrollSeconds took;
    const std::int64_t now = unix_now();

    auto start = Clock::now();
    for (std::size_t i = 0; i < users; ++i) {
        const std::string file = totp_file(i, seed, now);
        write_file(box.totp_dir + "/" + user_name(i), file, 0600);
        if (candidate) {
            write_file(box.candidate_dir + "/" + user_name(i),
                       candidate_authenticators == 1
                           ? file
                           : totp_file(i, seed, now, candidate_authenticators),
                       0600);
        }
    }
    took.totp = seconds_since(start);

    start = Clock::now();
    for (std::size_t i = 0; i < users; ++i) {
        write_file(box.google_dir + "/" + user_name(i), google_file(i, seed), 0600);
    }
    took.google = seconds_since(start);

    start = Clock::now();
    std::string usersfile;
    usersfile.reserve(users * 64);
    for (std::size_t i = 0; i < users; ++i) usersfile += oath_line(i, seed);
    write_file(box.oath_file, usersfile, 0600);
    took.oath = seconds_since(start);

    const std::string empty_state(totp::kStateFileSize, '\n');
    for (std::size_t k = 0; k < kFloorFiles; ++k) {
        write_file(floor_file_path(box, k), empty_state, 0600);
    }

    start = Clock::now();
    sync_file_system(box.root);
    took.sync = seconds_since(start);

    if (pg) {
        start = Clock::now();
        enroll_pg(box, users, seed, now);
        took.pg = seconds_since(start);
    }
    return took;
}

void rewind_totp(const Sandbox& box, Service service, std::size_t index) {
    const auto store = store_of(box, service);
    auto record = must(store->open(user_name(index)), "open state");
    if (!record->state()) throw std::runtime_error("rewind: " + user_name(index) + " not enrolled");
    totp::UserState state = record->state()->clone();
    for (totp::Authenticator& token : state.authenticators) token.last_step.reset();
    state.failures = 0;
    if (totp::Status saved = record->save(state); !saved) {
        throw std::runtime_error("rewind: " + saved.error().message);
    }
}

void rewind_google(const Sandbox& box, std::size_t index, std::uint64_t seed) {
    replace_file(box.google_dir + "/" + user_name(index), google_file(index, seed), 0400);
}

void rewind_oath(const Sandbox& box, const std::vector<std::size_t>& indexes, std::uint64_t seed) {
    if (indexes.empty()) return;
    // Rewinds of several workers may run at once (never during a timed login).
    const std::string lock_path = box.oath_file + ".bench-lock";
    const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) throw std::runtime_error("lock " + lock_path);

    std::unordered_map<std::string, std::size_t> index_of;
    for (std::size_t index : indexes) index_of.emplace(user_name(index), index);

    std::ifstream in(box.oath_file);
    std::string line, text;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string type, name;
        fields >> type >> name;
        const auto found = index_of.find(name);
        text += found == index_of.end() ? line + "\n" : oath_line(found->second, seed);
    }
    replace_file(box.oath_file, text, 0600);
    ::close(lock);
}

}  // namespace bench
