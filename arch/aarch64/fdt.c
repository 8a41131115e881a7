/*
 * A tiny, bounded walk of the flattened device tree, in C.
 *
 * Why C reads the DTB at all: the kernel (boot/dtb.ts) turns the DTB into
 * the BootInfo, but before kernel_main can run the trampoline must already
 * talk to the UART (its own messages and panics), route interrupts through
 * the GIC, know which PPI the timer raises, and map all RAM into the direct
 * map through which the kernel then reads the DTB. So this file reads just
 * those nodes, and nothing else:
 *
 *   /chosen stdout-path (or an /aliases entry) -> the arm,pl011 node: reg, interrupts
 *   compatible "arm,gic-v3"                    -> reg[0] distributor, reg[1] redistributors
 *   compatible "arm,armv8-timer"               -> interrupts[2], the EL1 virtual timer;
 *                                                 interrupts[1], the EL1 physical one
 *   device_type "memory" under the root        -> reg, for the direct map
 *
 * Memory map, reservations, command line, initrd, CPUs and PSCI are the
 * kernel's to read (boot/dtb.ts); nothing here decides anything with them.
 *
 * FDT layout (all big-endian):
 *   header: magic 0xd00dfeed, totalsize, off_dt_struct, off_dt_strings,
 *           off_mem_rsvmap, version, last_comp_version, boot_cpuid_phys,
 *           size_dt_strings, size_dt_struct
 *   structure block: tokens BEGIN_NODE name\0 (pad 4) | PROP len nameoff
 *           value (pad 4) | END_NODE | NOP | END
 *
 * Every read is checked against the block it belongs to; depth and path
 * length are capped. Limits: interrupt specifiers are taken as the GIC's
 * 3-cell form (the GIC's #interrupt-cells is checked), interrupt-parent is
 * assumed to be that GIC, addresses and sizes of at most 2 cells.
 */
#include "fdt.h"

#include <stdbool.h>
#include <stddef.h>

#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u

#define HEADER_BYTES 40u
#define MAX_DEPTH 16
#define MAX_PATH 256

#define GIC_SPI 0u
#define GIC_PPI 1u
#define GIC_SPI_BASE 32u
#define GIC_PPI_BASE 16u
#define TIMER_PHYSICAL_INDEX 1u /* secure phys, non-secure phys, virtual, hyp */
#define TIMER_VIRTUAL_INDEX 2u

struct bytes {
  const uint8_t *data;
  uint32_t len;
};

/* What the walk keeps of one node while it is open. */
struct node {
  uint32_t address_cells, size_cells, interrupt_cells; /* for its children */
  bool has_ranges;
  struct bytes ranges, reg, interrupts, compatible, device_type, status;
  uint32_t path_len;
};

struct walk;
typedef void (*prop_hook)(struct walk *w, const char *name, struct bytes value);
typedef void (*node_hook)(struct walk *w, int depth);

struct walk {
  const uint8_t *fdt;
  uint32_t struct_off, struct_end, strings_off, strings_end;
  struct node stack[MAX_DEPTH];
  char path[MAX_PATH]; /* of the open node; "" for the root */
  const char *error;
  prop_hook on_prop;
  node_hook on_node_end;
  /* pass results */
  struct bytes stdout_path; /* up to ':' */
  struct bytes alias_path;
  bool stdout_is_alias;
  struct fdt_machine *out;
  bool uart_from_stdout;
  uint32_t gic_interrupt_cells;
};

static uint32_t be32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static uint32_t align4(uint32_t n) { return (n + 3) & ~3u; }

static bool bytes_equal(struct bytes a, const char *s) {
  uint32_t i = 0;
  for (; s[i]; i++)
    if (i >= a.len || a.data[i] != (uint8_t)s[i]) return false;
  return i == a.len;
}

/* A string property: its bytes up to the first NUL, which must exist. */
static bool string_of(struct bytes value, struct bytes *out) {
  for (uint32_t i = 0; i < value.len; i++) {
    if (value.data[i] == 0) {
      *out = (struct bytes){value.data, i};
      return true;
    }
  }
  return false;
}

