/* SPDX-License-Identifier: Apache-2.0 */
/* A store backend whose interface table is wrong, built once per fault: with
 * BAD_PLUGIN_WRONG_VERSION it claims the next interface version, with
 * BAD_PLUGIN_SHORT_TABLE its table ends before the last function, with
 * BAD_PLUGIN_PREVIOUS_TABLE it is the table as built before check_store was added (the
 * same interface version, one function shorter). Every function pointer
 * is NULL, so a loader that called into it anyway would crash the test. */
#include <stddef.h>

#include "totp/store_plugin.h"

static struct totp_store_plugin_v1 table;

const struct totp_store_plugin_v1* totp_store_plugin_entry(void) {
#if defined(BAD_PLUGIN_WRONG_VERSION)
    table.abi_version = TOTP_STORE_PLUGIN_ABI_VERSION + 1;
    table.struct_size = sizeof table;
#elif defined(BAD_PLUGIN_SHORT_TABLE)
    table.abi_version = TOTP_STORE_PLUGIN_ABI_VERSION;
    table.struct_size = offsetof(struct totp_store_plugin_v1, upgrade_schema);
#elif defined(BAD_PLUGIN_PREVIOUS_TABLE)
    table.abi_version = TOTP_STORE_PLUGIN_ABI_VERSION;
    table.struct_size = offsetof(struct totp_store_plugin_v1, check_store);
#else
#error "define BAD_PLUGIN_WRONG_VERSION, BAD_PLUGIN_SHORT_TABLE or BAD_PLUGIN_PREVIOUS_TABLE"
#endif
    return &table;
}
