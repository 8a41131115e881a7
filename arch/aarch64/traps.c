/*
 * Exceptions at EL1, and the report for what stops the machine.
 *
 * At EL1 the only expected exception is an IRQ in the idle loop: it goes to
 * the GIC (gic.c) and from there into the kernel; when the kernel names a
 * thread, the idle loop is left behind for it (user_resume). Everything else
 * at EL1 is reported on the console and stops the machine (a synchronous
 * exception in the kernel is a kernel bug, or a wasm trap). Entries from
 * EL0 are user.c's; the few that are the machine's, not the thread's (FIQ,
 * SError, AArch32), come back here for the same report.
 *
 * A data abort inside the unmapped tail of a wasm linear memory is how
 * wasm2c's guard-page mode reports an out-of-bounds access: it becomes the
 * same readable "wasm trap" panic as on x86_64.
 */
#include "traps.h"

#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "../wasm-rt/rt.h"
#include "aarch64.h"
#include "gic.h"
#include "smp.h"
#include "user.h"

#define VECTOR_TYPE_IRQ 1u
#define ESR_EC_SHIFT 26
#define ESR_ISS_MASK 0x1FFFFFFu
#define EC_DATA_ABORT_LOWER 0x24u
#define EC_DATA_ABORT_SAME 0x25u
#define ISS_FNV (1u << 10) /* FAR not valid */

static const char *const vector_kinds[4] = {"synchronous", "IRQ", "FIQ", "SError"};
static const char *const vector_origins[4] = {"EL1 on SP_EL0", "EL1", "EL0 (AArch64)", "EL0 (AArch32)"};

static const char *exception_class_name(uint32_t ec) {
  switch (ec) {
  case 0x00: return "unknown reason (undefined instruction)";
  case 0x01: return "trapped WFI/WFE";
  case 0x07: return "FP/SIMD access trapped";
  case 0x0E: return "illegal execution state";
  case 0x15: return "SVC";
  case 0x16: return "HVC";
  case 0x17: return "SMC";
  case 0x18: return "trapped system register access";
  case 0x20: return "instruction abort from a lower EL";
  case 0x21: return "instruction abort";
  case 0x22: return "PC alignment fault";
  case 0x24: return "data abort from a lower EL";
  case 0x25: return "data abort";
  case 0x26: return "SP alignment fault";
  case 0x2C: return "floating-point exception";
  case 0x2F: return "SError";
  case 0x30: case 0x31: return "breakpoint";
  case 0x32: case 0x33: return "software step";
  case 0x34: case 0x35: return "watchpoint";
  case 0x3C: return "BRK instruction";
  default: return "reserved exception class";
  }
}

/* The other CPUs are stopped first, so reports do not interleave; a CPU
 * that finds the machine already stopping by another stays quiet. */
static __attribute__((noreturn)) void exception_report(const struct trap_frame *f, uint64_t vector) {
  if (!smp_stop_others()) smp_halt_here();
  uint32_t ec = (uint32_t)(f->esr >> ESR_EC_SHIFT) & 0x3F;
  uint32_t iss = (uint32_t)f->esr & ESR_ISS_MASK;
  const char *kind = vector_kinds[vector & 3];
  bool sync = (vector & 3) == 0;
  if (sync && (ec == EC_DATA_ABORT_SAME || ec == EC_DATA_ABORT_LOWER) && !(iss & ISS_FNV) &&
      rt_fault_is_memory_guard(f->far)) {
    panic("wasm trap: out-of-bounds memory access (address %p, native pc %p)", (void *)f->far, (void *)f->elr);
  }
  const char *what = sync ? exception_class_name(ec) : kind;
  kprintf("\n*** CPU EXCEPTION: %s (%s exception from %s, CPU %u)\n", what, kind, vector_origins[(vector >> 2) & 3],
          arch_cpu_id());
  kprintf("    ESR %016lx (EC 0x%02x, ISS 0x%07x)  ELR %016lx  FAR %016lx\n", f->esr, ec, iss, f->elr, f->far);
  uint64_t sp = (vector >> 2) >= 2 ? READ_SYSREG(sp_el0) : (uint64_t)(uintptr_t)(f + 1);
  kprintf("    SPSR %016lx  SP %016lx\n", f->spsr, sp);
  for (int i = 0; i < 31; i += 4) {
    kprintf("   ");
    for (int j = i; j < i + 4 && j < 31; j++) kprintf(" x%02d %016lx", j, f->x[j]);
    kprintf("\n");
  }
  panic("CPU exception: %s at pc %p (ESR %lx, FAR %lx)", what, (void *)f->elr, f->esr, f->far);
}

void aarch64_trap(struct trap_frame *frame, uint64_t vector) {
  /* IRQs from EL1 with SP_ELx: only the idle loop takes them. */
  if ((vector & 3) == VECTOR_TYPE_IRQ && (vector >> 2) == 1) {
    uint32_t next = gic_handle_irq(0);
    if (next != 0) user_resume(next); /* leaves the idle loop behind */
    return;
  }
  exception_report(frame, vector);
}

void traps_report_user(const struct thread_context *context, uint64_t vector) {
  struct trap_frame frame;
  for (int i = 0; i < 31; i++) frame.x[i] = context->x[i];
  frame.elr = context->elr;
  frame.spsr = context->spsr;
  frame.esr = READ_SYSREG(esr_el1);
  frame.far = READ_SYSREG(far_el1);
  frame.vector = vector;
  frame.pad = 0;
  exception_report(&frame, vector);
}
