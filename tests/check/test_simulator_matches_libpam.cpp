// SPDX-License-Identifier: Apache-2.0
// The simulator (check_tool/dispatch.hpp) against the real libpam: generated auth stacks of
// required / requisite / sufficient / optional / [value=action] lines, with include,
// substack and @include, each run through libpam under pam_wrapper for every combination
// of module results, and compared with the simulated result for that same combination.
//
// Debian's libpam opens included files as /etc/pam.d/NAME whatever directory pam_wrapper
// gives it, so the generated files are bound over /etc/pam.d in a private mount namespace
// (the host's files are never touched), and the simulator reads them there too.
#include <sched.h>
#include <security/pam_appl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "dispatch.hpp"
#include "pam_stack.hpp"

namespace {

using totp_check::Stack;

const std::vector<std::string> kControls = {
    "required",
    "requisite",
    "sufficient",
    "optional",
    "[success=1 default=ignore]",
    "[success=2 default=ignore]",
    "[success=done new_authtok_reqd=done default=die]",
    "[success=ok default=bad]",
    "[default=1 ignore=ignore success=ok]",
    "[success=ok ignore=reset default=bad]",
    "[auth_err=die success=done default=ignore]",
    "[success=ok ignore=ok default=bad]",
    "[success=done default=bad]",
    "[user_unknown=ignore success=ok default=die]",
};
// Modules libpam cannot load: not installed, a directory it does not search, a name that
// ends in a carriage return.
const std::vector<std::string> kUnloadable = {"pam_nonexistent.so", "/lib/security/pam_permit.so",
                                              "pam_permit.so\r"};
// The results each test module is made to return.
const std::vector<int> kResults = {PAM_SUCCESS, PAM_AUTH_ERR, PAM_IGNORE, PAM_USER_UNKNOWN,
                                   PAM_NEW_AUTHTOK_REQD};

struct Generator {
    std::mt19937 random{20261205};
    std::string dir;
    int slots = 0;

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); }

    std::string module_line() {
        const std::string control = kControls[pick(kControls.size())];
        switch (pick(8)) {
            case 0:
                return "auth " + control + " pam_permit.so\n";
            case 1:
                return "auth " + control + " pam_deny.so\n";
            case 2:  // libpam cannot load these: PAM_MODULE_UNKNOWN, "-" or not
                return std::string(pick(2) ? "-" : "") + "auth " + control + " " +
                       kUnloadable[pick(kUnloadable.size())] + "\n";
            default:
                return "auth " + control + " " + PAM_RESULT_MODULE +
                       " slot=" + std::to_string(slots++) + "\n";
        }
    }

    // A file of 1..max lines; `nest` > 0 allows include lines into new files.
    std::string file(const std::string& name, int max_lines, int nest) {
        std::string text;
        const int lines = 1 + pick(max_lines);
        for (int i = 0; i < lines; ++i) {
            const int kind = nest > 0 ? pick(8) : 0;
            const std::string sub = name + "_" + std::to_string(i);
            if (kind == 1 || kind == 2 || kind == 3) {
                write(sub, file(sub, 3, nest - 1));
                const char* how[] = {"auth include ", "auth substack ",
                                     pick(2) ? "@include " : "@INCLUDE "};
                text += std::string(how[kind - 1]) + sub + "\n";
            } else {
                text += module_line();
            }
        }
        return text;
    }

    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir + "/" + name) << text;
    }
};

// Shows the service file and the files it includes.
void print_files(const std::string& dir, const std::string& service) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename();
        if (name != service && !name.starts_with(service + "_")) continue;
        std::cout << "  --- " << name << "\n" << std::ifstream(entry.path()).rdbuf();
    }
}

int converse(int, const pam_message**, pam_response**, void*) {
    return PAM_CONV_ERR;
}

