//go:build !purego

#include "textflag.h"

// The row kernels' common arguments (n, kv int, a *T, lda int, x, y *T): n in R11, kv in R12, a
// in SI, lda in bytes (shifted left by shift) in R8, x in R13, y in DX.
#define ROWARGS(shift) \
	MOVQ n+0(FP), R11;   \
	MOVQ kv+8(FP), R12;  \
	MOVQ a+16(FP), SI;   \
	MOVQ lda+24(FP), R8; \
	SHLQ shift, R8;      \
	MOVQ x+32(FP), R13;  \
	MOVQ y+40(FP), DX

// Zeroes the accumulators Y0-Y7.
#define ZERO8 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

// func dotRows32(n, kv int, a *float32, lda int, x, y *float32)
//
// Four rows at a time, each with two accumulators (even and odd 8-blocks of x), so that eight
// independent FMA chains hide the FMA latency; the four sums are reduced together by VHADDPS.
TEXT ·dotRows32(SB), NOSPLIT, $0-48
	ROWARGS($2)
	LEAQ (R8)(R8*2), R9 // 3·lda bytes

	CMPQ R11, $4
	JLT  d32one

d32four:
	ZERO8
	MOVQ   SI, AX      // rows 0-2 from AX
	LEAQ   (SI)(R9*1), BX // row 3 from BX
	MOVQ   R13, DI
	MOVQ   R12, CX
	CMPQ   CX, $16
	JLT    d32four8

d32four16:
	VMOVUPS     (DI), Y8
	VMOVUPS     32(DI), Y9
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS 32(AX), Y9, Y4
	VFMADD231PS (AX)(R8*1), Y8, Y1
	VFMADD231PS 32(AX)(R8*1), Y9, Y5
	VFMADD231PS (AX)(R8*2), Y8, Y2
	VFMADD231PS 32(AX)(R8*2), Y9, Y6
	VFMADD231PS (BX), Y8, Y3
	VFMADD231PS 32(BX), Y9, Y7
	ADDQ        $64, AX
	ADDQ        $64, BX
	ADDQ        $64, DI
	SUBQ        $16, CX
	CMPQ        CX, $16
	JGE         d32four16

d32four8:
	TESTQ       CX, CX
	JE          d32foursum
	VMOVUPS     (DI), Y8
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS (AX)(R8*1), Y8, Y1
	VFMADD231PS (AX)(R8*2), Y8, Y2
	VFMADD231PS (BX), Y8, Y3

d32foursum:
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	VHADDPS      Y1, Y0, Y0 // a01 a23 b01 b23 | a45 a67 b45 b67
	VHADDPS      Y3, Y2, Y2 // c01 c23 d01 d23 | c45 c67 d45 d67
	VHADDPS      Y2, Y0, Y0 // a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DX)
	ADDQ         $16, DX
	LEAQ         (SI)(R8*4), SI
	SUBQ         $4, R11
	CMPQ         R11, $4
	JGE          d32four

d32one:
	// One row, summed in exactly the order of the four-row path, so that a row's result does
	// not depend on how rows are grouped (MatVec32 of one row = its row of a longer product).
	TESTQ  R11, R11
	JE     d32done
	VXORPS Y0, Y0, Y0
	VXORPS Y4, Y4, Y4
	MOVQ   SI, AX
	MOVQ   R13, DI
	MOVQ   R12, CX
	CMPQ   CX, $16
	JLT    d32one8

d32one16:
	VMOVUPS     (DI), Y8
	VMOVUPS     32(DI), Y9
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS 32(AX), Y9, Y4
	ADDQ        $64, AX
	ADDQ        $64, DI
	SUBQ        $16, CX
	CMPQ        CX, $16
	JGE         d32one16

d32one8:
	TESTQ       CX, CX
	JE          d32onesum
	VMOVUPS     (DI), Y8
	VFMADD231PS (AX), Y8, Y0

