//go:build !purego

#include "textflag.h"

// func reluDotAVX2(z *float32, rows, A int, w *float32, b float32, out *float32)
TEXT ·reluDotAVX2(SB), NOSPLIT, $0-48
	MOVQ  z+0(FP), SI
	MOVQ  rows+8(FP), CX
	MOVQ  A+16(FP), DX
	MOVQ  w+24(FP), DI
	MOVSS b+32(FP), X7
	MOVQ  out+40(FP), R8
	VXORPS Y6, Y6, Y6

row:
	TESTQ CX, CX
	JZ    done
	VXORPS Y0, Y0, Y0
	XORQ  AX, AX

col:
	VMAXPS      (SI)(AX*4), Y6, Y1 // max(0, z)
	VFMADD231PS (DI)(AX*4), Y1, Y0 // acc += relu·w
	ADDQ        $8, AX
	CMPQ        AX, DX
	JLT         col

	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VADDSS       X7, X0, X0
	VMOVSS       X0, (R8)
	ADDQ         $4, R8
	LEAQ         (SI)(DX*4), SI
	DECQ         CX
	JMP          row

done:
	VZEROUPPER
	RET
