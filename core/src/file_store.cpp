// SPDX-License-Identifier: Apache-2.0
// The file backend: one state file per user, locked with flock for the life of a Record.
// Every lock is taken with a deadline (file_lock.hpp): past it, the caller fails closed.
//
// Every path is resolved relative to a directory fd that was checked once, and every
// file is opened with O_NOFOLLOW and checked through its fd, so nothing is re-resolved
// by name between a check and its use.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "totp/account.hpp"
#include "totp/file_lock.hpp"
#include "totp/hex.hpp"
#include "totp/reset_token.hpp"
#include "totp/secret.hpp"
#include "totp/store.hpp"
#include "totp/unique_fd.hpp"
#include "totp/user_state.hpp"
#include "totp/username.hpp"

namespace totp {
namespace {

// A file removed or replaced while we waited for its lock is reopened; more than a few
// in a row means something is churning the directory, and we give up rather than spin.
constexpr int kMaxOpenAttempts = 8;

// Reset tokens live beside the user records under a name no user can have.
constexpr const char* kTokenDirName = ".reset-tokens";
// A temporary file left behind by a crash during put_reset_token is removed this much later.
constexpr std::int64_t kStaleTempSeconds = 3600;

std::string errno_text(int error) {
    return std::strerror(error);
}

Error io_error(const std::string& what, int error) {
    return make_error(Errc::io, what + ": " + errno_text(error));
}

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// The most alarming of the permission bits set in `mode`, in words.
std::string describe_access(mode_t mode) {
    if (mode & S_IWOTH) return "world-writable";
    if (mode & S_IROTH) return "world-readable";
    if (mode & S_IXOTH) return "accessible by others";
    if (mode & S_IWGRP) return "group-writable";
    if (mode & S_IRGRP) return "group-readable";
    return "accessible by the group";
}

std::string file_type(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISLNK(mode)) return "a symlink";
    return "not a regular file";
}

// Gives a finished temp file its real name, failing with EEXIST if that name is taken.
// One atomic rename: a crash can leave the temp name or the real one, never both on one
// inode (a second link would make the record look like a planted hard link and lock the
// user out). Filesystems without RENAME_NOREPLACE get link + unlink. Returns 0 or errno.
int publish(int dir, const std::string& temp, const std::string& name) {
    if (::renameat2(dir, temp.c_str(), dir, name.c_str(), RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return errno;
    if (::linkat(dir, temp.c_str(), dir, name.c_str(), 0) != 0) return errno;
    ::unlinkat(dir, temp.c_str(), 0);
    return 0;
}

std::string join_path(const std::string& dir, const std::string& name) {
    return dir.ends_with('/') ? dir + name : dir + "/" + name;
}

Error identity_switch_failed(const std::string& path) {
    return make_error(
        Errc::io, "state file " + path + ": could not switch to the user's filesystem identity");
}

// Switches the calling thread's filesystem identity (setfsuid/setfsgid only affect
// permission checks of this thread), so files in a user's home are created and opened
// with exactly the rights that user has. Only root can switch; anyone else already has
// at most its own rights.
class FsIdentity {
  public:
    FsIdentity(uid_t uid, gid_t gid) {
        if (::geteuid() != 0) return;
        old_gid_ = static_cast<gid_t>(::setfsgid(gid));
        old_uid_ = static_cast<uid_t>(::setfsuid(uid));
        switched_ = true;
        // setfsuid reports the previous value even on failure; asking again confirms.
        ok_ = static_cast<uid_t>(::setfsuid(uid)) == uid &&
              static_cast<gid_t>(::setfsgid(gid)) == gid;
    }
    ~FsIdentity() {
        if (!switched_) return;
        // Privileges first: setfsgid back to root's group needs fsuid 0.
        ::setfsuid(old_uid_);
        ::setfsgid(old_gid_);
    }
    FsIdentity(const FsIdentity&) = delete;
    FsIdentity& operator=(const FsIdentity&) = delete;

    bool ok() const { return ok_; }

  private:
    uid_t old_uid_ = 0;
    gid_t old_gid_ = 0;
    bool switched_ = false;
    bool ok_ = true;
};

// "~/" at the start is the user's home, "%u" anywhere is the user name.
Result<std::string> expand_path(const std::string& pattern, const std::string& user,
                                const Account& account) {
    std::string path;
    std::string_view rest = pattern;
    if (rest.starts_with("~/")) {
        path = account.home;
        if (!path.ends_with('/')) path += '/';
        rest.remove_prefix(2);
    }
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '%' && i + 1 < rest.size() && rest[i + 1] == 'u') {
            path += user;
            ++i;
        } else {
            path += rest[i];
        }
    }
    if (!path.starts_with('/')) {
        return make_error(Errc::invalid_argument, "secret_path '" + pattern + "' expands to '" +
                                                      path + "' for user " + user +
                                                      ", which is not an absolute path");
    }
    return path;
}

// Where one user's state file lives and who must own it.
struct Location {
    UniqueFd dir;
    std::string dir_path;
    std::string name;  // file name inside dir
    uid_t owner = 0;
    std::optional<Account> identity;  // home layout: act as this user