d32onesum:
	VADDPS       Y4, Y0, Y0
	VHADDPS      Y0, Y0, Y0 // a01 a23 a01 a23 | a45 a67 a45 a67
	VHADDPS      Y0, Y0, Y0 // a0-3 ... | a4-7 ...
	VEXTRACTF128 $1, Y0, X1
	VADDSS       X1, X0, X0
	VMOVSS       X0, (DX)
	ADDQ         $4, DX
	ADDQ         R8, SI
	DECQ         R11
	JMP          d32one

d32done:
	VZEROUPPER
	RET

// func axpyRows32(n, kv int, a *float32, lda int, x, y *float32)
//
// y is held in registers 64 columns (eight YMM) at a time while every row streams past: per row
// one broadcast of t[r] and eight FMAs into independent chains. Narrower tails go 8 columns at a
// time.
TEXT ·axpyRows32(SB), NOSPLIT, $0-48
	ROWARGS($2)
	TESTQ R11, R11
	JE    a32done

a32blk64:
	CMPQ    R12, $64
	JLT     a32blk8
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS 64(DX), Y2
	VMOVUPS 96(DX), Y3
	VMOVUPS 128(DX), Y4
	VMOVUPS 160(DX), Y5
	VMOVUPS 192(DX), Y6
	VMOVUPS 224(DX), Y7
	MOVQ    SI, AX
	MOVQ    R13, DI
	MOVQ    R11, CX

a32loop64:
	VBROADCASTSS (DI), Y8
	VFMADD231PS  (AX), Y8, Y0
	VFMADD231PS  32(AX), Y8, Y1
	VFMADD231PS  64(AX), Y8, Y2
	VFMADD231PS  96(AX), Y8, Y3
	VFMADD231PS  128(AX), Y8, Y4
	VFMADD231PS  160(AX), Y8, Y5
	VFMADD231PS  192(AX), Y8, Y6
	VFMADD231PS  224(AX), Y8, Y7
	ADDQ         R8, AX
	ADDQ         $4, DI
	DECQ         CX
	JNE          a32loop64
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, 32(DX)
	VMOVUPS      Y2, 64(DX)
	VMOVUPS      Y3, 96(DX)
	VMOVUPS      Y4, 128(DX)
	VMOVUPS      Y5, 160(DX)
	VMOVUPS      Y6, 192(DX)
	VMOVUPS      Y7, 224(DX)
	ADDQ         $256, SI
	ADDQ         $256, DX
	SUBQ         $64, R12
	JMP          a32blk64

a32blk8:
	TESTQ   R12, R12
	JE      a32done
	VMOVUPS (DX), Y0
	MOVQ    SI, AX
	MOVQ    R13, DI
	MOVQ    R11, CX

a32loop8:
	VBROADCASTSS (DI), Y8
	VFMADD231PS  (AX), Y8, Y0
	ADDQ         R8, AX
	ADDQ         $4, DI
	DECQ         CX
	JNE          a32loop8
	VMOVUPS      Y0, (DX)
	ADDQ         $32, SI
	ADDQ         $32, DX
	SUBQ         $8, R12
	JMP          a32blk8

a32done:
	VZEROUPPER
	RET

// dots4Rows64's steps: load four columns' worth (l..l+3) of the four rows of b; accumulate a row
// chunk's products with them; reduce a row's four accumulators to its four sums at off(DX).
#define LOADB4 \
	VMOVUPD (DI), Y8;         \
	VMOVUPD (DI)(R8*1), Y9;   \
	VMOVUPD (DI)(R8*2), Y10;  \
	VMOVUPD (R9), Y11

#define FMA4(x, c0, c1, c2, c3) \
	VFMADD231PD Y8, x, c0;   \
	VFMADD231PD Y9, x, c1;   \
	VFMADD231PD Y10, x, c2;  \
	VFMADD231PD Y11, x, c3

