//go:build !purego

#include "textflag.h"

// func adam8(w, grad, m, v *float32, n int, c [6]float32, decay float32)
//
// Adam32's loop for n a positive multiple of 8; c holds b1, 1−b1, b2, 1−b2, eps, lr.
TEXT ·adam8(SB), NOSPLIT, $0-68
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         m+16(FP), R8
	MOVQ         v+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSS c_0+40(FP), Y8  // b1
	VBROADCASTSS c_1+44(FP), Y9  // 1−b1
	VBROADCASTSS c_2+48(FP), Y10 // b2
	VBROADCASTSS c_3+52(FP), Y11 // 1−b2
	VBROADCASTSS c_4+56(FP), Y12 // eps
	VBROADCASTSS c_5+60(FP), Y13 // lr
	VBROADCASTSS decay+64(FP), Y14

loop:
	VMOVUPS (SI), Y1
	VMULPS  (R8), Y8, Y0  // b1·m
	VMULPS  Y1, Y9, Y2    // (1−b1)·g
	VADDPS  Y2, Y0, Y0    // m'
	VMULPS  (R9), Y10, Y3 // b2·v
	VMULPS  Y1, Y11, Y4   // (1−b2)·g
	VMULPS  Y1, Y4, Y4    // ·g
	VADDPS  Y4, Y3, Y3    // v'
	VMOVUPS Y0, (R8)
	VMOVUPS Y3, (R9)
	VSQRTPS Y3, Y5
	VADDPS  Y12, Y5, Y5   // √v' + eps
	VMULPS  Y0, Y13, Y6   // lr·m'
	VDIVPS  Y5, Y6, Y6
	VMULPS  (DI), Y14, Y7 // w·decay
	VSUBPS  Y6, Y7, Y7
	VMOVUPS Y7, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNE     loop
	VZEROUPPER
	RET
