package kernel

// ReLUBack32 sets dx[i] = dy[i] where y[i] > 0, else 0 (dx may alias dy): the backward pass of
// ReLU. The loop's data-dependent branch mispredicts on activations that are half positive; the
// assembly masks eight at a time instead and stores the same bits.
func ReLUBack32(y, dy, dx []float32) {
	n := len(y)
	dy, dx = dy[:n], dx[:n]
	i := 0
	if HaveAVX2FMA && n >= 8 {
		i = n &^ 7
		reluBack8(&y[0], &dy[0], &dx[0], i)
	}
	for ; i < n; i++ {
		if y[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// AddRows32 adds each of the rows of the row-major matrix a (row stride lda) to y[:cols] in row
// order: the bias gradient of a dense layer, Σ over a batch of dy rows. Each y[j] sees the same
// additions in the same order as one Axpy per row, so the bits match, while the assembly keeps
// a block of y in registers across the rows instead of loading and storing it for each row.
func AddRows32(y, a []float32, rows, cols, lda int) {
	if rows == 0 || cols == 0 {
		return
	}
	_ = a[(rows-1)*lda+cols-1]
	y = y[:cols]
	j := 0
	if HaveAVX2FMA && cols >= 8 {
		j = cols &^ 7
		addRows8(&y[0], &a[0], rows, j, lda)
	}
	for ; j < cols; j++ {
		s := y[j]
		for r := range rows {
			s += a[r*lda+j]
		}
		y[j] = s
	}
}
