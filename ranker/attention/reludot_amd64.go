//go:build !purego

package attention

import "golang.org/x/sys/cpu"

var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// reluDotAVX2 is reluDot for A a positive multiple of 8: rows rows of z, A apart.
//
//go:noescape
func reluDotAVX2(z *float32, rows, A int, w *float32, b float32, out *float32)
