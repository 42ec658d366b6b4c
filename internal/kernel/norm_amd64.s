//go:build !purego

#include "textflag.h"

// func normRow32(y, x, gain, bias *float32, n int, m, r float32)
//
// ((x−m)·r)·g + b, eight at a time and then one at a time, each operation rounded as in Go.
TEXT ·normRow32(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gain+16(FP), R8
	MOVQ         bias+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSS m+40(FP), Y14
	VBROADCASTSS r+44(FP), Y15
	MOVQ         CX, DX
	SHRQ         $3, DX
	JE           tail

loop8:
	VMOVUPS (SI), Y0
	VSUBPS  Y14, Y0, Y0
	VMULPS  Y15, Y0, Y0
	VMULPS  (R8), Y0, Y0
	VADDPS  (R9), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    DX
	JNE     loop8

tail:
	ANDQ $7, CX
	JE   done

tail1:
	VMOVSS (SI), X0
	VSUBSS X14, X0, X0
	VMULSS X15, X0, X0
	VMULSS (R8), X0, X0
	VADDSS (R9), X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	ADDQ   $4, R8
	ADDQ   $4, R9
	DECQ   CX
	JNE    tail1

done:
	VZEROUPPER
	RET
