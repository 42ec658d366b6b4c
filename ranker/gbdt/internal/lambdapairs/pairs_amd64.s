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
#define PBUF 448
#define NORM 456
#define SUM 464
#define LAMI 472
#define HESI 476
#define SIGMA 480
#define LOG2E 512
#define LN2U 544
#define LN2L 576
#define SIXTEENTH 608
#define C64 640
#define C56 672
#define C48 704
#define C40 736
#define C32 768
#define C24 800
#define HALF 832
#define TWO 864
#define BIAS 896
#define MAGIC 928

// The sigmoid table's entry for the differences d, computed as NewTable filled it rather than
// loaded (a load from the 8 MB table misses the cache): k = int((d - lo)·factor) clamped to
// [0, last] as Table.At clamps (NaN goes to 0), then 1/(1 + exp((k/factor + lo)·σ)), exp
// being math.Exp's FMA path (src/math/exp_amd64.s; |x| ≤ 25 needs none of its special cases)
// operation for operation: the same bits. It is split in two halves, each a loop of its own:
// a loop of short independent iterations lets the core overlap many of them, one long
// dependency chain per iteration does not.
//
// PROB1 leaves the reduced argument in s and 2^n, n the exponent, in scale; t is clobbered.
// The integer conversions are roundings in double: int(y) for 0 ≤ y < 2^20 is VROUNDPD's
// truncation, CVTSD2SL's round-to-nearest-even of |x·log2e| ≤ 37 is VROUNDPD's nearest, and
// n + 1.5·2^52 holds n in its low mantissa bits, so that adding the bias and shifting left by 52
// leaves the bits of 2^n (the bits above are shifted out).
#define PROB1(d, s, scale, t) \
	VSUBPD       LO(AX), d, s;          \
	VMULPD       FACTOR(AX), s, s;      \
	VMAXPD       ZERO(AX), s, s;        \
	VMINPD       LAST(AX), s, s;        \
	VROUNDPD     $3, s, s;              \
	VDIVPD       FACTOR(AX), s, s;      \
	VADDPD       LO(AX), s, s;          \
	VMULPD       SIGMA(AX), s, s;       \
	VMULPD       LOG2E(AX), s, t;       \
	VROUNDPD     $0, t, t;              \
	VFNMADD231PD LN2U(AX), t, s;        \
	VFNMADD231PD LN2L(AX), t, s;        \
	VMULPD       SIXTEENTH(AX), s, s;   \
	VADDPD       MAGIC(AX), t, scale;   \
	VPADDQ       BIAS(AX), scale, scale; \
	VPSLLQ       $52, scale, scale

// PROB2 turns the reduced argument s (clobbered) and the scale at memory operand scale into
// the entry p.
#define PROB2(s, scale, p) \
	VMOVUPD      C64(AX), p;            \
	VFMADD213PD  C56(AX), s, p;         \
	VFMADD213PD  C48(AX), s, p;         \
	VFMADD213PD  C40(AX), s, p;         \
	VFMADD213PD  C32(AX), s, p;         \
	VFMADD213PD  C24(AX), s, p;         \
	VFMADD213PD  HALF(AX), s, p;        \
	VFMADD213PD  ONE(AX), s, p;         \
	VMULPD       p, s, s;               \
	VADDPD       TWO(AX), s, p;         \
	VMULPD       p, s, s;               \
	VADDPD       TWO(AX), s, p;         \
	VMULPD       p, s, s;               \
	VADDPD       TWO(AX), s, p;         \
	VMULPD       p, s, s;               \
	VADDPD       TWO(AX), s, p;         \
	VFMADD213PD  ONE(AX), p, s;         \
	VMULPD       scale, s, s;           \
	VADDPD       ONE(AX), s, s;         \
	VMOVUPD      ONE(AX), p;            \
	VDIVPD       s, p, p

// func pairsAVX2(r *Row, m int, lab, sc, gain, disc *float64, lam, hes *float32)
//
// Per four lanes j, with p from probsAVX2: mask = lab[j] != li (false on NaN padding) and
// negMask = the sign bit where lab[j] >= li (sgn = -1). The scalar loop's expressions in its
// order of operations, except that sgn is left out of dNDCG = sgn·D and put back at the end:
// rounding is symmetric, so fl(sgn·a ∘ b) = sgn·fl(a ∘ b) for · and /, and
// l32 = sgn·pLambda = p·(-σ·D), pHess = sgn·p(1-p)·(σ²·D), 2·pLambda = sgn·2l, bit for bit.
// D is +0 outside the mask, so those lanes add ±0, which leaves every sum as it was since no
// sum is ever -0 (see Run).
TEXT ·pairsAVX2(SB), NOSPLIT, $0-64
	MOVQ    r+0(FP), AX
	MOVQ    m+8(FP), DX
	MOVQ    lab+16(FP), SI
	MOVQ    sc+24(FP), DI
	MOVQ    gain+32(FP), R8
	MOVQ    disc+40(FP), R9
	MOVQ    lam+48(FP), R10
	MOVQ    hes+56(FP), R11
	MOVQ    PBUF(AX), BX
	MOVQ    NORM(AX), R12
	VMOVUPD SI_(AX), Y11
	VMOVUPD NEGZERO(AX), Y12
	VMOVUPD DI_(AX), Y13
	VMOVUPD GI(AX), Y14
	VMOVSD  LAMI(AX), X8 // lamI, hesI in lanes 0 and 1
	VMOVSD  SUM(AX), X10
	XORQ    CX, CX