int libpam_result(const std::string& service) {
    const pam_conv conv{converse, nullptr};
    pam_handle_t* handle = nullptr;
    if (pam_start(service.c_str(), "alice", &conv, &handle) != PAM_SUCCESS) return -1;
    const int rc = pam_authenticate(handle, 0);
    pam_end(handle, rc);
    return rc;
}

int simulated_result(const Stack& stack, const std::vector<int>& results) {
    totp_check::DispatchState state;
    while (const auto at = totp_check::next_handler(stack, state)) {
        const totp_check::Handler& handler = stack.handlers[*at];
        int result = PAM_SYSTEM_ERR;
        if (handler.module == "pam_permit") result = PAM_SUCCESS;
        if (handler.module == "pam_deny") result = PAM_AUTH_ERR;
        for (const std::string& arg : handler.args)
            if (arg.starts_with("slot=")) result = results[std::stoi(arg.substr(5))];
        totp_check::apply_result(stack, state, totp_check::handler_result(handler, result));
    }
    return totp_check::final_result(state);
}

}  // namespace

int main() {
    char root_template[] = "/tmp/totp-check-libpam.XXXXXX";
    const char* root = mkdtemp(root_template);
    if (root == nullptr) return 2;
    const std::string dir = std::string(root) + "/etc/pam.d";
    mkdir((std::string(root) + "/etc").c_str(), 0755);
    mkdir(dir.c_str(), 0755);

    constexpr int kStacks = 160;
    constexpr int kMaxSlots = 5;  // 5^5 combinations at most per stack
    Generator generator{std::mt19937{20261205}, dir, 0};
    std::vector<int> slots_of;
    for (int i = 0; i < kStacks; ++i) {
        const std::string name = "s" + std::to_string(i);
        generator.slots = 0;
        std::string text = generator.file(name, 4, 2);
        while (generator.slots > kMaxSlots) {
            generator.slots = 0;
            text = generator.file(name, 4, 2);
        }
        generator.write(name, text);
        slots_of.push_back(generator.slots);
    }
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount(dir.c_str(), "/etc/pam.d", nullptr, MS_BIND, nullptr) != 0) {
        std::printf("SKIP: needs root for a private mount namespace over /etc/pam.d\n");
        std::filesystem::remove_all(root);
        return 77;
    }
    // pam_wrapper copies the service directory when libpam is first used.
    setenv("PAM_WRAPPER_SERVICE_DIR", dir.c_str(), 1);

    const totp_check::PamConfigDir pam_dir("/");
    long runs = 0;
    int mismatches = 0;
    for (int i = 0; i < kStacks; ++i) {
        const std::string service = "s" + std::to_string(i);
        const Stack stack = totp_check::load_auth_stack(pam_dir, service);
        std::vector<int> choice(slots_of[i], 0);
        while (true) {
            std::vector<int> results;
            for (int slot = 0; slot < slots_of[i]; ++slot) {
                results.push_back(kResults[choice[slot]]);
                setenv(("TOTP_CHECK_RESULT_" + std::to_string(slot)).c_str(),
                       std::to_string(kResults[choice[slot]]).c_str(), 1);
            }
            const int real = libpam_result(service);
            const int simulated = simulated_result(stack, results);
            ++runs;
            if (real != simulated && ++mismatches <= 10) {
                std::printf("MISMATCH %s: libpam %d, simulated %d; results:", service.c_str(), real,
                            simulated);
                for (const int r : results) std::printf(" %d", r);
                std::printf("\n");
                print_files(dir, service);
            }
            int slot = 0;
            while (slot < slots_of[i] && ++choice[slot] == static_cast<int>(kResults.size()))
                choice[slot++] = 0;
            if (slot == slots_of[i]) break;
        }
    }
    std::printf("%ld runs of %d stacks, %d mismatches\n", runs, kStacks, mismatches);
    std::filesystem::remove_all(root);
    return mismatches == 0 && runs > 0 ? 0 : 1;
}
