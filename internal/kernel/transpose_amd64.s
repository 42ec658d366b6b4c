//go:build !purego

#include "textflag.h"

// func transpose8(src *float32, lds int, dst *float32, ldd int, rb, cb int)
//
// For each 8×8 block: load its eight rows, interleave pairs of rows (VUNPCKLPS/VUNPCKHPS), then
// pairs of pairs (VSHUFPS), then swap 128-bit halves (VPERM2F128), and store the eight columns.
TEXT ·transpose8(SB), NOSPLIT, $0-48
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), R9
	SHLQ $2, R9
	MOVQ rb+32(FP), R10
	LEAQ (R8)(R8*2), R12 // 3·lds bytes
	LEAQ (R9)(R9*2), R13 // 3·ldd bytes

rowblk:
	MOVQ SI, AX  // source block
	MOVQ DI, BX  // destination block
	MOVQ cb+40(FP), CX

colblk:
	LEAQ    (AX)(R8*4), DX
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(R8*1), Y1
	VMOVUPS (AX)(R8*2), Y2
	VMOVUPS (AX)(R12*1), Y3
	VMOVUPS (DX), Y4
	VMOVUPS (DX)(R8*1), Y5
	VMOVUPS (DX)(R8*2), Y6
	VMOVUPS (DX)(R12*1), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	LEAQ    (BX)(R9*4), DX
	VMOVUPS Y8, (BX)
	VMOVUPS Y9, (BX)(R9*1)
	VMOVUPS Y10, (BX)(R9*2)
	VMOVUPS Y11, (BX)(R13*1)
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, (DX)(R9*1)
	VMOVUPS Y14, (DX)(R9*2)
	VMOVUPS Y15, (DX)(R13*1)

	ADDQ $32, AX        // next 8 columns of src
	LEAQ (BX)(R9*8), BX // next 8 rows of dst
	DECQ CX
	JNE  colblk

	LEAQ (SI)(R8*8), SI // next 8 rows of src
	ADDQ $32, DI        // next 8 columns of dst
	DECQ R10
	JNE  rowblk

	VZEROUPPER
	RET
