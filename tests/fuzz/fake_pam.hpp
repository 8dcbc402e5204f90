// SPDX-License-Identifier: Apache-2.0
// Just enough of libpam for pam_sm_authenticate to run inside a fuzzer or a test: the
// handle holds the user, scripted conversation answers and items, and collects the
// prompts and syslog lines the module produced.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

struct pam_handle;
using fake_pam_cleanup = void (*)(pam_handle* pamh, void* data, int error_status);

struct pam_handle {
    int get_user_rc = 0;                              // PAM_SUCCESS
    std::optional<std::string> user;                  // nullopt: pam_get_user hands back NULL
    std::vector<std::optional<std::string>> answers;  // nullopt: the conversation fails
    std::size_t next_answer = 0;
    std::optional<std::string> authtok;
    std::string service = "fuzz";
    std::string rhost;
    int set_item_rc = 0;
    // pam_set_data entries; the owner of the handle calls fake_pam_end() to release them.
    std::map<std::string, std::pair<void*, fake_pam_cleanup>> data;

    std::vector<std::string> prompts;
    std::vector<int> prompt_styles;
    std::vector<std::string> messages;  // PAM_TEXT_INFO and PAM_ERROR_MSG: no answer taken
    std::vector<std::string> log;
    std::vector<int> log_priorities;
};

// Runs the cleanup of every pam_set_data entry, as pam_end() does.
void fake_pam_end(pam_handle* pamh, int status);
