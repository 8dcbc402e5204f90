// SPDX-License-Identifier: Apache-2.0
// CMocka for the reset service's unit tests. Last among the includes: it needs these C
// headers first, its fail() macro would break <ios>, and 1.1.5 declares its functions
// without extern "C".
#pragma once
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on
