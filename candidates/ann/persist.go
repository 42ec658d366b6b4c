package ann

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// HNSW file format, little-endian throughout:
//
//	magic    [8]byte  "CSCDHNSW"
//	version  uint32   hnswVersion
//	dim, n, m, efConstruction, efSearch, maxLevel uint32
//	entry    int32    -1 for an empty index
//	flags    uint32   bit 0: keepPrunedConnections
//	seed     uint64
//	upperLen uint64   number of int32 in the upper-layer slab
//	crc      uint32   CRC-32C of everything above
//	levels   [n]uint8
//	vectors  [n*dim]float32
//	links0   [n*(2m+1)]int32
//	upper    [upperLen]int32
//	crc      uint32   CRC-32C of the body (levels to upper)
//
// The header has its own checksum so that a corrupt size field is caught
// before it drives an allocation.
const (
	hnswMagic   = "CSCDHNSW"
	hnswVersion = 1
	headerSize  = 8 + 4 + 6*4 + 4 + 4 + 8 + 8

	maxFileDim = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the index in a versioned binary format with checksums; it
// implements io.WriterTo. Read it back with [ReadHNSW]. Nodes added by Add are written like
// the others; tombstones (Delete) are not.
func (h *HNSW) WriteTo(w io.Writer) (int64, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	e := &encoder{w: bufio.NewWriterSize(w, 1<<16), crc: crc32.New(castagnoli)}
	var flags uint32
	if h.keepPruned {
		flags |= 1
	}
	hdr := make([]byte, 0, headerSize+4)
	hdr = append(hdr, hnswMagic...)
	for _, v := range []uint32{hnswVersion, uint32(h.dim), uint32(h.n), uint32(h.m),
		uint32(h.efConstruction), uint32(h.EfSearch()), uint32(h.maxLevel), uint32(h.entry), flags} {
		hdr = binary.LittleEndian.AppendUint32(hdr, v)
	}
	hdr = binary.LittleEndian.AppendUint64(hdr, h.seed)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(h.upper)))
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
	e.raw(hdr)

	e.write(h.levels)
	putWords(e, h.vecs)
	putWords(e, h.links0)
	putWords(e, h.upper)
	e.raw(binary.LittleEndian.AppendUint32(nil, e.crc.Sum32()))
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if e.err != nil {
		return e.n, fmt.Errorf("ann: writing HNSW index: %w", e.err)
	}
	return e.n, nil
}