    std::string path() const { return join_path(dir_path, name); }
};

// Who may own a directory holding state files, and which permission bits it must not have.
struct DirPolicy {
    std::optional<uid_t> owner;  // besides root
    mode_t forbidden = 077;
};

// The shared state directory: root's, and nobody else may list, read or write it. Group
// and other may search it (0711): a caller that is not root (a screen locker checking the
// password as the user) can then tell that an account has no record, and follow nullok,
// while the records themselves stay 0600 root.
constexpr DirPolicy kSystemDirPolicy{std::nullopt, 066};

// The reset tokens' directory: nobody but root has any reason to look into it.
constexpr DirPolicy kTokenDirPolicy{std::nullopt, 077};

// The home layout's directory: the user may write their own directory; nobody else may,
// or they could swap the file. The file's own mode keeps it private.
DirPolicy home_dir_policy(uid_t user) {
    return DirPolicy{user, 022};
}

Status check_dir(const struct stat& st, const std::string& path, const DirPolicy& policy) {
    if (!S_ISDIR(st.st_mode)) {
        return make_error(Errc::unsafe, "state directory " + path + ": is not a directory");
    }
    if (st.st_uid != 0 && (!policy.owner || st.st_uid != *policy.owner)) {
        return make_error(Errc::unsafe, "state directory " + path + ": is owned by uid " +
                                            std::to_string(st.st_uid) + ", refusing");
    }
    if ((st.st_mode & policy.forbidden) != 0) {
        return make_error(Errc::unsafe, "state directory " + path + ": is " +
                                            describe_access(st.st_mode & policy.forbidden) +
                                            " (mode " + octal_mode(st.st_mode) + "), refusing");
    }
    return {};
}

// A caller that is not root is denied root's records by design. That is an error of its
// own (Errc::not_permitted), so the caller can say why instead of reporting a broken store.
Error denied_error(const std::string& what, int error) {
    if (error == EACCES && ::geteuid() != 0) {
        return make_error(Errc::not_permitted, what + ": permission denied to uid " +
                                                   std::to_string(::geteuid()) + " (not root)");
    }
    return io_error(what, error);
}

// Opens a directory for reading, or, for a caller that is not root and may only search
// it (0711), for path operations only: enough to look a name up and open it.
UniqueFd open_dir_fd(const std::string& path) {
    constexpr int kFlags = O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | kFlags));
    if (!fd.valid() && errno == EACCES && ::geteuid() != 0)
        fd = UniqueFd(::open(path.c_str(), O_PATH | kFlags));
    return fd;
}

Result<UniqueFd> open_dir(const std::string& path, const DirPolicy& policy) {
    UniqueFd fd = open_dir_fd(path);
    struct stat st {};
    if (fd.valid()) {
        if (::fstat(fd.get(), &st) != 0) return io_error("state directory " + path, errno);
        if (Status ok = check_dir(st, path, policy); !ok) return ok.error();
        return fd;
    }
    const int error = errno;
    if (error == ELOOP) {
        return make_error(Errc::unsafe, "state directory " + path + ": is a symlink, refusing");
    }
    if (error == ENOENT) {
        return make_error(Errc::not_found, "state directory " + path + ": does not exist");
    }
    if (error == ENOTDIR) {
        // O_DIRECTORY is checked before O_NOFOLLOW: a symlink to a directory lands here too.
        const std::string what = ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)
                                     ? "is a symlink"
                                     : "is not a directory";
        return make_error(Errc::unsafe, "state directory " + path + ": " + what + ", refusing");
    }
    // Denied (in the home layout): say so precisely when the owner or mode is the reason.
    if (error == EACCES && ::lstat(path.c_str(), &st) == 0) {
        if (Status ok = check_dir(st, path, policy); !ok) return ok.error();
    }
    return denied_error("state directory " + path, error);
}

// Checks applied to the state file through its fd. The link count is checked only under
// the lock: a creator briefly has the file linked twice (temp name and final name).
Status check_file(const struct stat& st, const Location& where, bool check_links) {
    const std::string path = where.path();
    if (!S_ISREG(st.st_mode)) {
        return make_error(Errc::unsafe,
                          "state file " + path + ": is " + file_type(st.st_mode) + ", refusing");
    }
    if (st.st_uid != where.owner) {
        return make_error(Errc::unsafe, "state file " + path + ": is owned by uid " +
                                            std::to_string(st.st_uid) + ", expected uid " +
                                            std::to_string(where.owner) + ", refusing");
    }
    if ((st.st_mode & 077) != 0) {
        return make_error(Errc::unsafe, "state file " + path + ": is " +
                                            describe_access(st.st_mode & 077) + " (mode " +
                                            octal_mode(st.st_mode) + "), refusing");
    }
    if (check_links && st.st_nlink != 1) {
        return make_error(Errc::unsafe, "state file " + path + ": has " +
                                            std::to_string(st.st_nlink) + " hard links, refusing");
    }
    return {};
}

