//go:build !purego

#include "textflag.h"

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
