//go:build !purego

#include "textflag.h"

// Offsets of Row's fields (TestRowLayout checks them against the Go struct).
#define LI 0
#define SI_ 32
#define GI 64
#define DI_ 96
#define INV 128
#define HUND 160
#define LO 192
#define FACTOR 224
#define LAST 256
#define NEGSIGMA 288
#define SIGMA2 320
#define ONE 352
#define NEGZERO 384
#define ZERO 416
#define TABLE 448
#define NORM 456
#define SUM 464
#define LAMI 472
#define HESI 476

// Adds the four float32 lanes of x to the scalar in acc, lane 0 first (the scalar loop's order);
// tmp is clobbered.
#define ADD4SS(x, acc, tmp) \
	VADDSS    x, acc, acc;    \
	VMOVSHDUP x, tmp;         \
	VADDSS    tmp, acc, acc;  \
	VPERMILPS $2, x, tmp;     \
	VADDSS    tmp, acc, acc;  \
	VPERMILPS $3, x, tmp;     \
	VADDSS    tmp, acc, acc

// func pairsAVX2(r *Row, m int, lab, sc, gain, disc *float64, lam, hes *float32)
//
// Per four lanes j: mask = lab[j] != li (false on NaN padding), negMask = sign bit where
// lab[j] >= li (sgn = -1: multiplying by ±1 is flipping the sign bit, exactly), then the
// scalar loop's expressions in its order of operations. Lanes outside the mask give -0 to the
// sums (x + -0 = x for every x), +0 to the subtraction from λ_j and +0 to the double sum.
TEXT ·pairsAVX2(SB), NOSPLIT, $0-64
	MOVQ r+0(FP), AX
	MOVQ m+8(FP), DX
	MOVQ lab+16(FP), SI
	MOVQ sc+24(FP), DI
	MOVQ gain+32(FP), R8
	MOVQ disc+40(FP), R9
	MOVQ lam+48(FP), R10
	MOVQ hes+56(FP), R11
	MOVQ TABLE(AX), BX
	MOVQ NORM(AX), R12
	VMOVUPD SI_(AX), Y11
	VMOVUPD NEGZERO(AX), Y12
	VMOVUPD DI_(AX), Y13
	VMOVUPD GI(AX), Y14
	VMOVSS LAMI(AX), X8
	VMOVSS HESI(AX), X9
	VMOVSD SUM(AX), X10
	XORQ CX, CX

loop:
	VMOVUPD (SI)(CX*8), Y0
	VCMPPD  $0x0c, LI(AX), Y0, Y1 // NEQ_OQ: lab[j] != li, false for NaN
	VCMPPD  $0x01, LI(AX), Y0, Y2 // LT_OS: lab[j] < li, i.e. sgn = +1
	VANDNPD Y12, Y2, Y2           // negMask: the sign bit where sgn = -1

	VSUBPD (DI)(CX*8), Y11, Y3 // si - sc[j]
	VXORPD Y2, Y3, Y3          // delta = sgn·(si - sc[j])
	VSUBPD (R8)(CX*8), Y14, Y4 // gi - gain[j]
	VXORPD Y2, Y4, Y4          // sgn·(gi - gain[j])
	VSUBPD (R9)(CX*8), Y13, Y5 // di - disc[j]
	VANDNPD Y5, Y12, Y5        // |di - disc[j]|
	VMULPD Y5, Y4, Y4
	VMULPD INV(AX), Y4, Y4     // dNDCG
	TESTQ  R12, R12
	JZ     nonorm
	VANDNPD Y3, Y12, Y5        // |delta|
	VADDPD  HUND(AX), Y5, Y5   // 0.01f + |delta|
	VDIVPD  Y5, Y4, Y4         // dNDCG /= ...

nonorm:
	// p = table[int((delta - lo)·factor)], the index clamped to [0, last]: the same as
	// Table.At, whose end cases give indices 0 and last (NaN goes to 0).
	VSUBPD      LO(AX), Y3, Y6
	VMULPD      FACTOR(AX), Y6, Y6
	VMAXPD      ZERO(AX), Y6, Y6
	VMINPD      LAST(AX), Y6, Y6
	VCVTTPD2DQY Y6, X6
	VPCMPEQD    Y0, Y0, Y0
	VGATHERDPD  Y0, (BX)(X6*8), Y7 // p

	VMULPD  NEGSIGMA(AX), Y4, Y3 // -σ·dNDCG
	VMULPD  Y3, Y7, Y3           // pLambda = p·(-σ·dNDCG)
	VMOVUPD ONE(AX), Y5
	VSUBPD  Y7, Y5, Y5           // 1 - p
	VMULPD  Y5, Y7, Y5           // p·(1-p)
	VMULPD  SIGMA2(AX), Y4, Y6   // σ²·dNDCG
	VMULPD  Y6, Y5, Y5           // pHess
	VADDPD  Y3, Y3, Y6           // 2·pLambda
	VANDPD  Y1, Y6, Y6           // +0 outside the mask

	VXORPD      Y2, Y3, Y3       // sgn·pLambda
	VBLENDVPD   Y1, Y3, Y12, Y3  // -0 outside the mask
	VCVTPD2PSY  Y3, X0           // l32
	VANDPD      Y1, Y3, Y4       // +0 outside the mask
	VCVTPD2PSY  Y4, X4
	VMOVUPS     (R10)(CX*4), X7
	VSUBPS      X4, X7, X7       // lam[j] -= l32
	VMOVUPS     X7, (R10)(CX*4)
	VBLENDVPD   Y1, Y5, Y12, Y5  // -0 outside the mask
	VCVTPD2PSY  Y5, X5           // h32
	VMOVUPS     (R11)(CX*4), X7
	VADDPS      X5, X7, X7       // hes[j] += h32
	VMOVUPS     X7, (R11)(CX*4)

	// The order-sensitive sums, one lane at a time.
	ADD4SS(X0, X8, X1)
	ADD4SS(X5, X9, X1)
	VSUBSD       X6, X10, X10
	VPERMILPD    $1, X6, X1
	VSUBSD       X1, X10, X10
	VEXTRACTF128 $1, Y6, X6
	VSUBSD       X6, X10, X10
	VPERMILPD    $1, X6, X1
	VSUBSD       X1, X10, X10

	ADDQ $4, CX
	CMPQ CX, DX
	JLT  loop

	VMOVSS X8, LAMI(AX)
	VMOVSS X9, HESI(AX)
	VMOVSD X10, SUM(AX)
	VZEROUPPER
	RET
