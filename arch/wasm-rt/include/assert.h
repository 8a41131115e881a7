/* Freestanding <assert.h>: a failed assertion is a panic. */
#ifndef CAMOS_ASSERT_H
#define CAMOS_ASSERT_H
__attribute__((noreturn)) void camos_assert_failed(const char *expr, const char *file, int line);
#define assert(e) ((e) ? (void)0 : camos_assert_failed(#e, __FILE__, __LINE__))
#endif
