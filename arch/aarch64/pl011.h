/* PL011 UART: the console. */
#ifndef CAMOS_AARCH64_PL011_H
#define CAMOS_AARCH64_PL011_H
#include <stdbool.h>
/* `registers`: the UART mapped Device-nGnRnE. `interrupts`: enable the
 * receive interrupts (false: the timer tick polls). */
void pl011_init(void *registers, bool interrupts);
bool pl011_has_input(void);
#endif