Status write_all(int fd, const char* data, std::size_t size, off_t offset) {
    while (size > 0) {
        const ssize_t written = ::pwrite(fd, data, size, offset);
        if (written < 0) {
            if (errno == EINTR) continue;
            return make_error(Errc::io, errno_text(errno));
        }
        if (written == 0) return make_error(Errc::io, "write made no progress");
        data += written;
        size -= static_cast<std::size_t>(written);
        offset += written;
    }
    return {};
}

Status read_all(int fd, std::uint8_t* data, std::size_t size) {
    off_t offset = 0;
    while (size > 0) {
        const ssize_t got = ::pread(fd, data, size, offset);
        if (got < 0) {
            if (errno == EINTR) continue;
            return make_error(Errc::io, errno_text(errno));
        }
        if (got == 0) return make_error(Errc::corrupt, "file shrank while being read");
        data += got;
        size -= static_cast<std::size_t>(got);
        offset += got;
    }
    return {};
}

std::optional<std::string> random_hex(std::size_t bytes) {
    std::vector<std::uint8_t> raw(bytes);
    if (!random_bytes(raw.data(), raw.size())) return std::nullopt;
    return hex_encode(raw);
}

// The names in a directory that `wanted` picks (one pass; entries are opened by name
// afterwards). The state directory can hold 100 000 users: only picked names are kept.
template <class Wanted>
Result<std::vector<std::string>> list_names(int dir, const std::string& path, Wanted wanted) {
    UniqueFd copy(::dup(dir));
    DIR* stream = copy.valid() ? ::fdopendir(copy.get()) : nullptr;
    if (stream == nullptr) return io_error("listing " + path, errno);
    static_cast<void>(copy.release());  // the stream owns it now
    std::unique_ptr<DIR, int (*)(DIR*)> closer(stream, ::closedir);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(stream)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != ".." && wanted(name)) names.emplace_back(name);
        errno = 0;
    }
    if (errno != 0) return io_error("listing " + path, errno);
    return names;
}

