//go:build !purego

#include "textflag.h"

// Adds X0 (a row's gradient and hessian) to the bin col[row] of histogram hist; row in AX,
// R15 clobbered. One ADDPD does the two additions the scalar loop does.
#define BIN(col, hist) \
	MOVBQZX (col)(AX*1), R15;   \
	SHLQ    $4, R15;            \
	MOVUPD  (hist)(R15*1), X1;  \
	ADDPD   X0, X1;             \
	MOVUPD  X1, (hist)(R15*1)

// func add4(n int, rows *int32, ordered *float64, c0, c1, c2, c3 *uint8, h0, h1, h2, h3 *[512]float64)
TEXT ·add4(SB), NOSPLIT, $0-88
	MOVQ n+0(FP), CX
	MOVQ rows+8(FP), SI
	MOVQ ordered+16(FP), DI
	MOVQ c0+24(FP), R8
	MOVQ c1+32(FP), R9
	MOVQ c2+40(FP), R10
	MOVQ c3+48(FP), R11
	MOVQ h0+56(FP), R12
	MOVQ h1+64(FP), R13
	MOVQ h2+72(FP), BX
	MOVQ h3+80(FP), DX
	LEAQ (SI)(CX*4), CX // end of rows

loop:
	MOVL   (SI), AX // rows are non-negative: MOVL's zero extension is the row
	MOVUPD (DI), X0
	BIN(R8, R12)
	BIN(R9, R13)
	BIN(R10, BX)
	BIN(R11, DX)
	ADDQ   $4, SI
	ADDQ   $16, DI
	CMPQ   SI, CX
	JNE    loop
	RET