static bool string_is(struct bytes value, const char *s) {
  struct bytes str;
  return string_of(value, &str) && bytes_equal(str, s);
}

/* A NUL-separated string list (compatible) that contains `s`. */
static bool list_contains(struct bytes list, const char *s) {
  uint32_t start = 0;
  for (uint32_t i = 0; i < list.len; i++) {
    if (list.data[i] != 0) continue;
    if (bytes_equal((struct bytes){list.data + start, i - start}, s)) return true;
    start = i + 1;
  }
  return false;
}

static bool cells_value(const uint8_t *p, uint32_t cells, uint64_t *out) {
  if (cells == 0) *out = 0;
  else if (cells == 1) *out = be32(p);
  else if (cells == 2) *out = ((uint64_t)be32(p) << 32) | be32(p + 4);
  else return false;
  return true;
}

/* Walks the structure block once, calling the hooks. */
static void walk_tree(struct walk *w) {
  uint32_t off = w->struct_off;
  int depth = -1;
  while (w->error == 0) {
    if (off + 4 > w->struct_end) {
      w->error = "DTB structure block ends without an END token";
      return;
    }
    uint32_t token = be32(w->fdt + off);
    off += 4;
    if (token == FDT_BEGIN_NODE) {
      const uint8_t *name = w->fdt + off;
      uint32_t len = 0;
      while (off + len < w->struct_end && name[len] != 0) len++;
      if (off + len >= w->struct_end) {
        w->error = "DTB node name runs past the structure block";
        return;
      }
      off = align4(off + len + 1);
      if (++depth >= MAX_DEPTH) {
        w->error = "DTB nodes nest too deep";
        return;
      }
      struct node *n = &w->stack[depth];
      *n = (struct node){.address_cells = 2, .size_cells = 1};
      uint32_t path_len = depth > 0 ? w->stack[depth - 1].path_len : 0;
      if (depth > 0) {
        if (path_len + 1 + len >= MAX_PATH) {
          w->error = "DTB node path too long";
          return;
        }
        w->path[path_len++] = '/';
        for (uint32_t i = 0; i < len; i++) w->path[path_len++] = (char)name[i];
      }
      w->path[path_len] = 0;
      n->path_len = path_len;
    } else if (token == FDT_PROP) {
      if (depth < 0 || off + 8 > w->struct_end) {
        w->error = "DTB property outside a node or truncated";
        return;
      }
      uint32_t len = be32(w->fdt + off);
      uint32_t name_off = be32(w->fdt + off + 4);
      off += 8;
      if (len > w->struct_end - off) {
        w->error = "DTB property value runs past the structure block";
        return;
      }
      struct bytes value = {w->fdt + off, len};
      off = align4(off + len);
      if (name_off >= w->strings_end - w->strings_off) {
        w->error = "DTB property name offset past the strings block";
        return;
      }
      const char *name = (const char *)w->fdt + w->strings_off + name_off;
      uint32_t room = w->strings_end - w->strings_off - name_off, n = 0;
      while (n < room && name[n] != 0) n++;
      if (n == room) {
        w->error = "DTB property name is not NUL-terminated";
        return;
      }
      struct node *node = &w->stack[depth];
      struct bytes key = {(const uint8_t *)name, n};
      if (bytes_equal(key, "#address-cells") && len == 4) node->address_cells = be32(value.data);
      else if (bytes_equal(key, "#size-cells") && len == 4) node->size_cells = be32(value.data);
      else if (bytes_equal(key, "#interrupt-cells") && len == 4) node->interrupt_cells = be32(value.data);
      else if (bytes_equal(key, "ranges")) node->has_ranges = true, node->ranges = value;
      else if (bytes_equal(key, "reg")) node->reg = value;
      else if (bytes_equal(key, "interrupts")) node->interrupts = value;
      else if (bytes_equal(key, "compatible")) node->compatible = value;
      else if (bytes_equal(key, "device_type")) node->device_type = value;
      else if (bytes_equal(key, "status")) node->status = value;
      if (w->on_prop) w->on_prop(w, name, value);
    } else if (token == FDT_END_NODE) {
      if (depth < 0) {
        w->error = "DTB has an END_NODE without a node";
        return;
      }
      if (w->on_node_end) w->on_node_end(w, depth);
      depth--;
      if (depth >= 0) w->path[w->stack[depth].path_len] = 0;
    } else if (token == FDT_END) {
      if (depth != -1) w->error = "DTB ends inside a node";
      return;
    } else if (token != FDT_NOP) {
      w->error = "DTB structure block has an unknown token";
      return;
    }
  }
}

