//go:build !purego

#include "textflag.h"

// func max32(x *float32, n int) float32
//
// Two 8-wide running maxima over the blocks of 16, one more block of 8, a reduction across the
// lanes, then the last n mod 8 elements one by one.
TEXT ·max32(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0xff800000, AX // −Inf
	MOVQ         AX, X0
	VBROADCASTSS X0, Y0
	VMOVAPS      Y0, Y1
	MOVQ         CX, DX
	SHRQ         $4, DX
	JE           one8

loop16:
	VMAXPS (SI), Y0, Y0
	VMAXPS 32(SI), Y1, Y1
	ADDQ   $64, SI
	DECQ   DX
	JNE    loop16

one8:
	TESTQ  $8, CX
	JE     reduce
	VMAXPS (SI), Y0, Y0
	ADDQ   $32, SI

reduce:
	VMAXPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	ANDQ         $7, CX
	JE           done

tail:
	VMAXSS (SI), X0, X0
	ADDQ   $4, SI
	DECQ   CX
	JNE    tail

done:
	VMOVSS     X0, ret+16(FP)
	VZEROUPPER
	RET

// func softmaxBack32(probs, grad *float32, n int, dot, scale float32)
//
// g = (p·(g−s))·scale eight at a time, then one at a time: the operations of the Go loop in its
// order (no fused multiply-add), so the bits are the same.
TEXT ·softmaxBack32(SB), NOSPLIT, $0-32
	MOVQ         probs+0(FP), SI
	MOVQ         grad+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS dot+24(FP), Y14
	VBROADCASTSS scale+28(FP), Y15
	MOVQ         CX, DX
	SHRQ         $3, DX
	JE           tail

loop8:
	VMOVUPS (DI), Y0
	VSUBPS  Y14, Y0, Y0
	VMULPS  (SI), Y0, Y0
	VMULPS  Y15, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    DX
	JNE     loop8

tail:
	ANDQ $7, CX
	JE   done

tail1:
	VMOVSS (DI), X0
	VSUBSS X14, X0, X0
	VMULSS (SI), X0, X0
	VMULSS X15, X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JNE    tail1

done:
	VZEROUPPER
	RET
