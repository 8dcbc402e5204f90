// pam_sm_authenticate itself, with fuzzed module arguments, config file, user, state file,
// conversation answers and PAM_AUTHTOK, at a fuzzed time, while the system calls it makes
// (open, read, write, fsync, link, flock, getpwnam_r, RAND_bytes ...) fail where the input
// says (faults.hpp). Properties, beyond "no crash, no leak":
//   - PAM_SUCCESS only for an answer the state accepted at that time, never after a failed
//     store write, and then the code or recovery code is consumed on disk;
//   - a state file that decoded before still decodes after, with the same secret;
//   - prompts are echo-off; log lines are single printable lines without the secret or a
//     typed recovery code.
#include <iniparser.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <fcntl.h>
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
#include <vector>

#include "fake_pam.hpp"
#include "faults.hpp"
#include "fuzz_input.hpp"
#include "sandbox.hpp"
#include "state_builder.hpp"
#include "totp/base32.hpp"
#include "totp/otp.hpp"
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
        faults::set_accounts(
            {{"alice", kAliceUid, kAliceUid, made.home, {2000}},
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
        while ((got = read(fd, buffer, sizeof buffer)) > 0) content->append(buffer, static_cast<std::size_t>(got));
    }
    close(fd);
    return content;
}

void remove_entry(const std::string& path) {
    if (unlink(path.c_str()) != 0) rmdir(path.c_str());
}

// Module arguments the input picks from (values after '=' come from the input too).
const char* const kOptions[] = {
    "nullok", "debug", "forward_pass", "try_first_pass", "use_first_pass", "window=",
    "max_failures=", "lockout_seconds=", "prompt=", "require_group=totp-users",
    "require_group=", "exempt_group=no2fa", "exempt_group=", "digits=", "nullok=", "window=0",
    "window=10", "max_failures=1", "algorithm=",
};

bool printable_line(const std::string& text) {
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) return false;
    }
    return true;
}

int errno_choice(std::uint8_t byte) {
    static const int kErrors[] = {EIO, ENOSPC, EROFS, EACCES, EPERM, ENOMEM, EDQUOT,
                                  EAGAIN, ENOENT, ELOOP, EMFILE, EBADF};
    return kErrors[byte % (sizeof kErrors / sizeof kErrors[0])];
}

int quiet(const char*, ...) { return 0; }

}  // namespace

