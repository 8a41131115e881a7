/* User address spaces on AArch64; user threads are not implemented yet. */
#ifndef CAMOS_AARCH64_USER_H
#define CAMOS_AARCH64_USER_H
#include <stdint.h>
/* Checks the thread a kernel entry named to run next: 0 (idle) is fine,
 * anything else stops the machine with a message. */
void user_check_next(uint32_t tid);
#endif