// ReadHNSW reads an index written by [HNSW.WriteTo]. Truncated, corrupt or
// inconsistent input yields an error wrapping [ErrFormat].
func ReadHNSW(r io.Reader) (*HNSW, error) {
	d := &decoder{r: bufio.NewReaderSize(r, 1<<16), crc: crc32.New(castagnoli)}
	hdr := make([]byte, headerSize+4)
	if err := d.raw(hdr); err != nil {
		return nil, err
	}
	if string(hdr[:8]) != hnswMagic {
		return nil, fmt.Errorf("%w: not an HNSW index (magic %q)", ErrFormat, hdr[:8])
	}
	le := binary.LittleEndian
	if v := le.Uint32(hdr[8:]); v != hnswVersion {
		return nil, fmt.Errorf("%w: unsupported version %d (want %d)", ErrFormat, v, hnswVersion)
	}
	if got, want := crc32.Checksum(hdr[:headerSize], castagnoli), le.Uint32(hdr[headerSize:]); got != want {
		return nil, fmt.Errorf("%w: header checksum mismatch", ErrFormat)
	}
	d.crc.Reset() // the body checksum starts after the header
	u := func(i int) uint32 { return le.Uint32(hdr[12+4*i:]) }
	dim, n, m, efc, efs, maxLevel := u(0), u(1), u(2), u(3), u(4), u(5)
	entry, flags := int32(u(6)), u(7)
	seed, upperLen := le.Uint64(hdr[44:]), le.Uint64(hdr[52:])
	if dim == 0 || dim > maxFileDim || n > math.MaxInt32 || m < 2 || m > 1<<15 ||
		efc == 0 || efs == 0 || maxLevel >= maxLevels || upperLen > math.MaxInt32 {
		return nil, fmt.Errorf("%w: header out of range (dim=%d n=%d m=%d efConstruction=%d efSearch=%d maxLevel=%d)",
			ErrFormat, dim, n, m, efc, efs, maxLevel)
	}

	h := &HNSW{
		rows:           rows{dim: int(dim), n: int(n)},
		m:              int(m),
		m0:             2 * int(m),
		efConstruction: int(efc),
		seed:           seed,
		keepPruned:     flags&1 != 0,
		entry:          entry,
		maxLevel:       int(maxLevel),
	}
	h.efSearch.Store(int64(efs))
	h.levels = make([]uint8, h.n)
	if err := d.raw(h.levels); err != nil {
		return nil, err
	}
	for i, l := range h.levels {
		if int(l) > h.maxLevel {
			return nil, fmt.Errorf("%w: node %d has level %d above the top level %d", ErrFormat, i, l, h.maxLevel)
		}
	}
	if err := h.allocLinks(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if uint64(len(h.upper)) != upperLen {
		return nil, fmt.Errorf("%w: upper layers hold %d links, levels imply %d", ErrFormat, upperLen, len(h.upper))
	}
	h.vecs = make([]float32, h.n*h.dim)
	if err := getWords(d, h.vecs); err != nil {
		return nil, err
	}
	if err := getWords(d, h.links0); err != nil {
		return nil, err
	}
	if err := getWords(d, h.upper); err != nil {
		return nil, err
	}
	sum := d.crc.Sum32()
	var tail [4]byte
	if err := d.raw(tail[:]); err != nil {
		return nil, err
	}
	if le.Uint32(tail[:]) != sum {
		return nil, fmt.Errorf("%w: body checksum mismatch", ErrFormat)
	}
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	h.pool.New = func() any { return h.newScratch() }
	return h, nil
}

// validate checks the invariants searches rely on, so that a file with a
// valid checksum but inconsistent contents cannot cause an out-of-range
// access later.
func (h *HNSW) validate() error {
	if h.n == 0 {
		if h.entry != -1 {
			return fmt.Errorf("empty index with entry point %d", h.entry)
		}
		return nil
	}
	if h.entry < 0 || int(h.entry) >= h.n || int(h.levels[h.entry]) != h.maxLevel {
		return fmt.Errorf("entry point %d is not a top-level node", h.entry)
	}
	for i, v := range h.vecs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("vector %d has a non-finite value", i/h.dim)
		}
	}
	for id := range int32(h.n) {
		for l := 0; l <= int(h.levels[id]); l++ {
			blk := h.block(id, l)
			if c := blk[0]; c < 0 || int(c) >= len(blk) {
				return fmt.Errorf("node %d layer %d: %d neighbours, at most %d allowed", id, l, c, len(blk)-1)
			}
			for _, nb := range blk[1 : 1+blk[0]] {
				if nb < 0 || int(nb) >= h.n || int(h.levels[nb]) < l {
					return fmt.Errorf("node %d layer %d: invalid neighbour %d", id, l, nb)
				}
			}
		}
	}
	return nil
}

// encoder writes little-endian values through a checksum; the first error
// sticks.
type encoder struct {
	w   *bufio.Writer
	crc hash.Hash32
	n   int64
	err error
	buf []byte
}

func (e *encoder) raw(p []byte) {
	if e.err != nil {
		return
	}
	var k int
	k, e.err = e.w.Write(p)
	e.n += int64(k)
}

func (e *encoder) write(p []byte) {
	e.crc.Write(p)
	e.raw(p)
}

const chunk = 1 << 14 // values converted per write

// putWords writes v in little-endian order, chunk values at a time.
func putWords[T float32 | int32](e *encoder, v []T) {
	for len(v) > 0 && e.err == nil {
		c := v[:min(chunk, len(v))]
		e.buf, _ = binary.Append(e.buf[:0], binary.LittleEndian, c) // fails only for types T excludes
		e.write(e.buf)
		v = v[len(c):]
	}
}

// decoder reads little-endian values through a checksum; io.EOF and
// io.ErrUnexpectedEOF become truncation errors.
type decoder struct {
	r   *bufio.Reader
	crc hash.Hash32
	buf []byte
}

func (d *decoder) raw(p []byte) error {
	if _, err := io.ReadFull(d.r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: truncated: %w", ErrFormat, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("ann: reading HNSW index: %w", err)
	}
	d.crc.Write(p)
	return nil
}

func (d *decoder) words(n int) ([]byte, error) {
	if cap(d.buf) < 4*n {
		d.buf = make([]byte, 4*chunk)
	}
	b := d.buf[:4*n]
	return b, d.raw(b)
}

// getWords fills v with little-endian values, chunk at a time.
func getWords[T float32 | int32](d *decoder, v []T) error {
	for len(v) > 0 {
		c := v[:min(chunk, len(v))]
		b, err := d.words(len(c))
		if err != nil {
			return err
		}
		if _, err := binary.Decode(b, binary.LittleEndian, c); err != nil {
			return fmt.Errorf("ann: reading HNSW index: %w", err)
		}
		v = v[len(c):]
	}
	return nil
}
