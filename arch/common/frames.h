/*
 * Where the trampoline gets physical frames: a small pool inside the kernel
 * image for early boot (before the kernel's allocator exists, and for the
 * page tables of the kernel's own linear memory), then the kernel's own
 * allocator (kernel/frames.ts) through the kernel_frame_alloc export.
 */
#ifndef CAMOS_FRAMES_H
#define CAMOS_FRAMES_H

#include <stdint.h>

/* A zeroed 4 KiB frame's physical address, or 0 when there is none. */
uint64_t frame_take(void);

/* Frames handed out from the early pool so far, and its size. */
uint64_t frames_early_used(void);
uint64_t frames_early_total(void);

#endif
