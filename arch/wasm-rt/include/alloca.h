/* Freestanding <alloca.h>. */
#ifndef CAMOS_ALLOCA_H
#define CAMOS_ALLOCA_H
#define alloca __builtin_alloca
#endif