static bool path_is(struct walk *w, struct bytes path) {
  uint32_t len = 0;
  while (w->path[len]) len++;
  if (len == 0) return path.len == 1 && path.data[0] == '/';
  return path.len == len && __builtin_memcmp(w->path, path.data, len) == 0;
}

/* Pass 1: /chosen stdout-path, cut at the options (":115200n8"). */
static void find_stdout(struct walk *w, const char *name, struct bytes value) {
  struct bytes chosen = {(const uint8_t *)"/chosen", 7};
  if (!path_is(w, chosen)) return;
  struct bytes key = {(const uint8_t *)name, 0};
  while (name[key.len]) key.len++;
  if (!bytes_equal(key, "stdout-path") && !(bytes_equal(key, "linux,stdout-path") && w->stdout_path.len == 0)) return;
  struct bytes path;
  if (!string_of(value, &path)) return;
  uint32_t len = 0;
  while (len < path.len && path.data[len] != ':') len++;
  w->stdout_path = (struct bytes){path.data, len};
  w->stdout_is_alias = len > 0 && path.data[0] != '/';
}

/* Pass 2, when stdout-path names an alias: the path /aliases gives it. */
static void find_alias(struct walk *w, const char *name, struct bytes value) {
  struct bytes aliases = {(const uint8_t *)"/aliases", 8};
  if (!path_is(w, aliases)) return;
  uint32_t i = 0;
  while (name[i] && i < w->stdout_path.len && (uint8_t)name[i] == w->stdout_path.data[i]) i++;
  if (name[i] != 0 || i != w->stdout_path.len) return;
  string_of(value, &w->alias_path);
}

/* Entry `index` of the node's reg, translated through the `ranges` of
 * every bus above it to a CPU physical address. */
