//go:build !purego

#include "textflag.h"

// One step of k for Kern6x32: a 32-wide row of B in Z12:Z13, A's element of each of the six rows
// broadcast into Z14, accumulated into that row's two ZMM registers.
#define ZROW(addr, c0, c1) \
	VBROADCASTSS addr, Z14;      \
	VFMADD231PS  Z12, Z14, c0;   \
	VFMADD231PS  Z13, Z14, c1

#define ZSTEP \
	VMOVUPS (DI), Z12;              \
	VMOVUPS 64(DI), Z13;            \
	ZROW((SI), Z0, Z1);             \
	ZROW((SI)(R8*1), Z2, Z3);       \
	ZROW((SI)(R8*2), Z4, Z5);       \
	ZROW((BX), Z6, Z7);             \
	ZROW((BX)(R8*1), Z8, Z9);       \
	ZROW((BX)(R8*2), Z10, Z11);     \
	ADDQ R10, DI;                   \
	ADDQ R9, SI;                    \
	ADDQ R9, BX

#define ZADDROW(c0, c1) \
	VMOVUPS     (DX), Z12;       \
	VMOVUPS     64(DX), Z13;     \
	VFMADD231PS c0, Z15, Z12;    \
	VFMADD231PS c1, Z15, Z13;    \
	VMOVUPS     Z12, (DX);       \
	VMOVUPS     Z13, 64(DX);     \
	ADDQ        R11, DX

#define ZSETROW(c0, c1) \
	VMULPS  c0, Z15, c0;   \
	VMULPS  c1, Z15, c1;   \
	VMOVUPS c0, (DX);      \
	VMOVUPS c1, 64(DX);    \
	ADDQ    R11, DX

// func Kern6x32(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool)
//
// Kern6x16 twice as wide, in AVX-512 registers: twelve ZMM accumulators hold the 6×32 block.
// Every entry of C is the same chain of multiply-adds in k order as in Kern6x16, so the two
// kernels store the same bits.
TEXT ·Kern6x32(SB), NOSPLIT, $0-69
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

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11

	LEAQ (SI)(R8*2), BX
	ADDQ R8, BX

	CMPQ CX, $2
	JLT  ztail

zloop2:
	ZSTEP
	ZSTEP
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  zloop2

ztail:
	TESTQ CX, CX
	JE    zstore
	ZSTEP

zstore:
	VBROADCASTSS alpha+64(FP), Z15
	MOVBLZX      overwrite+68(FP), AX
	TESTL        AX, AX
	JNE          zset
	ZADDROW(Z0, Z1)
	ZADDROW(Z2, Z3)
	ZADDROW(Z4, Z5)
	ZADDROW(Z6, Z7)
	ZADDROW(Z8, Z9)
	ZADDROW(Z10, Z11)
	VZEROUPPER
	RET

zset:
	ZSETROW(Z0, Z1)
	ZSETROW(Z2, Z3)
	ZSETROW(Z4, Z5)
	ZSETROW(Z6, Z7)
	ZSETROW(Z8, Z9)
	ZSETROW(Z10, Z11)
	VZEROUPPER
	RET
