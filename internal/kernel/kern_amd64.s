//go:build !purego

#include "textflag.h"

// The micro-kernel is written once, as macros, for both register widths: B0:B1 hold a row of
// B's strip, T the broadcast element of A, AL alpha, C0…C11 the six rows of C (two registers
// each), W the bytes of one register (32 for YMM, 64 for ZMM). ZERO clears a register: VXORPS
// for YMM, VPXORD for ZMM (VXORPS on ZMM would need AVX-512DQ).

// One row of a k step: broadcast A's element into T and accumulate into the row's registers.
#define KROW(addr, c0, c1, B0, B1, T) \
	VBROADCASTSS addr, T;    \
	VFMADD231PS  B0, T, c0;  \
	VFMADD231PS  B1, T, c1

// One step of k: load a row of B's strip, update the six rows, advance A and B by one column/row.
#define KSTEP(W, B0, B1, T, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11) \
	VMOVUPS (DI), B0;                       \
	VMOVUPS W(DI), B1;                      \
	KROW((SI), C0, C1, B0, B1, T);          \
	KROW((SI)(R8*1), C2, C3, B0, B1, T);    \
	KROW((SI)(R8*2), C4, C5, B0, B1, T);    \
	KROW((BX), C6, C7, B0, B1, T);          \
	KROW((BX)(R8*1), C8, C9, B0, B1, T);    \
	KROW((BX)(R8*2), C10, C11, B0, B1, T);  \
	ADDQ R10, DI;                           \
	ADDQ R9, SI;                            \
	ADDQ R9, BX

// C row += alpha·(c0, c1) (one rounding, as a fused multiply-add), then DX moves to the next row.
#define KADDROW(W, c0, c1, B0, B1, AL) \
	VMOVUPS     (DX), B0;     \
	VMOVUPS     W(DX), B1;    \
	VFMADD231PS c0, AL, B0;   \
	VFMADD231PS c1, AL, B1;   \
	VMOVUPS     B0, (DX);     \
	VMOVUPS     B1, W(DX);    \
	ADDQ        R11, DX

// C row = alpha·(c0, c1), then DX moves to the next row.
#define KSETROW(W, c0, c1, AL) \
	VMULPS  c0, AL, c0;   \
	VMULPS  c1, AL, c1;   \
	VMOVUPS c0, (DX);     \
	VMOVUPS c1, W(DX);    \
	ADDQ    R11, DX

// The whole kernel: arguments, k loop unrolled by two, then C stored or added to. Rows 0-2 of A
// are addressed from SI, rows 3-5 from BX = SI + 3·ars.
#define KERN6(ZERO, W, B0, B1, T, AL, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11) \
	MOVQ k+0(FP), CX;      \
	MOVQ a+8(FP), SI;      \
	MOVQ ars+16(FP), R8;   \
	SHLQ $2, R8;           \
	MOVQ acs+24(FP), R9;   \
	SHLQ $2, R9;           \
	MOVQ b+32(FP), DI;     \
	MOVQ ldb+40(FP), R10;  \
	SHLQ $2, R10;          \
	MOVQ c+48(FP), DX;     \
	MOVQ ldc+56(FP), R11;  \
	SHLQ $2, R11;          \
	ZERO C0, C0, C0;       \
	ZERO C1, C1, C1;       \
	ZERO C2, C2, C2;       \
	ZERO C3, C3, C3;       \
	ZERO C4, C4, C4;       \
	ZERO C5, C5, C5;       \
	ZERO C6, C6, C6;       \
	ZERO C7, C7, C7;       \
	ZERO C8, C8, C8;       \
	ZERO C9, C9, C9;       \
	ZERO C10, C10, C10;    \
	ZERO C11, C11, C11;    \
	LEAQ (SI)(R8*2), BX;   \
	ADDQ R8, BX;           \
	CMPQ CX, $2;           \
	JLT  tail;             \
loop2:;                    \
	KSTEP(W, B0, B1, T, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11); \
	KSTEP(W, B0, B1, T, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11); \
	SUBQ $2, CX;           \
	CMPQ CX, $2;           \
	JGE  loop2;            \
tail:;                     \
	TESTQ CX, CX;          \
	JE    store;           \
	KSTEP(W, B0, B1, T, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11); \
store:;                    \
	VBROADCASTSS alpha+64(FP), AL; \
	MOVBLZX overwrite+68(FP), AX;  \
	TESTL   AX, AX;        \
	JNE     set;           \
	KADDROW(W, C0, C1, B0, B1, AL);   \
	KADDROW(W, C2, C3, B0, B1, AL);   \
	KADDROW(W, C4, C5, B0, B1, AL);   \
	KADDROW(W, C6, C7, B0, B1, AL);   \
	KADDROW(W, C8, C9, B0, B1, AL);   \
	KADDROW(W, C10, C11, B0, B1, AL); \
	VZEROUPPER;            \
	RET;                   \
set:;                      \
	KSETROW(W, C0, C1, AL);   \
	KSETROW(W, C2, C3, AL);   \
	KSETROW(W, C4, C5, AL);   \
	KSETROW(W, C6, C7, AL);   \
	KSETROW(W, C8, C9, AL);   \
	KSETROW(W, C10, C11, AL); \
	VZEROUPPER;            \
	RET

// func Kern6x16(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool)
//
// C[0:6, 0:16] += alpha·A·B (or = alpha·A·B when overwrite) for A(i,l) = a[i·ars + l·acs],
// B(l,j) = b[l·ldb + j] and C(i,j) = c[i·ldc + j] (strides in elements). Twelve YMM accumulators
// hold the 6×16 block, enough independent FMA chains to keep both FMA pipes busy; each step
// loads one 16-wide row of B and broadcasts one element of A per row (AVX2 + FMA3).
TEXT ·Kern6x16(SB), NOSPLIT, $0-69
	KERN6(VXORPS, 32, Y12, Y13, Y14, Y15, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)

// func Kern6x32(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool)
//
// Kern6x16 twice as wide, in AVX-512 registers: twelve ZMM accumulators hold the 6×32 block.
// Every entry of C is the same chain of multiply-adds in k order, so the two kernels store the
// same bits.
TEXT ·Kern6x32(SB), NOSPLIT, $0-69
	KERN6(VPXORD, 64, Z12, Z13, Z14, Z15, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11)