// `.<user>.<16 hex digits>.tmp`: the temporary name of a record being created for `user`.
// `prefix` is ".<user>.".
bool is_temp_name_of(std::string_view name, std::string_view prefix) {
    constexpr std::size_t kSuffixDigits = 16;
    if (!name.starts_with(prefix) || !name.ends_with(".tmp")) return false;
    const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - 4);
    return digits.size() == kSuffixDigits && std::all_of(digits.begin(), digits.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// Removes the temporary files that creators of `user`'s record left behind when they were
// killed. A live creator holds the lock on its temp file from just after creating it until
// it is published, so a temp file is abandoned when its lock is free and it is older than
// that moment could last. Best effort: a failure leaves litter, never a wrong record.
void remove_abandoned_temps(int dir, const std::string& dir_path, const std::string& user) {
    constexpr std::int64_t kCreatorGraceSeconds = 10;
    const std::string prefix = "." + user + ".";
    Result<std::vector<std::string>> names = list_names(
        dir, dir_path, [&prefix](std::string_view name) { return is_temp_name_of(name, prefix); });
    if (!names) return;
    // Compared with the file system's mtimes, so the system clock, not the login's clock.
    const std::int64_t now = static_cast<std::int64_t>(::time(nullptr));
    for (const std::string& name : *names) {
        // O_NONBLOCK: a FIFO planted under such a name must not hang the enrollment.
        UniqueFd fd(
            ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        struct stat st {};
        if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (st.st_mtime > now - kCreatorGraceSeconds) continue;
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // its creator is alive
        ::unlinkat(dir, name.c_str(), 0);
    }
}

class FileRecord final : public Record {
  public:
    explicit FileRecord(Location where) : where_(std::move(where)) {}

    const std::optional<UserState>& state() const override { return state_; }

    Status save(const UserState& state) override {
        std::optional<FsIdentity> identity;
        if (where_.identity) {
            identity.emplace(where_.identity->uid, where_.identity->gid);
            if (!identity->ok()) return identity_switch_failed(where_.path());
        }
        if (!state_) return write_whole_file(state, 1, false);
        // A version 1 file has smaller slots: the upgrade replaces it as a whole.
        if (version_ != kStateFormatVersion) return write_whole_file(state, sequence_ + 1, true);
        return update(state);
    }

    Status remove() override {
        if (!state_) {
            return make_error(Errc::not_found, "state file " + where_.path() + ": not enrolled");
        }
        std::optional<FsIdentity> identity;
        if (where_.identity) {
            identity.emplace(where_.identity->uid, where_.identity->gid);
            if (!identity->ok()) return identity_switch_failed(where_.path());
        }
        // We hold the lock, so the name still refers to our inode (open() re-checks that).
        if (::unlinkat(where_.dir.get(), where_.name.c_str(), 0) != 0) {
            return io_error("removing state file " + where_.path(), errno);
        }
        state_.reset();
        file_.reset();
        if (::fsync(where_.dir.get()) != 0) {
            return io_error("state file " + where_.path() + ": removed, but syncing " +
                                where_.dir_path + " failed",
                            errno);
        }
        return {};
    }

    // Opens and locks the file, or finds there is none. A file swapped or unlinked while we
    // waited for the lock is opened again, so the lock is always on the file the name holds;
    // one deadline covers every attempt, so swapping cannot stretch the wait.
    Status load() {
        const LockDeadline deadline;
        for (int attempt = 0; attempt < kMaxOpenAttempts; ++attempt) {
            UniqueFd fd(::openat(where_.dir.get(), where_.name.c_str(),
                                 O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
            if (!fd.valid()) {
                const int error = errno;
                if (error == ENOENT) return {};
                if (error == ELOOP) {
                    return make_error(Errc::unsafe,
                                      "state file " + where_.path() + ": is a symlink, refusing");
                }
                if (error == EACCES) return denied();
                if (error == EISDIR) {
                    return make_error(Errc::unsafe,
                                      "state file " + where_.path() + ": is a directory, refusing");
                }
                return io_error("opening state file " + where_.path(), error);
            }
            struct stat st {};
            if (::fstat(fd.get(), &st) != 0) return io_error("state file " + where_.path(), errno);
            if (Status ok = check_file(st, where_, false); !ok) return ok;

            if (Status locked = lock_exclusive(fd.get(), "state file " + where_.path(), deadline);
                !locked) {
                return locked;
            }
            if (::fstat(fd.get(), &st) != 0) return io_error("state file " + where_.path(), errno);
            if (st.st_nlink == 0) continue;
            struct stat named {};
            if (::fstatat(where_.dir.get(), where_.name.c_str(), &named, AT_SYMLINK_NOFOLLOW) !=
                0) {
                if (errno == ENOENT) continue;
                return io_error("state file " + where_.path(), errno);
            }
            if (named.st_dev != st.st_dev || named.st_ino != st.st_ino) continue;
            if (Status ok = check_file(st, where_, true); !ok) return ok;
            return read_locked(std::move(fd), st);
        }
        return make_error(Errc::busy, "state file " + where_.path() +
                                          ": replaced repeatedly while waiting for its lock");
    }

  private:
    // The open was refused (home layout: we act as the user; or the caller is not root).
    // When the owner or mode is the reason, that is the more useful message.
    Status denied() const {
        const int error = EACCES;
        struct stat st {};
        if (::fstatat(where_.dir.get(), where_.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (Status ok = check_file(st, where_, true); !ok) return ok;
        }
        return denied_error("opening state file " + where_.path(), error);
    }

    Status read_locked(UniqueFd fd, const struct stat& st) {
        if (st.st_size != static_cast<off_t>(kStateFileSize) &&
            st.st_size != static_cast<off_t>(kV1StateFileSize)) {
            return make_error(Errc::corrupt, "state file " + where_.path() + ": is " +
                                                 std::to_string(st.st_size) + " bytes, expected " +
                                                 std::to_string(kStateFileSize));
        }
        SecretBytes content(static_cast<std::size_t>(st.st_size));
        if (Status read = read_all(fd.get(), content.data(), content.size()); !read) {
            return make_error(read.error().code,
                              "reading state file " + where_.path() + ": " + read.error().message);
        }
        Result<DecodedFile> decoded =
            decode_file({reinterpret_cast<const char*>(content.data()), content.size()});
        if (!decoded) {
            return make_error(Errc::corrupt,
                              "state file " + where_.path() + ": " + decoded.error().message);
        }
        state_ = std::move(decoded->state);
        sequence_ = decoded->sequence;
        next_slot_ = decoded->next_slot;
        version_ = decoded->version;
        file_ = std::move(fd);
        return {};
    }

    // Overwrites only the slot holding the older record: until fdatasync returns the
    // newer record in the other slot is untouched, so a crash leaves old or new, never a mix.
    Status update(const UserState& state) {
        if (sequence_ == std::numeric_limits<std::uint64_t>::max()) {
            return make_error(Errc::corrupt,
                              "state file " + where_.path() + ": sequence number exhausted");
        }
        Result<SecretString> slot = encode_slot(state, sequence_ + 1);
        if (!slot) return slot.error();
        const off_t offset = static_cast<off_t>(next_slot_ * kSlotSize);
        if (Status written = write_all(file_.get(), slot->c_str(), slot->size(), offset);
            !written) {
            return make_error(
                Errc::io, "writing state file " + where_.path() + ": " + written.error().message);
        }
        if (::fdatasync(file_.get()) != 0) {
            return io_error("syncing state file " + where_.path(), errno);
        }
        state_ = state.clone();
        sequence_ += 1;
        next_slot_ = 1 - next_slot_;
        return {};
    }

    // Writes the whole file under a temporary name and links it into place, so the final
    // name never refers to a partial file (a full disk fails here, not at the next login).
    // The temp file is locked before it is linked: whoever opens the new name waits for us.
    // `replace`: an upgrade renames it over the locked old file; a crash leaves the old or
    // the new file, and whoever waits for the old one's lock finds it replaced and reopens.
    Status write_whole_file(const UserState& state, std::uint64_t sequence, bool replace) {
        if (sequence == 0) {
            return make_error(Errc::corrupt,
                              "state file " + where_.path() + ": sequence number exhausted");
        }
        Result<SecretString> slot = encode_slot(state, sequence);
        if (!slot) return slot.error();
        SecretString content(slot->view());
        content.append(std::string(kSlotSize, '\n'));

        const std::optional<std::string> suffix = random_hex(8);
        if (!suffix) {
            return make_error(Errc::io,
                              "state file " + where_.path() + ": random number generator failed");
        }
        const std::string temp = "." + where_.name + "." + *suffix + ".tmp";
        const int dir = where_.dir.get();
        UniqueFd fd(::openat(dir, temp.c_str(),
                             O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600));
        if (!fd.valid()) {
            return io_error("creating " + join_path(where_.dir_path, temp), errno);
        }
        auto fail = [&](const std::string& what, int error) -> Status {
            ::unlinkat(dir, temp.c_str(), 0);
            return io_error(what, error);
        };
        // The umask could have removed bits we rely on (the owner's read and write).
        if (::fchmod(fd.get(), 0600) != 0) return fail("chmod " + temp, errno);
        if (Status locked = lock_exclusive(fd.get(), join_path(where_.dir_path, temp)); !locked) {
            ::unlinkat(dir, temp.c_str(), 0);
            return locked;
        }
        if (Status written = write_all(fd.get(), content.c_str(), content.size(), 0); !written) {
            ::unlinkat(dir, temp.c_str(), 0);
            return make_error(
                Errc::io, "writing state file " + where_.path() + ": " + written.error().message);
        }
        if (::fsync(fd.get()) != 0)
            return fail("syncing " + join_path(where_.dir_path, temp), errno);
        const int error =
            replace ? (::renameat(dir, temp.c_str(), dir, where_.name.c_str()) == 0 ? 0 : errno)
                    : publish(dir, temp, where_.name);
        if (error != 0) {
            ::unlinkat(dir, temp.c_str(), 0);
            if (error == EEXIST) {
                return make_error(Errc::busy,
                                  "state file " + where_.path() + ": enrolled concurrently");
            }
            return io_error("creating state file " + where_.path(), error);
        }
        if (::fsync(dir) != 0) {
            // Not durable, so report failure. A new name is taken back so that what is on
            // disk matches what we reported (we still hold the lock on that inode); a
            // replaced file cannot be put back, and a failed login only fails closed.
            const int sync_error = errno;
            if (!replace) ::unlinkat(dir, where_.name.c_str(), 0);
            return io_error("syncing state directory " + where_.dir_path, sync_error);
        }
        state_ = state.clone();
        sequence_ = sequence;
        next_slot_ = 1;
        version_ = kStateFormatVersion;
        file_ = std::move(fd);
        remove_abandoned_temps(dir, where_.dir_path, where_.name);
        return {};
    }

    Location where_;
    UniqueFd file_;
    std::optional<UserState> state_;
    std::uint64_t sequence_ = 0;
    std::size_t next_slot_ = 0;
    int version_ = kStateFormatVersion;
};

// --- Reset tokens -------------------------------------------------------------------------
//
// One file per token, named by its selector, in <state_dir>/.reset-tokens (0700 root),
// each 0600 root. Written under a temporary name and linked into place like a new record;
// read and removed under flock, so of two takers only the first finds the file linked.

struct TokenDir {
    UniqueFd fd;
    std::string path;
};

// An entry opened, checked and locked (the lock is released when `fd` closes).
struct LockedToken {
    UniqueFd fd;
    ResetTokenEntry entry;
};

Result<LockedToken> open_token(const TokenDir& dir, const std::string& selector) {
    const std::string path = join_path(dir.path, selector);
    UniqueFd fd(
        ::openat(dir.fd.get(), selector.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
        const int error = errno;
        if (error == ENOENT) return make_error(Errc::not_found, "no reset token " + selector);
        if (error == ELOOP) {
            return make_error(Errc::unsafe, "reset token " + path + ": is a symlink, refusing");
        }
        return io_error("opening reset token " + path, error);
    }
    Location owner;  // check_file only needs the owner (root) and a name for messages
    owner.dir_path = dir.path;
    owner.name = selector;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return io_error("reset token " + path, errno);
    if (Status ok = check_file(st, owner, false); !ok) return ok.error();
    if (Status locked = lock_exclusive(fd.get(), "reset token " + path); !locked) {
        return locked.error();
    }
    struct stat named {};
    if (::fstat(fd.get(), &st) != 0) return io_error("reset token " + path, errno);
    if (st.st_nlink == 0 ||
        ::fstatat(dir.fd.get(), selector.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 ||
        named.st_dev != st.st_dev || named.st_ino != st.st_ino) {
        return make_error(Errc::not_found, "no reset token " + selector);  // taken meanwhile
    }
    if (Status ok = check_file(st, owner, true); !ok) return ok.error();
    if (st.st_size > static_cast<off_t>(kMaxResetEntryLength)) {
        return make_error(Errc::corrupt, "reset token " + path + ": too large");
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    if (Status read = read_all(fd.get(), reinterpret_cast<std::uint8_t*>(text.data()), text.size());
        !read) {
        return make_error(read.error().code,
                          "reading reset token " + path + ": " + read.error().message);
    }
    Result<ResetTokenEntry> entry = decode_reset_entry(text);
    if (!entry) return make_error(Errc::corrupt, path + ": " + entry.error().message);
    return LockedToken{std::move(fd), std::move(*entry)};
}

// Unlinks an entry whose lock the caller holds, durably.
Status remove_token(const TokenDir& dir, const std::string& name) {
    if (::unlinkat(dir.fd.get(), name.c_str(), 0) != 0) {
        return io_error("removing reset token " + join_path(dir.path, name), errno);
    }
    return {};
}

Status sync_dir(const TokenDir& dir) {
    if (::fsync(dir.fd.get()) != 0) return io_error("syncing " + dir.path, errno);
    return {};
}

// Names in the token directory (one pass; entries are opened by name afterwards).
Result<std::vector<std::string>> list_dir(const TokenDir& dir) {
    return list_names(dir.fd.get(), dir.path, [](std::string_view) { return true; });
}

// Serves both interfaces: login records, and reset tokens under the state directory.
class FileStore final : public Store, public ResetTokenStore {
  public:
    explicit FileStore(FileStoreOptions options) : options_(std::move(options)) {}

    Result<std::unique_ptr<Record>> open(std::string_view user_view) override {
        if (Status name = check_username(user_view); !name) return name.error();
        const std::string user(user_view);
        Result<Location> where = take_located(user);
        if (!where) return where.error();

        std::optional<FsIdentity> identity;
        if (where->identity) {
            identity.emplace(where->identity->uid, where->identity->gid);
            if (!identity->ok()) return identity_switch_failed(where->path());
        }
        auto record = std::make_unique<FileRecord>(std::move(*where));
        if (Status loaded = record->load(); !loaded) return loaded.error();
        return std::unique_ptr<Record>(std::move(record));
    }

    // One fstatat in the checked directory. Whatever has the user's name there counts as
    // enrolled: open() then checks and reads it, so an unsafe or corrupt file still fails.
    Result<bool> enrolled(std::string_view user_view) override {
        if (Status name = check_username(user_view); !name) return name.error();
        const std::string user(user_view);
        Result<Location> where = locate(user);
        if (!where) {
            // Home layout: an account that does not exist has no home, so no enrollment.
            if (where.error().code == Errc::not_found && !options_.secret_path.empty()) {
                const Result<Account> account = find_account(user);
                if (!account && account.error().code == Errc::not_found) return false;
            }
            return where.error();
        }
        std::optional<FsIdentity> identity;
        if (where->identity) {
            identity.emplace(where->identity->uid, where->identity->gid);
            if (!identity->ok()) return identity_switch_failed(where->path());
        }
        struct stat st {};
        if (::fstatat(where->dir.get(), where->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
            located_.emplace(user, std::move(*where));
            return true;
        }
        if (errno == ENOENT) return false;
        return denied_error("state file " + where->path(), errno);
    }

    Result<std::vector<std::string>> users() override {
        if (!options_.secret_path.empty()) {
            return make_error(Errc::unsupported,
                              "listing users is not possible with secret_path (per-home layout)");
        }
        Result<UniqueFd> dir = open_state_dir();
        if (!dir) return dir.error();
        // fdopendir takes the fd; give it its own so ours is closed exactly once.
        DIR* stream = ::fdopendir(::dup(dir->get()));
        if (stream == nullptr) return io_error("listing " + options_.state_dir, errno);
        std::unique_ptr<DIR, int (*)(DIR*)> closer(stream, ::closedir);

        std::vector<std::string> names;
        errno = 0;
        while (const dirent* entry = ::readdir(stream)) {
            const std::string_view name = entry->d_name;
            if (name.starts_with('.') || !check_username(name)) continue;
            struct stat st {};
            if (::fstatat(dir->get(), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            if (S_ISREG(st.st_mode)) names.emplace_back(name);
            errno = 0;
        }
        if (errno != 0) return io_error("listing " + options_.state_dir, errno);
        std::sort(names.begin(), names.end());
        return names;
    }

    Status put_reset_token(std::string_view selector_view, const ResetTokenEntry& entry) override {
        if (!is_reset_selector(selector_view)) return bad_selector();
        const std::string selector(selector_view);
        Result<std::string> text = encode_reset_entry(entry);
        if (!text) return text.error();
        Result<TokenDir> dir = open_token_dir(true);
        if (!dir) return dir.error();

        const std::optional<std::string> suffix = random_hex(8);
        if (!suffix) return make_error(Errc::io, "random number generator failed");
        const std::string temp = "." + selector + "." + *suffix + ".tmp";
        const std::string path = join_path(dir->path, selector);
        const int dir_fd = dir->fd.get();
        UniqueFd fd(::openat(dir_fd, temp.c_str(),
                             O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600));
        if (!fd.valid()) return io_error("creating " + join_path(dir->path, temp), errno);
        auto fail = [&](const std::string& what, int error) -> Status {
            ::unlinkat(dir_fd, temp.c_str(), 0);
            return io_error(what, error);
        };
        if (::fchmod(fd.get(), 0600) != 0) return fail("chmod " + temp, errno);
        if (Status locked = lock_exclusive(fd.get(), join_path(dir->path, temp)); !locked) {
            ::unlinkat(dir_fd, temp.c_str(), 0);
            return locked;
        }
        if (Status written = write_all(fd.get(), text->data(), text->size(), 0); !written) {
            ::unlinkat(dir_fd, temp.c_str(), 0);
            return make_error(Errc::io,
                              "writing reset token " + path + ": " + written.error().message);
        }
        if (::fsync(fd.get()) != 0) return fail("syncing " + temp, errno);
        if (const int error = publish(dir_fd, temp, selector); error != 0) {
            ::unlinkat(dir_fd, temp.c_str(), 0);
            if (error == EEXIST) return make_error(Errc::busy, "reset token " + path + ": exists");
            return io_error("creating reset token " + path, error);
        }
        if (Status synced = sync_dir(*dir); !synced) {
            ::unlinkat(dir_fd, selector.c_str(), 0);  // report what is on disk: nothing
            return synced;
        }
        return {};
    }

    Result<ResetTokenEntry> find_reset_token(std::string_view selector) override {
        if (!is_reset_selector(selector)) return bad_selector();
        Result<TokenDir> dir = open_token_dir(false);
        if (!dir) return dir.error();
        Result<LockedToken> token = open_token(*dir, std::string(selector));
        if (!token) return token.error();
        return std::move(token->entry);
    }

    Result<ResetTokenEntry> take_reset_token(std::string_view selector_view) override {
        if (!is_reset_selector(selector_view)) return bad_selector();
        const std::string selector(selector_view);
        Result<TokenDir> dir = open_token_dir(false);
        if (!dir) return dir.error();
        Result<LockedToken> token = open_token(*dir, selector);
        if (!token) return token.error();
        if (Status removed = remove_token(*dir, selector); !removed) return removed.error();
        if (Status synced = sync_dir(*dir); !synced) return synced.error();
        return std::move(token->entry);
    }

    Status drop_reset_tokens(std::string_view user) override {
        return remove_tokens_if([&](const ResetTokenEntry& entry) { return entry.user == user; });
    }

    Status prune_reset_tokens(std::int64_t now) override {
        Result<TokenDir> dir = open_token_dir(false);
        if (!dir) return dir.error().code == Errc::not_found ? Status{} : Status{dir.error()};
        Result<std::vector<std::string>> names = list_dir(*dir);
        if (!names) return names.error();
        for (const std::string& name : *names) {
            struct stat st {};
            if (name.starts_with('.') && name.ends_with(".tmp") &&
                ::fstatat(dir->fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                st.st_mtime < now - kStaleTempSeconds) {
                ::unlinkat(dir->fd.get(), name.c_str(), 0);
            }
        }
        return remove_tokens_if([&](const ResetTokenEntry& entry) { return entry.expires < now; });
    }

  private:
    static Error bad_selector() {
        return make_error(Errc::invalid_argument, "not a reset token selector");
    }

    // <state_dir>/.reset-tokens, created (0700 root) on first use when `create`.
    Result<TokenDir> open_token_dir(bool create) {
        Result<UniqueFd> state_dir = open_state_dir();
        if (!state_dir) return state_dir.error();
        const std::string path = join_path(options_.state_dir, kTokenDirName);
        if (create && ::mkdirat(state_dir->get(), kTokenDirName, 0700) == 0) {
            if (::fsync(state_dir->get()) != 0)
                return io_error("syncing " + options_.state_dir, errno);
        } else if (create && errno != EEXIST) {
            return io_error("creating " + path, errno);
        }
        UniqueFd fd(::openat(state_dir->get(), kTokenDirName,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd.valid()) {
            const int error = errno;
            if (error == ENOENT) return make_error(Errc::not_found, path + ": does not exist");
            if (error == ELOOP || error == ENOTDIR) {
                return make_error(Errc::unsafe,
                                  "state directory " + path + ": is not a directory, refusing");
            }
            return io_error("state directory " + path, error);
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) return io_error("state directory " + path, errno);
        if (Status ok = check_dir(st, path, kTokenDirPolicy); !ok) return ok.error();
        return TokenDir{std::move(fd), path};
    }

    // Removes, under each entry's lock, the entries `doomed` picks; unreadable entries stay
    // (they can never be used: find and take refuse them).
    template <class Predicate>
    Status remove_tokens_if(Predicate doomed) {
        Result<TokenDir> dir = open_token_dir(false);
        if (!dir) return dir.error().code == Errc::not_found ? Status{} : Status{dir.error()};
        Result<std::vector<std::string>> names = list_dir(*dir);
        if (!names) return names.error();
        bool removed_any = false;
        for (const std::string& name : *names) {
            if (!is_reset_selector(name)) continue;
            Result<LockedToken> token = open_token(*dir, name);
            if (!token || !doomed(token->entry)) continue;
            if (Status removed = remove_token(*dir, name); !removed) return removed;
            removed_any = true;
        }
        return removed_any ? sync_dir(*dir) : Status{};
    }

    Result<UniqueFd> open_state_dir() {
        const std::string& path = options_.state_dir;
        if (!path.starts_with('/')) {
            return make_error(Errc::invalid_argument,
                              "state directory '" + path + "' is not an absolute path");
        }
        return open_dir(path, kSystemDirPolicy);
    }

    Result<Location> locate(const std::string& user) {
        return options_.secret_path.empty() ? system_location(user) : home_location(user);
    }

    // A login asks enrolled() before its prompt and open() after it: open() takes the
    // directory enrolled() opened and checked (and, in the home layout, the account it
    // looked up) instead of opening the path and looking the account up again. The
    // directory's owner and mode are checked again, through the kept descriptor.
    Result<Location> take_located(const std::string& user) {
        std::optional<std::pair<std::string, Location>> located = std::move(located_);
        located_.reset();
        if (!located || located->first != user) return locate(user);
        Location where = std::move(located->second);
        const DirPolicy policy =
            where.identity ? home_dir_policy(where.identity->uid) : kSystemDirPolicy;
        struct stat st {};
        if (::fstat(where.dir.get(), &st) != 0) {
            return io_error("state directory " + where.dir_path, errno);
        }
        if (Status ok = check_dir(st, where.dir_path, policy); !ok) return ok.error();
        return where;
    }

    Result<Location> system_location(const std::string& user) {
        Result<UniqueFd> dir = open_state_dir();
        if (!dir) return dir.error();
        Location where;
        where.dir = std::move(*dir);
        where.dir_path = options_.state_dir;
        where.name = user;
        where.owner = 0;
        return where;
    }

    Result<Location> home_location(const std::string& user) {
        Result<Account> account = find_account(user);
        if (!account) return account.error();
        Result<std::string> path = expand_path(options_.secret_path, user, *account);
        if (!path) return path.error();

        const std::size_t slash = path->rfind('/');
        Location where;
        where.dir_path = slash == 0 ? "/" : path->substr(0, slash);
        where.name = path->substr(slash + 1);
        if (where.name.empty() || where.name == "." || where.name == "..") {
            return make_error(Errc::invalid_argument,
                              "secret_path '" + *path + "' does not name a file");
        }
        where.owner = account->uid;
        where.identity = *account;

        FsIdentity identity(account->uid, account->gid);
        if (!identity.ok()) return identity_switch_failed(*path);
        Result<UniqueFd> dir = open_dir(where.dir_path, home_dir_policy(account->uid));
        if (!dir) return dir.error();
        where.dir = std::move(*dir);
        return where;
    }

    FileStoreOptions options_;
    std::optional<std::pair<std::string, Location>> located_;  // see take_located()
};

}  // namespace

std::unique_ptr<Store> make_file_store(const FileStoreOptions& options) {
    return std::make_unique<FileStore>(options);
}

std::unique_ptr<ResetTokenStore> make_file_reset_token_store(const FileStoreOptions& options) {
    return std::make_unique<FileStore>(options);
}

}  // namespace totp
