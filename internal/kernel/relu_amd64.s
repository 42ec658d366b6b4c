//go:build !purego

#include "textflag.h"

// func reluBack8(y, dy, dx *float32, n int)
//
// dx = dy AND (y > 0), n a positive multiple of 8.
TEXT ·reluBack8(SB), NOSPLIT, $0-32
	MOVQ   y+0(FP), SI
	MOVQ   dy+8(FP), DX
	MOVQ   dx+16(FP), DI
	MOVQ   n+24(FP), CX
	VXORPS Y15, Y15, Y15

rb8:
	VMOVUPS (SI), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1 // y > 0 (ordered, quiet): all ones, else zero
	VANDPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     rb8
	VZEROUPPER
	RET

// func addRows8(y, a *float32, rows, cols, lda int)
//
// y[j] += a[r·lda + j] for r = 0, 1, …, rows−1 in order, j < cols (a positive multiple of 8):
// 32 columns at a time in four registers, then 8.
TEXT ·addRows8(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ cols+24(FP), BX
	MOVQ lda+32(FP), R8
	SHLQ $2, R8

ar32:
	CMPQ    BX, $32
	JLT     ar8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	MOVQ    SI, AX
	MOVQ    rows+16(FP), CX

ar32row:
	VADDPS (AX), Y0, Y0
	VADDPS 32(AX), Y1, Y1
	VADDPS 64(AX), Y2, Y2
	VADDPS 96(AX), Y3, Y3
	ADDQ   R8, AX
	DECQ   CX
	JNE    ar32row
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	SUBQ    $32, BX
	JMP     ar32

ar8:
	CMPQ    BX, $8
	JLT     ardone
	VMOVUPS (DI), Y0
	MOVQ    SI, AX
	MOVQ    rows+16(FP), CX

ar8row:
	VADDPS (AX), Y0, Y0
	ADDQ   R8, AX
	DECQ   CX
	JNE    ar8row
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, BX
	JMP     ar8

ardone:
	VZEROUPPER
	RET
