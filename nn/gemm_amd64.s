//go:build !purego

#include "textflag.h"

// One step of k: load a 16-wide row of B, broadcast A's element of each of the six rows, and
// accumulate into that row's two YMM registers; then advance A and B by one column/row.
#define ROW(addr, c0, c1) \
	VBROADCASTSS addr, Y14;      \
	VFMADD231PS  Y12, Y14, c0;   \
	VFMADD231PS  Y13, Y14, c1

#define STEP \
	VMOVUPS (DI), Y12;             \
	VMOVUPS 32(DI), Y13;           \
	ROW((SI), Y0, Y1);             \
	ROW((SI)(R8*1), Y2, Y3);       \
	ROW((SI)(R8*2), Y4, Y5);       \
	ROW((BX), Y6, Y7);             \
	ROW((BX)(R8*1), Y8, Y9);       \
	ROW((BX)(R8*2), Y10, Y11);     \
	ADDQ R10, DI;                  \
	ADDQ R9, SI;                   \
	ADDQ R9, BX

// C row += alpha·(c0, c1), then DX moves to the next row of C.
#define ADDROW(c0, c1) \
	VMOVUPS     (DX), Y12;       \
	VMOVUPS     32(DX), Y13;     \
	VFMADD231PS c0, Y15, Y12;    \
	VFMADD231PS c1, Y15, Y13;    \
	VMOVUPS     Y12, (DX);       \
	VMOVUPS     Y13, 32(DX);     \
	ADDQ        R11, DX

// C row = alpha·(c0, c1), then DX moves to the next row of C.
#define SETROW(c0, c1) \
	VMULPS  c0, Y15, c0;   \
	VMULPS  c1, Y15, c1;   \
	VMOVUPS c0, (DX);      \
	VMOVUPS c1, 32(DX);    \
	ADDQ    R11, DX

// func kern6x16(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool)
//
// C[0:6, 0:16] += alpha·A·B (or = alpha·A·B when overwrite) for A(i,l) = a[i·ars + l·acs],
// B(l,j) = b[l·ldb + j] and C(i,j) = c[i·ldc + j] (strides in elements). Twelve YMM accumulators
// hold the 6×16 block, enough independent FMA chains to keep both FMA pipes busy; each step
// loads one 16-wide row of B and broadcasts one element of A per row (AVX2 + FMA3).
TEXT ·kern6x16(SB), NOSPLIT, $0-69
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ars+16(FP), R8
	SHLQ $2, R8
	MOVQ acs+24(FP), R9
	SHLQ $2, R9
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R10
	SHLQ $2, R10
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R11
	SHLQ $2, R11

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	// Rows 0-2 are addressed from SI, rows 3-5 from BX = SI + 3·ars.
	LEAQ (SI)(R8*2), BX
	ADDQ R8, BX

	CMPQ CX, $2
	JLT  tail

loop2:
	STEP
	STEP
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  loop2

tail:
	TESTQ CX, CX
	JE    store
	STEP

store:
	VBROADCASTSS alpha+64(FP), Y15
	MOVBLZX      overwrite+68(FP), AX
	TESTL        AX, AX
	JNE          set
	ADDROW(Y0, Y1)
	ADDROW(Y2, Y3)
	ADDROW(Y4, Y5)
	ADDROW(Y6, Y7)
	ADDROW(Y8, Y9)
	ADDROW(Y10, Y11)
	VZEROUPPER
	RET

set:
	SETROW(Y0, Y1)
	SETROW(Y2, Y3)
	SETROW(Y4, Y5)
	SETROW(Y6, Y7)
	SETROW(Y8, Y9)
	SETROW(Y10, Y11)
	VZEROUPPER
	RET