#define REDUCE4(c0, c1, c2, c3, off) \
	VHADDPD    c1, c0, c0;        \
	VHADDPD    c3, c2, c2;        \
	VPERM2F128 $0x20, c2, c0, Y8; \
	VPERM2F128 $0x31, c2, c0, Y9; \
	VADDPD     Y9, Y8, Y8;        \
	VMOVUPD    Y8, off(DX)

// func dots4Rows64(n, kv int, a *float64, lda int, x, y *float64)
//
// Two rows of a at a time against the four rows of x (b in Go), loaded into Y8-Y11: eight independent FMA
// chains. Each row is summed in the same order whether it is paired or alone.
TEXT ·dots4Rows64(SB), NOSPLIT, $0-48
	ROWARGS($3)
	LEAQ (R8)(R8*2), R9
	LEAQ (R13)(R9*1), R10 // row 3 of b

	CMPQ R11, $2
	JLT  q64one

q64two:
	ZERO8
	MOVQ   SI, AX
	LEAQ   (SI)(R8*1), BX
	MOVQ   R13, DI
	MOVQ   R10, R9
	MOVQ   R12, CX

q64loop2:
	LOADB4
	VMOVUPD     (AX), Y12
	VMOVUPD     (BX), Y13
	FMA4(Y12, Y0, Y1, Y2, Y3)
	FMA4(Y13, Y4, Y5, Y6, Y7)
	ADDQ        $32, AX
	ADDQ        $32, BX
	ADDQ        $32, DI
	ADDQ        $32, R9
	SUBQ        $4, CX
	JNE         q64loop2
	REDUCE4(Y0, Y1, Y2, Y3, 0)
	REDUCE4(Y4, Y5, Y6, Y7, 32)
	ADDQ       $64, DX
	LEAQ       (SI)(R8*2), SI
	SUBQ       $2, R11
	CMPQ       R11, $2
	JGE        q64two

q64one:
	TESTQ  R11, R11
	JE     q64done
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   R13, DI
	MOVQ   R10, R9
	MOVQ   R12, CX

q64loop1:
	LOADB4
	VMOVUPD     (AX), Y12
	FMA4(Y12, Y0, Y1, Y2, Y3)
	ADDQ        $32, AX
	ADDQ        $32, DI
	ADDQ        $32, R9
	SUBQ        $4, CX
	JNE         q64loop1
	REDUCE4(Y0, Y1, Y2, Y3, 0)

q64done:
	VZEROUPPER
	RET

// func scaleRows32(n, kv int, a *float32, lda int, x, y *float32)
TEXT ·scaleRows32(SB), NOSPLIT, $0-48
	ROWARGS($2)
	TESTQ R11, R11
	JE    s32done

s32row:
	VBROADCASTSS (R13), Y8
	XORQ         AX, AX
	MOVQ         R12, CX
	CMPQ         CX, $32
	JLT          s32blk8

s32blk32:
	VMULPS  (SI)(AX*1), Y8, Y0
	VMULPS  32(SI)(AX*1), Y8, Y1
	VMULPS  64(SI)(AX*1), Y8, Y2
	VMULPS  96(SI)(AX*1), Y8, Y3
	VMOVUPS Y0, (DX)(AX*1)
	VMOVUPS Y1, 32(DX)(AX*1)
	VMOVUPS Y2, 64(DX)(AX*1)
	VMOVUPS Y3, 96(DX)(AX*1)
	ADDQ    $128, AX
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     s32blk32

s32blk8:
	TESTQ   CX, CX
	JE      s32next
	VMULPS  (SI)(AX*1), Y8, Y0
	VMOVUPS Y0, (DX)(AX*1)
	ADDQ    $32, AX
	SUBQ    $8, CX
	JMP     s32blk8

s32next:
	ADDQ R8, SI
	ADDQ R8, DX
	ADDQ $4, R13
	DECQ R11
	JNE  s32row

s32done:
	VZEROUPPER
	RET
