/*
 * GDT, TSS and IDT, SSE enabling, and the trap dispatcher: the timer and
 * the inter-processor interrupts enter the kernel; every CPU exception is
 * reported on the serial console and stops the machine (a fault in kernel
 * mode is a kernel bug). Each CPU has its own GDT (its TSS descriptor, the
 * same selector everywhere), TSS and emergency stack; the IDT is shared.
 */
#include "cpu.h"

#include "../common/arch.h"
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "../wasm-rt/rt.h"
#include "apic.h"
#include "smp.h"
#include "user.h"
#include "x86.h"

/*
 * GDT layout (SYSCALL/SYSRET want user data just below user code):
 *   0x00 null  0x08 kernel code  0x10 kernel data  0x18 user data
 *   0x20 user code  0x28 TSS (two slots)
 */
#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS 0x28
#define GDT_ENTRIES 7

#define IDT_INTERRUPT_GATE 0x8E
#define IST_EMERGENCY 1 /* double fault and NMI run on their own stack */
#define EMERGENCY_STACK_BYTES 16384

#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)

struct __attribute__((packed)) tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
};

struct __attribute__((packed)) idt_gate {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attributes;
  uint16_t offset_mid;
  uint32_t offset_high;
  uint32_t reserved;
};

struct __attribute__((packed)) descriptor_pointer {
  uint16_t limit;
  uint64_t base;
};

static const uint64_t gdt_template[GDT_ENTRIES] = {
    0,
    0x00AF9A000000FFFFull, /* kernel code: long mode, DPL 0 */
    0x00CF92000000FFFFull, /* kernel data */
    0x00CFF2000000FFFFull, /* user data, DPL 3 */
    0x00AFFA000000FFFFull, /* user code: long mode, DPL 3 */
    0, 0,                  /* TSS, filled in at run time */
};
static uint64_t gdt[ARCH_MAX_CPUS][GDT_ENTRIES];
static struct tss tss[ARCH_MAX_CPUS];
static uint8_t emergency_stack[ARCH_MAX_CPUS][EMERGENCY_STACK_BYTES] __attribute__((aligned(16)));
static struct idt_gate idt[256];

extern const uint64_t trap_stub_table[];

static const char *const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range exceeded",
    "invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
    "invalid TSS", "segment not present", "stack-segment fault", "general protection fault",
    "page fault", "reserved", "x87 floating-point error", "alignment check", "machine check",
    "SIMD floating-point error", "virtualization exception", "control protection exception",
    "reserved", "reserved", "reserved", "reserved", "reserved", "reserved",
    "hypervisor injection", "VMM communication", "security exception", "reserved",
};

/* CPU `cpu`'s GDT and TSS; interrupts from user mode land on
 * `kernel_stack_top`. */
static void gdt_load(uint32_t cpu, uint64_t kernel_stack_top) {
  uint64_t *table = gdt[cpu];
  struct tss *task = &tss[cpu];
  for (unsigned i = 0; i < GDT_ENTRIES; i++) table[i] = gdt_template[i];
  uint64_t base = (uint64_t)(uintptr_t)task;
  uint64_t limit = sizeof *task - 1;
  table[5] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xF) << 48) |
             (((base >> 24) & 0xFF) << 56);
  table[6] = base >> 32;
  task->rsp[0] = kernel_stack_top;
  task->ist[IST_EMERGENCY - 1] = (uint64_t)(uintptr_t)(emergency_stack[cpu] + EMERGENCY_STACK_BYTES);
  task->iomap_base = sizeof *task;

  struct descriptor_pointer pointer = {sizeof gdt[cpu] - 1, (uint64_t)(uintptr_t)table};
  __asm__ volatile(
      "lgdt %0\n"
      "pushq %1\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      "movw %w2, %%ax\n"
      "movw %%ax, %%ds\n"
      "movw %%ax, %%es\n"
      "movw %%ax, %%ss\n"
      "ltr %w3\n"
      :
      : "m"(pointer), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS)
      : "rax", "memory");
}

static void idt_set(unsigned vector, uint64_t handler, uint8_t ist) {
  idt[vector] = (struct idt_gate){
      .offset_low = handler & 0xFFFF,
      .selector = GDT_KERNEL_CODE,
      .ist = ist,
      .type_attributes = IDT_INTERRUPT_GATE,
      .offset_mid = (handler >> 16) & 0xFFFF,
      .offset_high = handler >> 32,
  };
}