static bool reg_entry(struct walk *w, int depth, uint32_t index, struct fdt_range *out) {
  if (depth < 1) return false;
  const struct node *node = &w->stack[depth], *parent = &w->stack[depth - 1];
  uint32_t entry_bytes = (parent->address_cells + parent->size_cells) * 4;
  if (entry_bytes == 0 || node->reg.len / entry_bytes <= index) return false;
  const uint8_t *p = node->reg.data + index * entry_bytes;
  uint64_t address, size;
  if (!cells_value(p, parent->address_cells, &address) ||
      !cells_value(p + parent->address_cells * 4, parent->size_cells, &size))
    return false;
  for (int d = depth - 1; d >= 1; d--) {
    const struct node *bus = &w->stack[d], *above = &w->stack[d - 1];
    if (!bus->has_ranges) return false; /* not a memory-mapped bus */
    if (bus->ranges.len == 0) continue; /* identity */
    uint32_t child = bus->address_cells, up = above->address_cells, cells = bus->size_cells;
    uint32_t ranges_entry = (child + up + cells) * 4;
    bool found = false;
    for (uint32_t at = 0; ranges_entry > 0 && at + ranges_entry <= bus->ranges.len; at += ranges_entry) {
      uint64_t child_base, parent_base, length;
      const uint8_t *r = bus->ranges.data + at;
      if (!cells_value(r, child, &child_base) || !cells_value(r + child * 4, up, &parent_base) ||
          !cells_value(r + (child + up) * 4, cells, &length))
        return false;
      if (address >= child_base && address - child_base < length) {
        address = parent_base + (address - child_base);
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  *out = (struct fdt_range){address, size};
  return true;
}

/* The INTID of a 3-cell GIC interrupt specifier: <type number flags>. */
static uint32_t gic_intid(struct bytes interrupts, uint32_t index) {
  if (interrupts.len < (index + 1) * 12) return 0;
  const uint8_t *spec = interrupts.data + index * 12;
  uint32_t type = be32(spec), number = be32(spec + 4);
  if (type == GIC_SPI) return GIC_SPI_BASE + number;
  if (type == GIC_PPI) return GIC_PPI_BASE + number;
  return 0;
}

/* Pass 3: the machine. */
static void find_devices(struct walk *w, int depth) {
  struct node *n = &w->stack[depth];
  struct fdt_machine *m = w->out;
  if (n->status.len > 0 && !string_is(n->status, "okay") && !string_is(n->status, "ok")) return;
  if (depth == 1 && string_is(n->device_type, "memory")) {
    for (uint32_t i = 0; m->memory_count < FDT_MAX_MEMORY_RANGES; i++) {
      struct fdt_range range;
      if (!reg_entry(w, depth, i, &range)) break;
      if (range.size > 0) m->memory[m->memory_count++] = range;
    }
  }
  if (list_contains(n->compatible, "arm,pl011")) {
    struct bytes wanted = w->stdout_is_alias ? w->alias_path : w->stdout_path;
    bool is_stdout = wanted.len > 0 && path_is(w, wanted);
    if ((is_stdout || m->uart.base == 0) && !w->uart_from_stdout && reg_entry(w, depth, 0, &m->uart)) {
      m->uart_intid = gic_intid(n->interrupts, 0);
      w->uart_from_stdout = is_stdout;
    }
  }
  if (list_contains(n->compatible, "arm,gic-v3") && m->gicd.base == 0) {
    reg_entry(w, depth, 0, &m->gicd);
    reg_entry(w, depth, 1, &m->gicr);
    w->gic_interrupt_cells = n->interrupt_cells;
  }
  if ((list_contains(n->compatible, "arm,armv8-timer") || list_contains(n->compatible, "arm,armv7-timer")) &&
      m->timer_intid == 0) {
    m->timer_intid = gic_intid(n->interrupts, TIMER_VIRTUAL_INDEX);
    m->nap_timer_intid = gic_intid(n->interrupts, TIMER_PHYSICAL_INDEX);
  }
}

const char *fdt_read_machine(const uint8_t *fdt, uint32_t size, struct fdt_machine *out) {
  *out = (struct fdt_machine){0};
  if (size < HEADER_BYTES) return "DTB smaller than its header";
  struct walk w = {.fdt = fdt, .out = out};
  uint32_t struct_off = be32(fdt + 8), strings_off = be32(fdt + 12);
  uint32_t version = be32(fdt + 20), strings_size = be32(fdt + 32);
  uint32_t struct_size = version >= 17 ? be32(fdt + 36) : size - (struct_off < size ? struct_off : size);
  if (version < 16) return "DTB version older than 16";
  if (struct_off > size || struct_size > size - struct_off || (struct_off & 3) != 0) return "DTB structure block out of bounds";
  if (strings_off > size || strings_size > size - strings_off) return "DTB strings block out of bounds";
  w.struct_off = struct_off;
  w.struct_end = struct_off + struct_size;
  w.strings_off = strings_off;
  w.strings_end = strings_off + strings_size;

  w.on_prop = find_stdout;
  walk_tree(&w);
  if (w.stdout_is_alias && w.error == 0) {
    w.on_prop = find_alias;
    walk_tree(&w);
  }
  w.on_prop = 0;
  w.on_node_end = find_devices;
  if (w.error == 0) walk_tree(&w);
  if (w.error) return w.error;
  if (out->uart.base == 0) return "no arm,pl011 UART in the DTB";
  if (out->gicd.base == 0 || out->gicr.base == 0) return "no GICv3 (arm,gic-v3 with distributor and redistributor) in the DTB";
  if (w.gic_interrupt_cells != 3) return "the GICv3 node's #interrupt-cells is not 3";
  if (out->timer_intid == 0) return "no arm,armv8-timer node with a virtual timer interrupt in the DTB";
  if (out->memory_count == 0) return "no /memory node in the DTB";
  return 0;
}
