// SPDX-License-Identifier: Apache-2.0
// pam_sm_authenticate itself, with fuzzed module arguments, config file, user, state file,
// planted filesystem objects, conversation answers and PAM_AUTHTOK, at a fuzzed time, while
// the system calls it makes (open, read, write, fsync, rename, flock, getpwnam_r,
// RAND_bytes ...) fail where the input says (faults.hpp). Properties, beyond "no crash, no
// leak":
//   - PAM_SUCCESS only for an answer the state accepted at that time, never after a failed
//     store write, and then the code or recovery code is consumed on disk;
//   - a state file that decoded before still decodes after, with the same secret, and one
//     that did not decode is not touched;
//   - the process keeps its filesystem identity;
//   - prompts are echo-off; log lines are single printable lines without the secret or a
//     typed code.
// TOTP_FUZZ_VERBOSE=1 prints each case (answers, arguments, log, faults) to stderr.
#include <fcntl.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_pam.hpp"
#include "faults.hpp"
#include "fuzz_input.hpp"
#include "one_token.hpp"
#include "sandbox.hpp"
#include "state_builder.hpp"
#include "totp/base32.hpp"
#include "totp/user_state.hpp"

namespace {

constexpr uid_t kAliceUid = 1001;

struct World {
    std::string root;
    std::string state_dir;
    std::string home;  // alice's home directory (home layout)
    std::string config;
};

const World& world() {
    static const World w = [] {
        World made;
        made.root = fuzz::sandbox_dir() + "/pam";
        made.state_dir = made.root + "/state";
        made.home = made.root + "/home/alice";
        made.config = made.root + "/pam_totp.conf";
        mkdir(made.root.c_str(), 0755);
        mkdir(made.state_dir.c_str(), 0700);
        mkdir((made.root + "/home").c_str(), 0755);
        mkdir(made.home.c_str(), 0700);
        if (geteuid() == 0 && chown(made.home.c_str(), kAliceUid, kAliceUid) != 0)
            fuzz::violated("chown home");
        faults::set_accounts({{"alice", kAliceUid, kAliceUid, made.home, {2000}},
                              {"bob", 1002, 1002, made.root + "/home/bob", {}},
                              {"root", 0, 0, "/root", {}}},
                             {{"totp-users", 2000}, {"no2fa", 2001}});
        return made;
    }();
    return w;
}

// The bytes of a regular file (following symlinks), without blocking on a FIFO.
std::optional<std::string> read_file(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    std::optional<std::string> content;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        content.emplace();
        char buffer[4096];
        ssize_t got;
        while ((got = read(fd, buffer, sizeof buffer)) > 0)
            content->append(buffer, static_cast<std::size_t>(got));
    }
    close(fd);
    return content;
}

std::optional<totp::DecodedFile> decode(const std::optional<std::string>& bytes) {
    if (!bytes) return std::nullopt;
    totp::Result<totp::DecodedFile> decoded = totp::decode_file(*bytes);
    if (!decoded) return std::nullopt;
    return std::move(*decoded);
}

void remove_entry(const std::string& path) {
    if (unlink(path.c_str()) != 0) rmdir(path.c_str());
}