loop:
	VMOVUPD (SI)(CX*8), Y0
	VCMPPD  $0x0c, LI(AX), Y0, Y1 // NEQ_OQ: lab[j] != li, false for NaN
	VCMPPD  $0x01, LI(AX), Y0, Y2 // LT_OS: lab[j] < li, i.e. sgn = +1
	VANDNPD Y12, Y2, Y2           // negMask

	VSUBPD  (R8)(CX*8), Y14, Y4 // gi - gain[j]
	VSUBPD  (R9)(CX*8), Y13, Y5 // di - disc[j]
	VANDNPD Y5, Y12, Y5         // |di - disc[j]|
	VMULPD  Y5, Y4, Y4
	VMULPD  INV(AX), Y4, Y4     // D
	VANDPD  Y1, Y4, Y4          // +0 outside the mask
	TESTQ   R12, R12
	JZ      nonorm
	VSUBPD  (DI)(CX*8), Y11, Y5 // si - sc[j] = ±delta
	VANDNPD Y5, Y12, Y5         // |delta|
	VADDPD  HUND(AX), Y5, Y5    // 0.01f + |delta|
	VDIVPD  Y5, Y4, Y4          // D /= ...

nonorm:
	VMOVUPD (BX)(CX*8), Y7   // p
	VMULPD  NEGSIGMA(AX), Y4, Y3
	VMULPD  Y3, Y7, Y3       // l = p·(-σ·D)
	VMOVUPD ONE(AX), Y5
	VSUBPD  Y7, Y5, Y5       // 1 - p
	VMULPD  Y5, Y7, Y5       // p·(1-p)
	VMULPD  SIGMA2(AX), Y4, Y6
	VMULPD  Y6, Y5, Y5
	VXORPD  Y2, Y5, Y5       // pHess
	VADDPD  Y3, Y3, Y6
	VXORPD  Y2, Y6, Y6       // 2·pLambda

	VCVTPD2PSY Y3, X0          // l32
	VCVTPD2PSY Y5, X5          // h32
	VMOVUPS    (R10)(CX*4), X7
	VSUBPS     X0, X7, X7      // lam[j] -= l32
	VMOVUPS    X7, (R10)(CX*4)
	VMOVUPS    (R11)(CX*4), X7
	VADDPS     X5, X7, X7      // hes[j] += h32
	VMOVUPS    X7, (R11)(CX*4)

	// The order-sensitive sums, one lane at a time: (lamI, hesI) as one pair of floats,
	// the lanes above them unused.
	VUNPCKLPS    X5, X0, X1 // l0 h0 l1 h1
	VUNPCKHPS    X5, X0, X2 // l2 h2 l3 h3
	VADDPS       X1, X8, X8
	VPERMILPD    $1, X1, X1
	VADDPS       X1, X8, X8
	VADDPS       X2, X8, X8
	VPERMILPD    $1, X2, X2
	VADDPS       X2, X8, X8
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

	VMOVSD X8, LAMI(AX)
	VMOVSD X10, SUM(AX)
	VZEROUPPER
	RET

// func probsAVX2(r *Row, m int, lab, sc *float64)
//
// Sets r.pbuf[j] to the table's entry for delta_j = sgn_j·(si - sc[j]), j < m, with
// r.pbuf[m:2m] as scratch.
TEXT ·probsAVX2(SB), NOSPLIT, $0-32
	MOVQ    r+0(FP), AX
	MOVQ    m+8(FP), DX
	MOVQ    lab+16(FP), SI
	MOVQ    sc+24(FP), DI
	MOVQ    PBUF(AX), BX
	LEAQ    (BX)(DX*8), R13
	VMOVUPD SI_(AX), Y11
	VMOVUPD NEGZERO(AX), Y12
	XORQ    CX, CX

probs1:
	VMOVUPD (SI)(CX*8), Y0
	VCMPPD  $0x01, LI(AX), Y0, Y2
	VANDNPD Y12, Y2, Y2
	VSUBPD  (DI)(CX*8), Y11, Y3
	VXORPD  Y2, Y3, Y3
	PROB1(Y3, Y6, Y5, Y7)
	VMOVUPD Y6, (BX)(CX*8)
	VMOVUPD Y5, (R13)(CX*8)
	ADDQ    $4, CX
	CMPQ    CX, DX
	JLT     probs1

	XORQ CX, CX

probs2:
	VMOVUPD (BX)(CX*8), Y6
	PROB2(Y6, (R13)(CX*8), Y7)
	VMOVUPD Y7, (BX)(CX*8)
	ADDQ    $4, CX
	CMPQ    CX, DX
	JLT     probs2
	VZEROUPPER
	RET