// iniparser reports syntax errors on stderr by default; millions of them slow the fuzzer.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    iniparser_set_error_callback(quiet);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const World& w = world();
    fuzz::Input input(data, size);

    const std::uint8_t setup = input.byte();
    const bool home_layout = (setup & 1) != 0 && geteuid() == 0;
    const std::int64_t now = (setup & 2) ? input.number(fuzz::kMinTime, fuzz::kMaxTime)
                                         : 1'700'000'000 + input.number(-1000, 1000);

    // Who is logging in.
    pam_handle handle;
    switch (input.byte() % 8) {
        case 0: handle.user = "bob"; break;       // known, not enrolled
        case 1: handle.user = "nobody"; break;    // unknown
        case 2: handle.user = input.text(40); break;
        case 3: {
            static const int kRcs[] = {PAM_CONV_AGAIN, PAM_SYSTEM_ERR, PAM_SUCCESS};
            handle.get_user_rc = kRcs[input.byte() % 3];
            if (handle.get_user_rc == PAM_SUCCESS && input.flag()) handle.user = "";
            break;
        }
        default: handle.user = "alice";
    }

    // alice's state.
    const std::string state_path = home_layout ? w.home + "/.totp" : w.state_dir + "/alice";
    remove_entry(state_path);
    remove_entry(w.state_dir + "/bob");
    chmod(w.state_dir.c_str(), 0700);
    const std::uint8_t state_mode = input.byte();
    fuzz::BuiltState built = fuzz::build_state(input, now);
    std::string file;
    switch (state_mode % 8) {
        case 0: case 1: case 2: {
            totp::Result<totp::SecretString> slot = totp::encode_slot(built.state, 5);
            file = std::string(slot->view());
            // The other slot: empty, an older record, or garbage.
            std::string other(totp::kSlotSize, '\n');
            if (state_mode & 8) {
                totp::UserState older = built.state.clone();
                older.failures = 0;
                other = std::string(totp::encode_slot(older, 4)->view());
            }
            if (state_mode & 16) other = input.long_text(totp::kSlotSize);
            other.resize(totp::kSlotSize, '\n');
            file = (state_mode & 32) ? other + file : file + other;
            break;
        }
        case 3: {  // a few bytes flipped
            file = std::string(totp::encode_slot(built.state, 5)->view()) +
                   std::string(totp::encode_slot(built.state, 6)->view());
            for (int flips = input.byte() % 4; flips > 0; --flips) {
                file[static_cast<std::size_t>(input.number(0, totp::kStateFileSize - 1))] ^=
                    static_cast<char>(input.byte() | 1);
            }
            break;
        }
        case 4:
            file = input.long_text(totp::kStateFileSize + 16);
            break;
        default:
            break;  // not enrolled
    }
    const bool enrolled = state_mode % 8 <= 4;
    if (enrolled) {
        fuzz::write_file(state_path, file, 0600);
        if (home_layout && chown(state_path.c_str(), kAliceUid, kAliceUid) != 0)
            fuzz::violated("chown state");
    }
    // Filesystem attacks on the state path and directory.
    switch (input.byte() % 16) {
        case 0:
            if (enrolled) chmod(state_path.c_str(), 0644);
            break;
        case 1:
            if (enrolled && chown(state_path.c_str(), home_layout ? 0 : kAliceUid, 0) != 0) return 0;
            break;
        case 2:
            if (enrolled) {
                const std::string target = w.root + "/elsewhere";
                remove_entry(target);
                if (rename(state_path.c_str(), target.c_str()) != 0 ||
                    symlink(target.c_str(), state_path.c_str()) != 0)
                    fuzz::violated("planting a symlink");
            }
            break;
        case 3:
            remove_entry(state_path);
            mkfifo(state_path.c_str(), 0600);
            break;
        case 4:
            remove_entry(state_path);
            mkdir(state_path.c_str(), 0700);
            break;
        case 5:
            if (enrolled) {
                remove_entry(w.root + "/hardlink");
                if (link(state_path.c_str(), (w.root + "/hardlink").c_str()) != 0)
                    fuzz::violated("planting a hard link");
            }
            break;
        case 6:
            if (!home_layout) chmod(w.state_dir.c_str(), 0770);
            break;
        default:
            break;
    }
    const std::optional<std::string> before_bytes = enrolled ? read_file(state_path) : std::nullopt;
    std::optional<totp::DecodedFile> before;
    if (before_bytes) {
        if (totp::Result<totp::DecodedFile> decoded = totp::decode_file(*before_bytes)) {
            before = std::move(*decoded);
        }
    }

    // Module arguments and config file.
    std::vector<std::string> arguments;
    for (int count = input.byte() % 6; count > 0; --count) {
        const std::uint8_t pick = input.byte();
        if (pick >= sizeof kOptions / sizeof kOptions[0]) {
            arguments.push_back(input.text(40));
            continue;
        }
        std::string option = kOptions[pick];
        if (option.ends_with('=')) option += input.text(12);
        arguments.push_back(option);
    }
    std::erase_if(arguments, [](const std::string& a) {
        return a.starts_with("config") || a.starts_with("state_dir") || a.starts_with("secret_path");
    });
    const std::string config_text = input.flag() ? "[global]\n" + input.text(120) : "";
    fuzz::write_file(w.config, config_text, 0644);
    std::vector<std::string> all_arguments = arguments;
    all_arguments.push_back("config=" + w.config);
    all_arguments.push_back("state_dir=" + w.state_dir);
    all_arguments.push_back(home_layout ? "secret_path=" + w.root + "/home/%u/.totp" : "secret_path=");
    std::vector<const char*> argv;
    for (const std::string& a : all_arguments) argv.push_back(a.c_str());

    // The conversation and PAM_AUTHTOK.
    std::vector<std::string> typed;
    for (int count = input.byte() % 4; count > 0; --count) {
        if (input.byte() % 16 == 0) {
            handle.answers.push_back(std::nullopt);
            continue;
        }
        const bool with_password = input.byte() % 4 == 0;  // forward_pass style
        std::string answer = fuzz::make_answer(input, built.state, now);
        if (with_password) answer = "pw" + answer;
        answer.resize(std::strlen(answer.c_str()));  // a conversation answer is a C string
        handle.answers.push_back(answer);
        typed.push_back(answer);
    }
    if (input.flag()) {
        std::string token = fuzz::make_answer(input, built.state, now);
        token.resize(std::strlen(token.c_str()));
        handle.authtok = token;
        typed.push_back(*handle.authtok);
    }
    handle.rhost = input.text(24);
    if (input.byte() % 16 == 0) handle.set_item_rc = PAM_BUF_ERR;

    // Faults.
    faults::Plan plan;
    plan.now = now;
    for (int count = input.byte() % 5; count > 0; --count) {
        faults::Fault fault;
        const std::uint8_t which = input.byte();
        fault.call = input.byte();
        if (which < faults::kWrappedCallCount * 8) {  // the n-th call of one function
            fault.only = faults::kWrappedCalls[which % faults::kWrappedCallCount];
            fault.call %= 4;
        }
        const std::uint8_t how = input.byte();
        fault.action = how % 4 == 0 ? faults::Action::interrupt
                       : how % 4 == 1 ? faults::Action::short_io
                                      : faults::Action::fail;
        fault.error = errno_choice(how >> 2);
        plan.faults.push_back(fault);
    }

    faults::arm(plan);
    const int rc = pam_sm_authenticate(&handle, 0, static_cast<int>(argv.size()), argv.data());
    faults::disarm();
    const faults::Report& report = faults::report();

    const std::string hits = [&] {
        std::string text;
        for (const auto& hit : report.hits) text += hit + " ";
        return text + "rc=" + std::to_string(rc);
    }();

    if (std::getenv("TOTP_FUZZ_VERBOSE") != nullptr) {
        std::fprintf(stderr, "user=%s rc=%d faults=[%s] prompts=%zu\n",
                     handle.user ? handle.user->c_str() : "(null)", rc, hits.c_str(),
                     handle.prompts.size());
        for (const std::string& line : handle.log) std::fprintf(stderr, "  log: %s\n", line.c_str());
        for (const std::string& answer : typed)
            std::fprintf(stderr, "  typed: '%s' acceptable(w=1)=%d acceptable(w=10)=%d\n", answer.c_str(),
                         before ? int(fuzz::acceptable(before->state, answer, now, 1)) : -1,
                         before ? int(fuzz::acceptable(before->state, answer, now, 10)) : -1);
        for (const std::string& a : arguments) std::fprintf(stderr, "  argument: '%s'\n", a.c_str());
        if (before) {
            std::fprintf(stderr, "  now=%lld step=%llu digits=%d period=%d last_step=%s locked_until=%lld\n",
                         static_cast<long long>(now),
                         static_cast<unsigned long long>(totp::time_step(now, before->state.params.period)),
                         before->state.params.digits, before->state.params.period,
                         before->state.last_step ? std::to_string(*before->state.last_step).c_str() : "none",
                         static_cast<long long>(before->state.locked_until));
            for (int offset = -2; offset <= 2; ++offset)
                std::fprintf(stderr, "  code at %+d: %s (built: %s)\n", offset,
                             fuzz::code_for(before->state, now, offset).c_str(),
                             fuzz::code_for(built.state, now, offset).c_str());
        }
    }

    // --- Properties -----------------------------------------------------------------
    if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != geteuid() ||
        static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) != getegid())
        fuzz::violated("the module left the process with another filesystem identity", hits);
    for (int style : handle.prompt_styles) {
        if (style != PAM_PROMPT_ECHO_OFF) fuzz::violated("code prompt with echo on");
    }
    const std::string secret_text(totp::base32_encode(built.state.secret.span()).view());
    std::string context = config_text + handle.rhost;  // what the module may legitimately echo
    for (const std::string& a : arguments) context += a;
    if (handle.user) context += *handle.user;
    for (const std::string& line : handle.log) {
        if (!printable_line(line)) fuzz::violated("log line with a control character", line);
        if (line.find(secret_text) != std::string::npos && context.find(secret_text) == std::string::npos)
            fuzz::violated("secret in the log");
        for (const std::string& answer : typed) {
            // Something that looks like a code or password (letters and digits, no spaces)
            // and is not text the module may legitimately echo (arguments, user, rhost).
            const bool letter = std::any_of(answer.begin(), answer.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
            });
            const bool digit = std::any_of(answer.begin(), answer.end(),
                                           [](char c) { return c >= '0' && c <= '9'; });
            if (answer.size() >= 8 && letter && digit && answer.find(' ') == std::string::npos &&
                context.find(answer) == std::string::npos && line.find(answer) != std::string::npos)
                fuzz::violated("typed answer in the log", line);
        }
    }

    const std::optional<std::string> after_bytes = read_file(state_path);
    std::optional<totp::DecodedFile> after;
    if (after_bytes) {
        if (totp::Result<totp::DecodedFile> decoded = totp::decode_file(*after_bytes)) {
            after = std::move(*decoded);
        }
    }
    if (before) {
        if (!after) fuzz::violated("a readable state file became unreadable", hits);
        if (after->sequence < before->sequence) fuzz::violated("state went back in time", hits);
        if (after->state.secret.size() != before->state.secret.size() ||
            !std::equal(before->state.secret.data(),
                        before->state.secret.data() + before->state.secret.size(),
                        after->state.secret.data()) ||
            after->state.params.digits != before->state.params.digits)
            fuzz::violated("secret or parameters changed", hits);
    } else if (before_bytes && after_bytes != before_bytes) {
        fuzz::violated("an unreadable state file was modified", hits);
    }

    if (rc == PAM_SUCCESS) {
        if (report.write_failed) fuzz::violated("PAM_SUCCESS although a store write failed", hits);
        if (!before || handle.user != std::optional<std::string>("alice"))
            fuzz::violated("PAM_SUCCESS without a readable enrollment", hits);
        bool any = false;
        for (const std::string& answer : typed) {
            // forward_pass: the code is the tail of what was typed.
            for (std::size_t tail : {answer.size(), std::size_t(before->state.params.digits), std::size_t(14)}) {
                if (tail <= answer.size() &&
                    fuzz::acceptable(before->state, answer.substr(answer.size() - tail), now, 10))
                    any = true;
            }
        }
        if (!any) fuzz::violated("PAM_SUCCESS for an answer the state does not accept", hits);
        const totp::UserState& b = before->state;
        const totp::UserState& a = after->state;
        const bool code_used = a.last_step && (!b.last_step || *a.last_step > *b.last_step) &&
                               a.recovery == b.recovery;
        const bool recovery_used = a.recovery.size() + 1 == b.recovery.size() && a.last_step == b.last_step;
        if (!(code_used || recovery_used) || a.failures != 0 || a.locked_until != 0)
            fuzz::violated("PAM_SUCCESS but the code was not consumed on disk", hits);
    }
    return 0;
}
