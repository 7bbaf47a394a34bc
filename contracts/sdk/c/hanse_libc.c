// The little C library every Hanse contract links: memory functions and an allocator.
//
// Linked into C and Embedded Swift contracts alike (Embedded Swift needs posix_memalign, free,
// memcpy, memmove, memset and memcmp). Nothing here is exported from the module: build.sh
// exports only the contract's methods and the memory.
//
// The allocator: blocks of one of 76 payload sizes (16 bytes to 16 MiB, at most 25% more than asked
// for) after a 16-byte header, carved from the top of the heap and kept on one free list per size
// when freed. A call runs in a fresh
// instance, so there is no need for coalescing: the whole heap is dropped when the call ends.
// Memory grows with memory.grow; when the module's declared maximum is reached the call reverts
// with "out of memory" (a trap would say less).
#include <stddef.h>
#include <stdint.h>

#include "hanse.h"

// The linker defines where the heap starts (after the data and the stack).
extern unsigned char __heap_base;

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    // With bulk memory enabled (build.sh passes -mbulk-memory) this is one memory.copy.
    __builtin_memcpy(dst, src, n);
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    __builtin_memmove(dst, src, n);  // memory.copy handles overlap
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    __builtin_memset(dst, c, n);  // memory.fill
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char *s) {
    const char *p = s;
    while (*p) p++;
    return (size_t)(p - s);
}

int strcmp(const char *a, const char *b) {
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (*x && *x == *y) { x++; y++; }
    return *x == *y ? 0 : (*x < *y ? -1 : 1);
}

// ---------------------------------------------------------------------------------------------
// 128-bit multiplication, which LLVM calls for 64-bit multiplication with overflow checking
// (Swift's multipliedReportingOverflow, C's __builtin_mul_overflow on 64-bit operands). Built from
// 32-bit halves so that it does not call itself.

typedef union {
    __int128 all;
    struct { uint64_t low, high; } s;  // wasm is little-endian
} hanse_u128;

static uint64_t mul64_high(uint64_t a, uint64_t b, uint64_t *low) {
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t middle = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *low = (middle << 32) | (uint32_t)p00;
    return p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
}

__int128 __multi3(__int128 a, __int128 b) {
    hanse_u128 x = {.all = a}, y = {.all = b}, r;
    r.s.high = mul64_high(x.s.low, y.s.low, &r.s.low) + x.s.low * y.s.high + x.s.high * y.s.low;
    return r.all;
}

// ---------------------------------------------------------------------------------------------
// Allocator

#define HEADER 16u
#define LARGEST ((size_t)1 << 24)  // 16 MiB: more than the largest memory a contract may declare
#define CLASSES 76u                // size classes up to LARGEST, see class_size
#define TAG 0x48a50000u            // high half of a header's first word; low half: the size class
#define TAG_ALIGNED 0x48a5ffffu    // header in front of an over-aligned pointer inside a block

typedef struct header {
    uint32_t tag;     // TAG | class, or TAG_ALIGNED
    uint32_t offset;  // TAG_ALIGNED only: distance from the block's payload to this pointer
    uint32_t unused[2];
} header;

static uintptr_t heap_top;              // next free byte; 0 until first use
static void *free_lists[CLASSES];       // one singly linked list per class

__attribute__((noreturn)) static void out_of_memory(void) {
    static const char message[] = "out of memory";
    hanse_revert(message, (int32_t)(sizeof message - 1));
}

// Payload sizes: 16, 32, 48, 64, then four steps per power of two (80, 96, 112, 128, 160, 192, ...),
// so a block wastes at most a quarter of its size; all are multiples of 16, which keeps payloads
// 16-byte aligned.
static size_t class_size(uint32_t c) {
    if (c < 4) return 16u * (c + 1);
    uint32_t j = c - 4;
    size_t base = (size_t)1 << (6 + j / 4);
    return base + (base >> 2) * (j % 4 + 1);
}

static uint32_t class_of(size_t size) {
    if (size > LARGEST) out_of_memory();
    if (size <= 64) return size == 0 ? 0 : (uint32_t)((size - 1) / 16);
    uint32_t k = 31u - (uint32_t)__builtin_clz((uint32_t)(size - 1));  // 2^k < size <= 2^(k+1)
    size_t base = (size_t)1 << k;
    uint32_t step = (uint32_t)((size - 1 - base) / (base >> 2));   // 0..3
    return 4u + 4u * (k - 6u) + step;
}

// Takes `bytes` from the top of the heap, growing the memory when needed.
static void *carve(size_t bytes) {
    if (heap_top == 0) heap_top = ((uintptr_t)&__heap_base + 15u) & ~(uintptr_t)15u;
    uintptr_t start = heap_top;
    if (bytes > SIZE_MAX - start) out_of_memory();
    uintptr_t end = start + bytes;
    size_t have = __builtin_wasm_memory_size(0) * 65536u;
    if (end > have) {
        size_t pages = (end - have + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) out_of_memory();
    }
    heap_top = end;
    return (void *)start;
}

void *malloc(size_t size) {
    uint32_t k = class_of(size);
    void *payload = free_lists[k];
    if (payload) {
        free_lists[k] = *(void **)payload;
    } else {
        header *h = carve(HEADER + class_size(k));
        h->tag = TAG | k;
        h->offset = 0;
        payload = (char *)h + HEADER;
    }
    return payload;
}

// The header in front of a pointer malloc or posix_memalign returned, and the block's payload.
static header *block_of(void *p, char **payload) {
    header *h = (header *)((char *)p - HEADER);
    if (h->tag == TAG_ALIGNED) {
        *payload = (char *)p - h->offset;
        h = (header *)(*payload - HEADER);
    } else {
        *payload = p;
    }
    if ((h->tag & 0xffff0000u) != TAG || (h->tag & 0xffffu) >= CLASSES) {
        static const char message[] = "free or realloc of a pointer malloc did not return";
        hanse_revert(message, (int32_t)(sizeof message - 1));
    }
    return h;
}

void free(void *p) {
    if (!p) return;
    char *payload;
    header *h = block_of(p, &payload);
    uint32_t k = h->tag & 0xffffu;
    *(void **)payload = free_lists[k];
    free_lists[k] = payload;
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL: not a power of two
    if (alignment <= HEADER) {
        *out = malloc(size);
        return 0;
    }
    if (size > SIZE_MAX - alignment) out_of_memory();
    char *payload = malloc(size + alignment);
    uintptr_t aligned = ((uintptr_t)payload + alignment - 1) & ~(uintptr_t)(alignment - 1);
    if (aligned != (uintptr_t)payload) {
        // Both are multiples of 16, so there are at least 16 bytes in front for the marker.
        header *marker = (header *)(aligned - HEADER);
        marker->tag = TAG_ALIGNED;
        marker->offset = (uint32_t)(aligned - (uintptr_t)payload);
    }
    *out = (void *)aligned;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    void *p = 0;
    return posix_memalign(&p, alignment, size) == 0 ? p : 0;
}

void *calloc(size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size) out_of_memory();
    void *p = malloc(count * size);
    __builtin_memset(p, 0, count * size);
    return p;
}

void *realloc(void *p, size_t size) {
    if (!p) return malloc(size);
    char *payload;
    header *h = block_of(p, &payload);
    size_t usable = class_size(h->tag & 0xffffu) - (size_t)((char *)p - payload);
    if (size <= usable) return p;
    void *q = malloc(size);
    __builtin_memcpy(q, p, usable);
    free(p);
    return q;
}
