//go:build !purego

package attention

import "github.com/cascade-rec/cascade/internal/kernel"

var haveAVX2 = kernel.HaveAVX2FMA

// reluDotAVX2 is reluDot for A a positive multiple of 8: rows rows of z, A apart.
//
//go:noescape
func reluDotAVX2(z *float32, rows, A int, w *float32, b float32, out *float32)
