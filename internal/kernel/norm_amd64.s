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

// func normBackProducts(x, dy, gain, gg, gb, dh, p *float32, n int, m, r float32)
//
// For j < n (a positive multiple of 8): x̂ = (x−m)·r, dh = dy·g, p = dh·x̂, gg += dy·x̂, gb += dy,
// each product and sum rounded on its own as the Go loop does.
TEXT ·normBackProducts(SB), NOSPLIT, $0-72
	MOVQ         x+0(FP), SI
	MOVQ         dy+8(FP), DX
	MOVQ         gain+16(FP), R8
	MOVQ         gg+24(FP), R9
	MOVQ         gb+32(FP), R10
	MOVQ         dh+40(FP), R11
	MOVQ         p+48(FP), R12
	MOVQ         n+56(FP), CX
	VBROADCASTSS m+64(FP), Y14
	VBROADCASTSS r+68(FP), Y15

nbp:
	VMOVUPS (SI), Y0
	VSUBPS  Y14, Y0, Y0   // x − m
	VMULPS  Y15, Y0, Y0   // x̂
	VMOVUPS (DX), Y1      // dy
	VMULPS  (R8), Y1, Y2  // dh = dy·g
	VMOVUPS Y2, (R11)
	VMULPS  Y0, Y2, Y3    // dh·x̂
	VMOVUPS Y3, (R12)
	VMULPS  Y0, Y1, Y4    // dy·x̂
	VADDPS  (R9), Y4, Y4
	VMOVUPS Y4, (R9)
	VADDPS  (R10), Y1, Y5
	VMOVUPS Y5, (R10)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, R10
	ADDQ    $32, R11
	ADDQ    $32, R12
	SUBQ    $8, CX
	JNE     nbp
	VZEROUPPER
	RET

// func normBackDx(x, dy, gain, dx *float32, n int, m, r, s1, s2 float32)
//
// dx = r·((dy·g − s1) − x̂·s2) for j < n (a positive multiple of 8), x̂ = (x−m)·r.
TEXT ·normBackDx(SB), NOSPLIT, $0-56
	MOVQ         x+0(FP), SI
	MOVQ         dy+8(FP), DX
	MOVQ         gain+16(FP), R8
	MOVQ         dx+24(FP), DI
	MOVQ         n+32(FP), CX
	VBROADCASTSS m+40(FP), Y12
	VBROADCASTSS r+44(FP), Y13
	VBROADCASTSS s1+48(FP), Y14
	VBROADCASTSS s2+52(FP), Y15

nbd:
	VMOVUPS (SI), Y0
	VSUBPS  Y12, Y0, Y0   // x − m
	VMULPS  Y13, Y0, Y0   // x̂
	VMOVUPS (DX), Y1
	VMULPS  (R8), Y1, Y1  // dy·g
	VSUBPS  Y14, Y1, Y1   // − s1
	VMULPS  Y15, Y0, Y0   // x̂·s2
	VSUBPS  Y0, Y1, Y1
	VMULPS  Y13, Y1, Y1   // r·(…)
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     nbd
	VZEROUPPER
	RET
