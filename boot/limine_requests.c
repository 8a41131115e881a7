/*
 * Limine protocol requests (base revision 2; Limine 8.x and later).
 *
 * The loader scans the image between the start and end markers for 8-byte
 * aligned requests, recognises each by its id, and writes a response pointer
 * into it before jumping to the entry point requested here. The kernel reads
 * the responses in boot/limine.ts; this file only declares the requests.
 */
#include "limine_requests.h"

#define LIMINE_MAGIC 0xc7b1dd30df4c8b88ull, 0x0a82e883a194f07bull
#define REQUEST(name, a, b) \
  __attribute__((used, section(".requests"), aligned(8))) static volatile struct limine_request_header name = { \
      .id = {LIMINE_MAGIC, a, b}, .revision = 0, .response = 0}

__attribute__((used, section(".requests_start_marker"), aligned(8))) static volatile uint64_t requests_start[4] = {
    0xf6b8f4b39de7d1aeull, 0xfab91a6940fcb9cfull, 0x785c6ed015d3e316ull, 0x181e920a7852b9d9ull};

__attribute__((used, section(".requests"), aligned(8))) static volatile uint64_t base_revision[3] = {
    0xf9562b2d5c95a6c8ull, 0x6a7b384944536bdcull, 2};

REQUEST(bootloader_info, 0xf55038d8e2a1202full, 0x279426fcf5f59740ull);
REQUEST(memmap, 0x67cf3d9d378a806full, 0xe304acdfc50c3c62ull);
REQUEST(hhdm, 0x48dcf1cb8ad2b852ull, 0x63984e959a98244bull);
REQUEST(rsdp, 0xc5e77b6b397e7b43ull, 0x27637845accdcf3cull);
REQUEST(framebuffer, 0x9d5827dcd881dd75ull, 0xa3148604f6fab11bull);
REQUEST(executable_file, 0xad97e90e83f1ed67ull, 0x31eb5d1c5ff23b69ull);
REQUEST(executable_address, 0x71ba76863cc55f63ull, 0xb2644a48c516a487ull);
REQUEST(dtb, 0xb40ddb48fb54bac7ull, 0x545081493f81ffb7ull);

/* The module request has two more fields (internal modules, none here). */
__attribute__((used, section(".requests"), aligned(8))) static volatile struct {
  struct limine_request_header header;
  uint64_t internal_module_count;
  uint64_t internal_modules;
} modules = {.header = {.id = {LIMINE_MAGIC, 0x3e7e279702be32afull, 0xca1c4f3bd1280ceeull}}};

/* MP: flags 0 (no x2APIC request); the CPUs wait until the scheduler wakes them. */
__attribute__((used, section(".requests"), aligned(8))) static volatile struct {
  struct limine_request_header header;
  uint64_t flags;
} mp = {.header = {.id = {LIMINE_MAGIC, 0x95a67b819a1b857eull, 0xa0b61b723b6a73e0ull}}};

/* Paging mode: ask for 4-level paging, the only mode the trampoline walks. */
__attribute__((used, section(".requests"), aligned(8))) static volatile struct {
  struct limine_request_header header;
  uint64_t mode;
  uint64_t max_mode;
  uint64_t min_mode;
} paging_mode = {.header = {.id = {LIMINE_MAGIC, 0x95c1a0edab0944cbull, 0xa4e5cb3842f7488aull}}};

/* Entry point: the image's ELF entry is the Multiboot2 32-bit one, so Limine
 * is told where the 64-bit entry is. */
extern void limine_entry(void);
__attribute__((used, section(".requests"), aligned(8))) static volatile struct {
  struct limine_request_header header;
  uint64_t entry;
} entry_point = {.header = {.id = {LIMINE_MAGIC, 0x13d86c035a1cd3e1ull, 0x2b0caa89d8f3026aull}},
                 .entry = (uint64_t)(uintptr_t)limine_entry};

__attribute__((used, section(".requests_end_marker"), aligned(8))) static volatile uint64_t requests_end[2] = {
    0xadc0e0531bb10d03ull, 0x9572709f31764c62ull};

const uint64_t limine_request_table[LIMINE_TABLE_COUNT] = {
    [LIMINE_TABLE_BOOTLOADER_INFO] = (uint64_t)(uintptr_t)&bootloader_info,
    [LIMINE_TABLE_MEMMAP] = (uint64_t)(uintptr_t)&memmap,
    [LIMINE_TABLE_HHDM] = (uint64_t)(uintptr_t)&hhdm,
    [LIMINE_TABLE_MODULES] = (uint64_t)(uintptr_t)&modules,
    [LIMINE_TABLE_RSDP] = (uint64_t)(uintptr_t)&rsdp,
    [LIMINE_TABLE_FRAMEBUFFER] = (uint64_t)(uintptr_t)&framebuffer,
    [LIMINE_TABLE_EXECUTABLE_FILE] = (uint64_t)(uintptr_t)&executable_file,
    [LIMINE_TABLE_EXECUTABLE_ADDRESS] = (uint64_t)(uintptr_t)&executable_address,
    [LIMINE_TABLE_MP] = (uint64_t)(uintptr_t)&mp,
    [LIMINE_TABLE_DTB] = (uint64_t)(uintptr_t)&dtb,
    [LIMINE_TABLE_PAGING_MODE] = (uint64_t)(uintptr_t)&paging_mode,
};

int limine_base_revision_supported(void) { return base_revision[2] == 0; }

/* Response layouts: { revision; offset } and { revision; physical; virtual }. */
static uint64_t response_word(volatile struct limine_request_header *request, unsigned index) {
  if (request->response == 0) return 0;
  return ((volatile uint64_t *)(uintptr_t)request->response)[index];
}

uint64_t limine_hhdm_offset(void) { return response_word(&hhdm, 1); }
uint64_t limine_kernel_physical_base(void) { return response_word(&executable_address, 1); }
uint64_t limine_kernel_virtual_base(void) { return response_word(&executable_address, 2); }