/* traps.S has a stub for vectors 0..LAST_STUB_VECTOR, then the spurious one. */
static void idt_fill(void) {
  for (unsigned v = 0; v <= LAST_STUB_VECTOR; v++) {
    uint8_t ist = (v == 2 || v == 8) ? IST_EMERGENCY : 0;
    idt_set(v, trap_stub_table[v], ist);
  }
  idt_set(SPURIOUS_VECTOR, trap_stub_table[LAST_STUB_VECTOR + 1], 0);
}

static void idt_load(void) {
  struct descriptor_pointer pointer = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
  __asm__ volatile("lidt %0" ::"m"(pointer));
}

/* wasm2c output uses SSE for floating point. */
static void sse_enable(void) {
  write_cr0((read_cr0() & ~(uint64_t)CR0_EM) | CR0_MP);
  write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

/* SSE first: the compiler may use it for any copy, gdt_load's included.
 * The boot CPU fills the shared IDT before any AP starts. */
void cpu_init(uint32_t cpu, uint64_t kernel_stack_top) {
  sse_enable();
  gdt_load(cpu, kernel_stack_top);
  if (cpu == 0) idt_fill();
  idt_load();
}

/* The first CPU to report stops the others; a second one stays quiet. */
static __attribute__((noreturn)) void exception_report(struct trap_frame *f) {
  if (!smp_stop_others()) cpu_halt();
  uint64_t cr2 = read_cr2();
  if (f->vector == 14 && rt_fault_is_memory_guard(cr2)) {
    panic("wasm trap: out-of-bounds memory access (address %p, native pc %p)", (void *)cr2, (void *)f->rip);
  }
  kprintf("\n*** CPU EXCEPTION %lu: %s (CPU %u)\n", f->vector, exception_names[f->vector & 31], smp_cpu_for_report());
  kprintf("    rip %016lx  error %016lx  cr2 %016lx\n", f->rip, f->error, cr2);
  kprintf("    rsp %016lx  rflags %016lx  cs %lx\n", f->rsp, f->rflags, f->cs);
  kprintf("    rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
  kprintf("    rsi %016lx  rdi %016lx  rbp %016lx\n", f->rsi, f->rdi, f->rbp);
  panic("CPU exception %lu (%s) at rip %p", f->vector, exception_names[f->vector & 31], (void *)f->rip);
}

static uint32_t fault_kind(uint64_t vector) {
  switch (vector) {
  case 14: return FAULT_PAGE;
  case 10: case 11: case 12: case 13: return FAULT_PROTECTION;
  case 6: return FAULT_ILLEGAL;
  case 0: case 16: case 19: return FAULT_ARITHMETIC;
  case 17: return FAULT_ALIGNMENT;
  case 1: case 3: return FAULT_BREAKPOINT;
  default: return FAULT_OTHER;
  }
}

/* An interrupt: the thread to run next. `interrupted` is the thread this
 * CPU was running (0: the idle loop), which goes on when the kernel was not
 * entered. */
static uint32_t interrupt(uint64_t vector, uint32_t interrupted) {
  switch (vector) {
  case TIMER_VECTOR: return apic_timer_interrupt();
  case KICK_VECTOR: return smp_kick_interrupt();
  case SHOOTDOWN_VECTOR: smp_shootdown_interrupt(); return interrupted;
  case WAKE_VECTOR: apic_eoi(); return interrupted; /* the nap it ends is over */
  default: return interrupted; /* spurious: no EOI */
  }
}

/* From user mode the thread's state goes into its context, the kernel
 * decides, and the CPU goes on with whichever thread it names. In kernel
 * mode only the idle loop and a nap for the big lock take interrupts (every
 * entry runs with them off); any exception there is a kernel bug. */
void x86_trap(struct trap_frame *frame) {
  /* Before anything that reads %gs: an NMI can land where GS is the user's. */
  if (frame->vector == 2 && smp_stopping()) cpu_halt(); /* another CPU is reporting */
  bool from_user = (frame->cs & 3) == 3;
  uint32_t interrupted = 0;
  if (from_user) {
    user_save_frame(frame);
    interrupted = user_current_tid();
  }
  if (!from_user && frame->vector >= TIMER_VECTOR && smp_nap_interrupt(frame->vector)) return;
  uint32_t next;
  if (frame->vector >= TIMER_VECTOR) {
    next = interrupt(frame->vector, interrupted);
  } else if (!from_user || frame->vector == 2 || frame->vector == 8 || frame->vector == 18) {
    exception_report(frame); /* NMI, double fault, machine check: the machine, not the thread */
  } else {
    uint64_t address = frame->vector == 14 ? read_cr2() : frame->rip;
    next = kernel_enter_fault(interrupted, fault_kind(frame->vector), address, frame->rip, frame->error);
  }
  if (from_user || next != 0) user_resume(next); /* leaves the idle loop behind */
  smp_kernel_left(); /* back to the idle loop */
}
