// SPDX-License-Identifier: Apache-2.0
// A private PAM world for the benchmark, on the disk being measured: pam_wrapper service
// files, nss_wrapper users, and one enrolled copy of the users per service. Nothing on
// the host's PAM configuration, users or passwords is read or changed.
//
// Sandboxes are kept between runs (<data dir>/users-<N>) and overwritten in place by the
// next run: deleting 200 000 small files takes over ten minutes on a file system mounted
// with `discard` (every freed block is trimmed), and on ext4 without a journal freshly
// freed inodes slow down every file creation near them for minutes.
#pragma once

#include <cstddef>
#include <string>

namespace bench {

// `candidate` is a second pam_totp.so (--candidate), e.g. built with a proposed change,
// measured in the same run as the current one, with its own copy of the users.
// `totp_pg` is pam_totp with the PostgreSQL store (--pg-dsn), its users in the database.
enum class Service { floor, totp, google, oath, candidate, totp_pg };
inline constexpr Service kServices[] = {Service::floor, Service::totp,      Service::google,
                                        Service::oath,  Service::candidate, Service::totp_pg};
inline constexpr std::size_t kServiceCount = 6;

const char* service_name(Service service);   // the pam_wrapper service, e.g. "bench-totp"
const char* service_label(Service service);  // for tables, e.g. "pam_totp"

// pam_totp's PostgreSQL store (Service::totp_pg); an empty dsn: not measured.
struct PgStore {
    std::string dsn;
    std::string key_file;       // store_key_file
    std::string password_file;  // store_password_file

    bool enabled() const { return !dsn.empty(); }
};

struct Sandbox {
    std::string root;           // <data dir>/users-<N>
    std::string totp_dir;       // pam_totp state_dir (0700)
    std::string candidate_dir;  // the candidate pam_totp's state_dir (0700)
    std::string google_dir;     // google-authenticator secret files, secret=DIR/${USER}
    std::string oath_file;      // pam_oath usersfile
    std::string floor_dir;      // files for the bare durable update
    std::string services;       // PAM_WRAPPER_SERVICE_DIR
    std::string config;         // pam_totp.conf (a copy of the shipped one)
    std::string pg_config;      // the same with the PostgreSQL store settings
    PgStore pg;                 // not known to sandbox_at()
    std::string passwd;         // NSS_WRAPPER_PASSWD
    std::string group;          // NSS_WRAPPER_GROUP
};

struct SandboxSpec {
    std::string data_dir;          // where the sandbox is created (the measured disk)
    std::string module_path;       // the built pam_totp.so
    std::string config_template;   // the shipped config/pam_totp.conf
    std::string candidate_module;  // optional second pam_totp.so
    PgStore pg;                    // optional: Service::totp_pg
    std::size_t users = 0;
};

// Creates the directories, the nss_wrapper passwd and group files, the four service files
// and the pam_totp config, and points pam_wrapper and nss_wrapper at them (environment of
// this process and its children). Stores are filled by enroll().
Sandbox create_sandbox(const SandboxSpec& spec);

// The paths of an existing sandbox (for helper processes started inside one run).
Sandbox sandbox_at(const std::string& root);
void use_sandbox_environment(const Sandbox& box);

// Refuses to run unless libpam_wrapper and libnss_wrapper are loaded into this process:
// without them pam_start() would read the host's /etc/pam.d.
void require_wrappers();

}  // namespace bench
