// SPDX-License-Identifier: Apache-2.0
#include "sandbox.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "files.hpp"
#include "users.hpp"

namespace bench {
namespace {

constexpr const char* kModuleDir = "/usr/lib/x86_64-linux-gnu/security";

std::string read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string service_text(Service service, const Sandbox& box, const SandboxSpec& spec) {
    const std::string module_dir = kModuleDir;
    switch (service) {
        case Service::floor:
            return "auth required " + module_dir + "/pam_permit.so\n";
        case Service::totp:
            // max_failures at its maximum: the wrong-code runs must measure the recorded
            // failure, not the cheaper locked-out path.
            return "auth required " + spec.module_path + " config=" + box.config +
                   " state_dir=" + box.totp_dir + " max_failures=1000\n";
        case Service::candidate:
            return "auth required " + spec.candidate_module + " config=" + box.config +
                   " state_dir=" + box.candidate_dir + " max_failures=1000\n";
        case Service::totp_pg:
            return "auth required " + spec.module_path + " config=" + box.pg_config +
                   " max_failures=1000\n";
        case Service::google:
            return "auth required " + module_dir +
                   "/pam_google_authenticator.so secret=" + box.google_dir + "/${USER} user=root\n";
        case Service::oath:
            return "auth required " + module_dir + "/pam_oath.so usersfile=" + box.oath_file +
                   " window=3\n";
    }
    return {};
}

void write_passwd_and_group(const Sandbox& box, std::size_t users) {
    std::string passwd = "root:x:0:0:root:/root:/bin/sh\n";
    passwd.reserve(passwd.size() + users * 48);
    for (std::size_t i = 0; i < users; ++i) {
        const std::string name = user_name(i);
        passwd +=
            name + ":x:" + std::to_string(user_uid(i)) + ":100000::/home/" + name + ":/bin/sh\n";
    }
    write_file(box.passwd, passwd, 0644);
    write_file(box.group, "root:x:0:\nbenchusers:x:100000:\n", 0644);
}

// ext4 places the subdirectories of a "top directory" (chattr +T) in fresh block groups.
// Each store gets its own group, away from groups where many files were deleted recently:
// on a file system without a journal (like this benchmark machine's), ext4 scans past
// every recently freed inode when it allocates one, which would slow the peers that
// create a file per login for reasons that have nothing to do with them.
void mark_top_directory(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    int flags = 0;
    if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
        flags |= FS_TOPDIR_FL;
        ::ioctl(fd, FS_IOC_SETFLAGS, &flags);  // best effort: not every file system has it
    }
    ::close(fd);
}

// Creates the directory, or checks that an existing one is a real directory we own with
// mode 0700 (pam_totp refuses anything else for its state directory).
void make_private_directory(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        throw std::runtime_error("mkdir " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
        throw std::runtime_error(path + " is not a directory owned by us");
    }
    if ((st.st_mode & 07777) != 0700 && ::chmod(path.c_str(), 0700) != 0) {
        throw std::runtime_error("chmod " + path + ": " + std::strerror(errno));
    }
}

}  // namespace

const char* service_name(Service service) {
    switch (service) {
        case Service::floor:
            return "bench-floor";
        case Service::totp:
            return "bench-totp";
        case Service::google:
            return "bench-google";
        case Service::oath:
            return "bench-oath";
        case Service::candidate:
            return "bench-candidate";
        case Service::totp_pg:
            return "bench-totp-pg";
    }
    return "";
}

const char* service_label(Service service) {
    switch (service) {
        case Service::floor:
            return "floor (pam_permit)";
        case Service::totp:
            return "pam_totp";
        case Service::google:
            return "pam_google_authenticator";
        case Service::oath:
            return "pam_oath";
        case Service::candidate:
            return "pam_totp (candidate)";
        case Service::totp_pg:
            return "pam_totp (PostgreSQL store)";
    }
    return "";
}

Sandbox sandbox_at(const std::string& root) {
    Sandbox box;
    box.root = root;
    box.totp_dir = root + "/totp";
    box.candidate_dir = root + "/candidate";
    box.google_dir = root + "/google";
    box.oath_file = root + "/oath/users.oath";
    box.floor_dir = root + "/floor";
    box.services = root + "/services";
    box.config = root + "/pam_totp.conf";
    box.pg_config = root + "/pam_totp-pg.conf";
    box.passwd = root + "/passwd";
    box.group = root + "/group";
    return box;
}

void use_sandbox_environment(const Sandbox& box) {
    setenv("PAM_WRAPPER_SERVICE_DIR", box.services.c_str(), 1);
    setenv("NSS_WRAPPER_PASSWD", box.passwd.c_str(), 1);
    setenv("NSS_WRAPPER_GROUP", box.group.c_str(), 1);
}

Sandbox create_sandbox(const SandboxSpec& spec) {
    Sandbox box = sandbox_at(spec.data_dir + "/users-" + std::to_string(spec.users));
    make_private_directory(box.root);
    mark_top_directory(box.root);
    for (const std::string& dir : {box.totp_dir, box.candidate_dir, box.google_dir,
                                   box.root + "/oath", box.floor_dir, box.services}) {
        make_private_directory(dir);
    }
    // pam_oath refuses every update while its lock file exists (a run killed mid-login).
    ::unlink((box.oath_file + ".lock").c_str());
    // pam_totp insists on a root-owned config not writable by group or other.
    const std::string config = read_whole(spec.config_template);
    write_file(box.config, config, 0644);
    if (spec.pg.enabled()) {
        const std::size_t global = config.find("[global]\n");
        if (global == std::string::npos) throw std::runtime_error("no [global] in the config");
        std::string pg_config = config;
        pg_config.insert(global + 9, "store = postgresql\nstore_dsn = " + spec.pg.dsn +
                                         "\nstore_key_file = " + spec.pg.key_file +
                                         "\nstore_password_file = " + spec.pg.password_file + "\n");
        write_file(box.pg_config, pg_config, 0644);
        box.pg = spec.pg;
    }
    write_passwd_and_group(box, spec.users);
    for (Service service : kServices) {
        if (service == Service::candidate && spec.candidate_module.empty()) continue;
        if (service == Service::totp_pg && !spec.pg.enabled()) continue;
        write_file(box.services + "/" + service_name(service), service_text(service, box, spec),
                   0644);
    }
    // libpam reads "other" at every pam_start (and logs an error when it is missing, which
    // would add a syslog line to every login). The usual safe default:
    write_file(box.services + "/other",
               "auth required " + std::string(kModuleDir) + "/pam_deny.so\n" + "account required " +
                   kModuleDir + "/pam_deny.so\n" + "password required " + kModuleDir +
                   "/pam_deny.so\n" + "session required " + kModuleDir + "/pam_deny.so\n",
               0644);
    use_sandbox_environment(box);
    return box;
}

void require_wrappers() {
    const std::string maps = read_whole("/proc/self/maps");
    const char* wrapper_env = std::getenv("PAM_WRAPPER");
    if (maps.find("libpam_wrapper.so") == std::string::npos ||
        maps.find("libnss_wrapper.so") == std::string::npos || wrapper_env == nullptr ||
        std::string(wrapper_env) != "1") {
        throw std::runtime_error(
            "pam_wrapper and nss_wrapper are not preloaded (run bench/run.sh, which sets "
            "LD_PRELOAD and PAM_WRAPPER=1); refusing to call pam_start on the host's PAM");
    }
}

}  // namespace bench