DATA expc<>+0(SB)/4, $0x42b0c0a5 // hi 88.3762626647949
DATA expc<>+4(SB)/4, $0xc2b0c0a5 // lo -88.3762626647949
DATA expc<>+8(SB)/4, $0x3fb8aa3b // log2e 1.4426950408889634
DATA expc<>+12(SB)/4, $0x3f000000 // half 0.5
DATA expc<>+16(SB)/4, $0x3f318000 // c1 0.693359375
DATA expc<>+20(SB)/4, $0xb95e8083 // c2 -0.00021219444
DATA expc<>+24(SB)/4, $0x39506967 // p0 0.000198756915
DATA expc<>+28(SB)/4, $0x3ab743ce // p1 0.0013981999507
DATA expc<>+32(SB)/4, $0x3c088908 // p2 0.0083334519073
DATA expc<>+36(SB)/4, $0x3d2aa9c1 // p3 0.041665795894
DATA expc<>+40(SB)/4, $0x3e2aaaaa // p4 0.16666665459
DATA expc<>+44(SB)/4, $0x3f000000 // p5 0.50000001201
DATA expc<>+48(SB)/4, $0x3f800000 // one 1.0
GLOBL expc<>(SB), RODATA|NOPTR, $52

// func expSub8(x []float32, sub float32) float32
//
// Replaces x[i] by e^(x[i]−sub) for the first len(x) &^ 7 elements, eight at a time, and returns
// their sum. Cephes' expf: x = n·ln2 + r, e^r by a degree-6 polynomial, times 2^n built in the
// exponent bits; inputs below −88.38 (−Inf included) give 0.
TEXT ·expSub8(SB), NOSPLIT, $0-36
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS sub+24(FP), Y15
	VXORPS       Y14, Y14, Y14
	VBROADCASTSS expc<>+0(SB), Y13
	VBROADCASTSS expc<>+4(SB), Y12
	VBROADCASTSS expc<>+8(SB), Y11
	VBROADCASTSS expc<>+12(SB), Y10
	VBROADCASTSS expc<>+16(SB), Y9
	VBROADCASTSS expc<>+20(SB), Y8
	VBROADCASTSS expc<>+48(SB), Y7
	MOVL         $127, AX
	MOVQ         AX, X6
	VPBROADCASTD X6, Y6
	TESTQ        CX, CX
	JE           done

loop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y15, Y0, Y0
	VMINPS       Y13, Y0, Y0
	VMAXPS       Y12, Y0, Y0
	// n = floor(x·log2e + 0.5)
	VMOVAPS      Y10, Y1
	VFMADD231PS  Y11, Y0, Y1
	VROUNDPS     $1, Y1, Y1
	// r = x − n·c1 − n·c2
	VFNMADD231PS Y9, Y1, Y0
	VFNMADD231PS Y8, Y1, Y0
	VMULPS       Y0, Y0, Y2
	VBROADCASTSS expc<>+24(SB), Y3
	VBROADCASTSS expc<>+28(SB), Y4
	VFMADD213PS  Y4, Y0, Y3
	VBROADCASTSS expc<>+32(SB), Y4
	VFMADD213PS  Y4, Y0, Y3
	VBROADCASTSS expc<>+36(SB), Y4
	VFMADD213PS  Y4, Y0, Y3
	VBROADCASTSS expc<>+40(SB), Y4
	VFMADD213PS  Y4, Y0, Y3
	VBROADCASTSS expc<>+44(SB), Y4
	VFMADD213PS  Y4, Y0, Y3
	// y = p·r² + r + 1
	VFMADD213PS  Y0, Y2, Y3
	VADDPS       Y7, Y3, Y3
	// 2^n
	VCVTTPS2DQ   Y1, Y1
	VPADDD       Y6, Y1, Y1
	VPSLLD       $23, Y1, Y1
	VMULPS       Y1, Y3, Y3
	VMOVUPS      Y3, (SI)
	VADDPS       Y3, Y14, Y14
	ADDQ         $32, SI
	DECQ         CX
	JNE          loop

done:
	VEXTRACTF128 $1, Y14, X0
	VADDPS       X0, X14, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, ret+32(FP)
	VZEROUPPER
	RET