bool printable_line(const std::string& text) {
    return std::none_of(text.begin(), text.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Everything one input describes, and what the harness knows about it.
struct Case {
    std::int64_t now = 0;
    bool home_layout = false;
    pam_handle handle;
    fuzz::BuiltState built;
    std::string state_path;
    std::optional<std::string> before_bytes;  // alice's state file, if it was readable
    std::vector<std::string> arguments;       // the fuzzed module arguments
    std::string config_text;
    std::vector<std::string> typed;  // every answer and PAM_AUTHTOK, as the module sees them
    faults::Plan plan;
};

void choose_user(fuzz::Input& input, pam_handle& handle) {
    switch (input.byte() % 8) {
        case 0:
            handle.user = "bob";
            break;  // known, not enrolled
        case 1:
            handle.user = "nobody";
            break;  // unknown
        case 2:
            handle.user = input.text(40);
            break;
        case 3: {
            static const int kRcs[] = {PAM_CONV_AGAIN, PAM_SYSTEM_ERR, PAM_SUCCESS};
            handle.get_user_rc = kRcs[input.byte() % 3];
            if (handle.get_user_rc == PAM_SUCCESS && input.flag()) handle.user = "";
            break;
        }
        default:
            handle.user = "alice";
    }
}

// alice's state file: a valid record (with an older, empty or garbage other slot), a
// record with flipped bytes, raw bytes, or none. Returns whether a file was written.
bool plant_state(fuzz::Input& input, Case& c) {
    const std::uint8_t mode = input.byte();
    c.built = fuzz::build_state(input, c.now);
    std::string file;
    switch (mode % 8) {
        case 0:
        case 1:
        case 2: {
            const std::string current(totp::encode_slot(c.built.state, 5)->view());
            std::string other(totp::kSlotSize, '\n');
            if (mode & 8) {
                totp::UserState older = c.built.state.clone();
                older.failures = 0;
                other = std::string(totp::encode_slot(older, 4)->view());
            }
            if (mode & 16) other = input.long_text(totp::kSlotSize);
            other.resize(totp::kSlotSize, '\n');
            file = (mode & 32) ? other + current : current + other;
            break;
        }
        case 3:
            file = std::string(totp::encode_slot(c.built.state, 5)->view()) +
                   std::string(totp::encode_slot(c.built.state, 6)->view());
            for (int flips = input.byte() % 4; flips > 0; --flips) {
                file[static_cast<std::size_t>(input.number(0, totp::kStateFileSize - 1))] ^=
                    static_cast<char>(input.byte() | 1);
            }
            break;
        case 4:
            file = input.long_text(totp::kStateFileSize + 16);
            break;
        default:
            return false;  // not enrolled
    }
    fuzz::write_file(c.state_path, file, 0600);
    if (c.home_layout && chown(c.state_path.c_str(), kAliceUid, kAliceUid) != 0)
        fuzz::violated("chown state");
    return true;
}

// Something planted at the state path or done to its directory (or nothing).
void plant_attack(fuzz::Input& input, const Case& c, bool enrolled) {
    const World& w = world();
    const char* path = c.state_path.c_str();
    switch (input.byte() % 16) {
        case 0:
            if (enrolled) chmod(path, 0644);
            break;
        case 1:
            if (enrolled && chown(path, c.home_layout ? 0 : kAliceUid, 0) != 0)
                fuzz::violated("planting a wrong owner");
            break;
        case 2:
            if (enrolled) {
                const std::string target = w.root + "/elsewhere";
                remove_entry(target);
                if (rename(path, target.c_str()) != 0 || symlink(target.c_str(), path) != 0)
                    fuzz::violated("planting a symlink");
            }
            break;
        case 3:
            remove_entry(path);
            mkfifo(path, 0600);
            break;
        case 4:
            remove_entry(path);
            mkdir(path, 0700);
            break;
        case 5:
            if (enrolled) {
                remove_entry(w.root + "/hardlink");
                if (link(path, (w.root + "/hardlink").c_str()) != 0)
                    fuzz::violated("planting a hard link");
            }
            break;
        case 6:
            if (!c.home_layout) chmod(w.state_dir.c_str(), 0770);
            break;
        default:
            break;
    }
}

// Module arguments the input picks from (values after '=' come from the input too).
const char* const kOptions[] = {
    "nullok",         "debug",
    "forward_pass",   "try_first_pass",
    "use_first_pass", "window=",
    "max_failures=",  "lockout_seconds=",
    "prompt=",        "require_group=totp-users",
    "require_group=", "exempt_group=no2fa",
    "exempt_group=",  "digits=",
    "nullok=",        "window=0",
    "window=10",      "max_failures=1",
    "algorithm=",
};

// Arguments and config file; the harness keeps the store's kind and paths (and config=)
// to itself.
void choose_settings(fuzz::Input& input, Case& c) {
    for (int count = input.byte() % 6; count > 0; --count) {
        const std::uint8_t pick = input.byte();
        if (pick >= sizeof kOptions / sizeof kOptions[0]) {
            c.arguments.push_back(input.text(40));
            continue;
        }
        std::string option = kOptions[pick];
        if (option.ends_with('=')) option += input.text(12);
        c.arguments.push_back(option);
    }
    std::erase_if(c.arguments, [](const std::string& a) {
        return a.starts_with("config") || a.starts_with("state_dir") ||
               a.starts_with("secret_path") || a.starts_with("store");
    });
    c.config_text = input.flag() ? "[global]\n" + input.text(120) : "";
}

// A conversation answer (or PAM_AUTHTOK) is a C string: what follows a NUL is never seen.
std::string as_c_string(std::string text) {
    text.resize(std::strlen(text.c_str()));
    return text;
}

void choose_conversation(fuzz::Input& input, Case& c) {
    for (int count = input.byte() % 4; count > 0; --count) {
        if (input.byte() % 16 == 0) {
            c.handle.answers.emplace_back(std::nullopt);  // the conversation fails
            continue;
        }
        const bool with_password = input.byte() % 4 == 0;  // forward_pass style
        const std::string answer = fuzz::make_answer(input, c.built.state, c.now);
        c.typed.push_back(as_c_string(with_password ? "pw" + answer : answer));
        c.handle.answers.emplace_back(c.typed.back());
    }
    if (input.flag()) {
        c.typed.push_back(as_c_string(fuzz::make_answer(input, c.built.state, c.now)));
        c.handle.authtok = c.typed.back();
    }
    c.handle.rhost = input.text(24);
    if (input.byte() % 16 == 0) c.handle.set_item_rc = PAM_BUF_ERR;
}

int errno_choice(std::uint8_t byte) {
    static const int kErrors[] = {EIO,    ENOSPC, EROFS,  EACCES, EPERM,  ENOMEM,
                                  EDQUOT, EAGAIN, ENOENT, ELOOP,  EMFILE, EBADF};
    return kErrors[byte % (sizeof kErrors / sizeof kErrors[0])];
}

void choose_faults(fuzz::Input& input, Case& c) {
    c.plan.now = c.now;
    for (int count = input.byte() % 5; count > 0; --count) {
        faults::Fault fault;
        const std::uint8_t which = input.byte();
        fault.call = input.byte();
        if (which < faults::kWrappedCallCount * 8) {  // the n-th call of one function
            fault.only = faults::kWrappedCalls[which % faults::kWrappedCallCount];
            fault.call %= 4;
        }
        const std::uint8_t how = input.byte();
        fault.action = how % 4 == 0   ? faults::Action::interrupt
                       : how % 4 == 1 ? faults::Action::short_io
                                      : faults::Action::fail;
        fault.error = errno_choice(how >> 2);
        c.plan.faults.push_back(fault);
    }
}

Case make_case(fuzz::Input& input) {
    const World& w = world();
    Case c;
    const std::uint8_t setup = input.byte();
    c.home_layout = (setup & 1) != 0 && geteuid() == 0;
    c.now = (setup & 2) ? input.number(fuzz::kMinTime, fuzz::kMaxTime)
                        : 1'700'000'000 + input.number(-1000, 1000);
    choose_user(input, c.handle);

    c.state_path = c.home_layout ? w.home + "/.totp" : w.state_dir + "/alice";
    remove_entry(c.state_path);
    remove_entry(w.state_dir + "/bob");
    chmod(w.state_dir.c_str(), 0700);
    const bool enrolled = plant_state(input, c);
    plant_attack(input, c, enrolled);
    if (enrolled) c.before_bytes = read_file(c.state_path);

    choose_settings(input, c);
    fuzz::write_file(w.config, c.config_text, 0644);
    choose_conversation(input, c);
    choose_faults(input, c);
    return c;
}

int run(Case& c) {
    const World& w = world();
    std::vector<std::string> arguments = c.arguments;
    arguments.push_back("config=" + w.config);
    arguments.push_back("state_dir=" + w.state_dir);
    arguments.push_back(c.home_layout ? "secret_path=" + w.root + "/home/%u/.totp"
                                      : "secret_path=");
    arguments.push_back("store=files");  // never a database, whatever the config file says
    std::vector<const char*> argv;
    argv.reserve(arguments.size());
    for (const std::string& a : arguments) argv.push_back(a.c_str());

    // forward_pass only splits the answer; the next pam_totp line of the stack checks it.
    std::vector<const char*> check_argv;
    for (const char* a : argv) {
        if (std::string_view(a) != "forward_pass") check_argv.push_back(a);
    }

    faults::arm(c.plan);
    int rc = pam_sm_authenticate(&c.handle, 0, static_cast<int>(argv.size()), argv.data());
    if (check_argv.size() != argv.size()) {
        if (rc == PAM_SUCCESS) fuzz::violated("a forward_pass line returned PAM_SUCCESS");
        if (rc == PAM_IGNORE) {
            rc = pam_sm_authenticate(&c.handle, 0, static_cast<int>(check_argv.size()),
                                     check_argv.data());
        }
    }
    faults::disarm();
    fake_pam_end(&c.handle, rc);
    return rc;
}

void print_case(const Case& c, int rc, const std::string& hits) {
    std::fprintf(stderr, "user=%s now=%lld rc=%d faults=[%s]\n",
                 c.handle.user ? c.handle.user->c_str() : "(null)", static_cast<long long>(c.now),
                 rc, hits.c_str());
    for (const std::string& a : c.arguments) std::fprintf(stderr, "  argument: '%s'\n", a.c_str());
    for (const std::string& answer : c.typed)
        std::fprintf(stderr, "  typed: '%s'\n", answer.c_str());
    for (const std::string& line : c.handle.log) std::fprintf(stderr, "  log: %s\n", line.c_str());
}

// Log lines: one printable line each, never the secret or a code-like typed answer (unless
// the module was handed that text as an argument, user, rhost or one of the harness's own
// paths, which it may echo: "config /dev/shm/pam_totp_fuzz.12579/...: syntax error").
void check_log(const Case& c) {
    const World& w = world();
    const std::string secret(totp::base32_encode(one_token(c.built.state).secret.span()).view());
    std::string context = c.config_text + c.handle.rhost + "\n" + w.config + "\n" + w.state_dir +
                          "\n" + w.root + "/home/";
    for (const std::string& a : c.arguments) context += a;
    if (c.handle.user)
        context += "\n" + *c.handle.user + "\n" + w.root + "/home/" + *c.handle.user + "/.totp";
    for (const std::string& line : c.handle.log) {
        if (!printable_line(line)) fuzz::violated("log line with a control character", line);
        if (line.find(secret) != std::string::npos && context.find(secret) == std::string::npos)
            fuzz::violated("secret in the log");
        for (const std::string& answer : c.typed) {
            const bool letter = std::any_of(answer.begin(), answer.end(), [](char ch) {
                return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
            });
            const bool digit = std::any_of(answer.begin(), answer.end(),
                                           [](char ch) { return ch >= '0' && ch <= '9'; });
            if (answer.size() >= 8 && letter && digit && answer.find(' ') == std::string::npos &&
                context.find(answer) == std::string::npos && line.find(answer) != std::string::npos)
                fuzz::violated("typed answer in the log", line);
        }
    }
}

void check_state_file(const std::optional<totp::DecodedFile>& before,
                      const std::optional<totp::DecodedFile>& after, const Case& c,
                      const std::optional<std::string>& after_bytes, const std::string& hits) {
    if (!before) {
        if (c.before_bytes && after_bytes != c.before_bytes)
            fuzz::violated("an unreadable state file was modified", hits);
        return;
    }
    if (!after) fuzz::violated("a readable state file became unreadable", hits);
    if (after->sequence < before->sequence) fuzz::violated("state went back in time", hits);
    const totp::SecretBytes& old_secret = one_token(before->state).secret;
    if (one_token(after->state).secret.size() != old_secret.size() ||
        !std::equal(old_secret.data(), old_secret.data() + old_secret.size(),
                    one_token(after->state).secret.data()) ||
        one_token(after->state).params.digits != one_token(before->state).params.digits)
        fuzz::violated("secret or parameters changed", hits);
}

void check_success(const std::optional<totp::DecodedFile>& before,
                   const std::optional<totp::DecodedFile>& after, const Case& c,
                   const std::string& hits) {
    if (faults::report().write_failed)
        fuzz::violated("PAM_SUCCESS although a store write failed", hits);
    if (!before || !after || c.handle.user != std::optional<std::string>("alice"))
        fuzz::violated("PAM_SUCCESS without a readable enrollment", hits);
    bool any = false;
    for (const std::string& answer : c.typed) {
        // forward_pass: the code is the tail of what was typed.
        for (std::size_t tail : {answer.size(), std::size_t(one_token(before->state).params.digits),
                                 std::size_t(14)}) {
            if (tail <= answer.size() &&
                fuzz::acceptable(before->state, answer.substr(answer.size() - tail), c.now, 10))
                any = true;
        }
    }
    if (!any) fuzz::violated("PAM_SUCCESS for an answer the state does not accept", hits);
    const totp::UserState& b = before->state;
    const totp::UserState& a = after->state;
    const bool code_used =
        one_token(a).last_step &&
        (!one_token(b).last_step || *one_token(a).last_step > *one_token(b).last_step) &&
        a.recovery == b.recovery;
    const bool recovery_used = a.recovery.size() + 1 == b.recovery.size() &&
                               one_token(a).last_step == one_token(b).last_step;
    if (!(code_used || recovery_used) || a.failures != 0 || a.locked_until != 0)
        fuzz::violated("PAM_SUCCESS but the code was not consumed on disk", hits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    Case c = make_case(input);
    const std::optional<totp::DecodedFile> before = decode(c.before_bytes);

    const int rc = run(c);

    std::string hits;
    for (const auto& hit : faults::report().hits) hits += hit + " ";
    hits += "rc=" + std::to_string(rc);
    if (std::getenv("TOTP_FUZZ_VERBOSE") != nullptr) print_case(c, rc, hits);

    if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != geteuid() ||
        static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) != getegid())
        fuzz::violated("the module left the process with another filesystem identity", hits);
    for (int style : c.handle.prompt_styles) {
        if (style != PAM_PROMPT_ECHO_OFF) fuzz::violated("code prompt with echo on");
    }
    // What is left of the recovery codes is said only to a login the module let in.
    if (rc != PAM_SUCCESS && !c.handle.messages.empty()) {
        fuzz::violated("a message shown to a refused login",
                       c.handle.messages.front() + " " + hits);
    }
    check_log(c);
    const std::optional<std::string> after_bytes = read_file(c.state_path);
    const std::optional<totp::DecodedFile> after = decode(after_bytes);
    check_state_file(before, after, c, after_bytes, hits);
    if (rc == PAM_SUCCESS) check_success(before, after, c, hits);
    return 0;
}
